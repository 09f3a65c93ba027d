"""Who is asking from chat, and for which organization.

A chat workspace (Slack team) is bound to organizations by the operator. A chat user becomes a
MineSync account through a stored link, made once from the verified email on their profile;
a display name or anything typed in a message is never trusted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.access import find_organization
from handlers.actor import Actor
from handlers.errors import DomainError, NotFound, PermissionDenied
from handlers.roles import Role
from storage.errors import ConflictError
from storage.models import SlackUserLink
from storage.uow import UnitOfWork

EmailLookup = Callable[[], Awaitable[str | None]]


class WorkspaceNotBound(PermissionDenied):
    code = "workspace_not_bound"


class UnknownCaller(PermissionDenied):
    code = "unknown_caller"


class ChooseOrganization(DomainError):
    """Several organizations fit; the caller must pick one."""

    code = "choose_organization"

    def __init__(self, message: str, options: list[tuple[str, str]]) -> None:
        super().__init__(message, field="organization")
        self.options = options


@dataclass(frozen=True)
class Caller:
    user_id: int
    email: str
    name: str


@dataclass(frozen=True)
class OrgMembership:
    slug: str
    name: str
    role: Role
    is_default: bool


@dataclass(frozen=True)
class RequestContext:
    """Who is asking and, when one could be chosen, the organization they act on."""

    caller: Caller
    team_id: str
    organizations: list[OrgMembership]
    organization: OrgMembership | None

    def actor(self, slack_user_id: str, channel_id: str | None = None) -> Actor:
        context = {"team_id": self.team_id, "user_id": slack_user_id}
        if channel_id:
            context["channel_id"] = channel_id
        return Actor.member(self.caller.user_id, self.caller.email, source="slack", context=context)

    @property
    def is_admin(self) -> bool:
        return self.organization is not None and self.organization.role is Role.ADMIN


async def resolve_request(
    uow: UnitOfWork,
    team_id: str,
    chat_user_id: str,
    *,
    email_lookup: EmailLookup,
    requested_org: str | None = None,
    need_org: bool = True,
) -> RequestContext:
    """Resolve the caller and their organization; raises a DomainError a person can act on.

    `email_lookup` asks the chat platform for the caller's verified email; it runs only when no
    link is stored yet, and never inside a database transaction.
    """
    async with uow:
        bound = await uow.slack.bound_org_ids(team_id)
        if not bound:
            raise WorkspaceNotBound(
                "This Slack workspace is not connected to any MineSync organization yet. "
                f"An operator can connect one with `minesync-bot workspace bind {team_id} ORG`."
            )
        link = await uow.slack.link(team_id, chat_user_id)
        if link is not None:
            # The usual case, in one transaction: every command starts here.
            return await _context(uow, team_id, link, bound, requested_org, need_org)
    link = await _link_by_email(uow, team_id, chat_user_id, await email_lookup())
    async with uow:
        return await _context(uow, team_id, link, bound, requested_org, need_org)


async def _context(
    uow: UnitOfWork,
    team_id: str,
    link: SlackUserLink,
    bound: set[int],
    requested_org: str | None,
    need_org: bool,
) -> RequestContext:
    user = await uow.users.get(link.user_id)
    assert user is not None  # links cascade with their account
    caller = Caller(user.id, user.email, user.name)
    memberships = [
        OrgMembership(org.slug, org.name, Role(role), org.id == link.default_org_id)
        for org, role in await uow.memberships.for_user(user.id)
        if org.id in bound
    ]
    chosen = None
    if requested_org is not None:
        org = await find_organization(uow, requested_org)
        if org.id not in bound:
            raise PermissionDenied(
                f"{org.name} is not connected to this Slack workspace, so it cannot be "
                "managed from here."
            )
        chosen = next((m for m in memberships if m.slug == org.slug), None)
        if chosen is None:
            raise PermissionDenied(f"You are not a member of {org.name}.")
    elif need_org:
        chosen = _default_or_only(memberships)
    return RequestContext(caller, team_id, memberships, chosen)


def _default_or_only(memberships: list[OrgMembership]) -> OrgMembership:
    if not memberships:
        raise PermissionDenied(
            "You are not a member of any MineSync organization connected to this workspace."
        )
    default = next((m for m in memberships if m.is_default), None)
    if default is not None:
        return default
    if len(memberships) == 1:
        return memberships[0]
    slugs = ", ".join(m.slug for m in memberships)
    raise ChooseOrganization(
        f"You belong to several organizations here ({slugs}). Add `--org SLUG` to the command, "
        "or set a default with `/minesync org use SLUG`.",
        [(m.slug, m.name) for m in memberships],
    )


async def _link_by_email(
    uow: UnitOfWork, team_id: str, chat_user_id: str, email: str | None
) -> SlackUserLink:
    if not email:
        raise UnknownCaller(
            "I can't tell which MineSync account is yours: your Slack profile shows no email "
            "address to me. Ask an operator to check the app's users:read.email scope."
        )
    async with uow:
        user = await uow.users.get_by_email(email)
        if user is None:
            raise UnknownCaller(
                f"No MineSync account uses {email.lower()}, the email on your Slack profile, "
                "so I can't tell who you are in MineSync."
            )
        link = await uow.slack.link(team_id, chat_user_id)
        if link is not None:
            return link
        link = SlackUserLink(team_id=team_id, slack_user_id=chat_user_id, user_id=user.id)
        uow.slack.add_link(link)
        try:
            await uow.commit()
            return link
        except ConflictError:
            pass  # a concurrent first request (on another replica, say) linked them first
    async with uow:
        linked = await uow.slack.link(team_id, chat_user_id)
        assert linked is not None  # links are only removed with their account
        return linked


async def find_linked_account(uow: UnitOfWork, team_id: str, chat_user_id: str) -> Caller | None:
    """The MineSync account a chat user is linked to, if a link exists (for @mentions)."""
    async with uow:
        link = await uow.slack.link(team_id, chat_user_id)
        if link is None:
            return None
        user = await uow.users.get(link.user_id)
        return Caller(user.id, user.email, user.name) if user else None


async def use_organization(
    uow: UnitOfWork, team_id: str, chat_user_id: str, slug: str
) -> OrgMembership:
    """Make `slug` the caller's default organization in this workspace."""
    async with uow:
        link = await uow.slack.link(team_id, chat_user_id)
        if link is None:
            raise NotFound("Run any /minesync command first so I can link your account.")
        org = await find_organization(uow, slug)
        if not await uow.slack.is_bound(team_id, org.id):
            raise PermissionDenied(f"{org.name} is not connected to this Slack workspace.")
        membership = await uow.memberships.get(org.id, link.user_id)
        if membership is None:
            raise PermissionDenied(f"You are not a member of {org.name}.")
        link.default_org_id = org.id
        await uow.commit()
        return OrgMembership(org.slug, org.name, Role(membership.role), True)
