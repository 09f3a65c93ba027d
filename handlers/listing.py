"""Read-side use cases for Admins: the members list, one keyset page at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import Field

from handlers.access import authorize_admin, find_member, find_organization
from handlers.actor import Actor
from handlers.members import check_removal_allowed
from handlers.roles import Role
from handlers.validation import Command, Email, Slug
from storage.uow import UnitOfWork

MAX_PAGE = 20


class ListMembers(Command):
    organization: Slug
    query: str | None = Field(default=None, max_length=100)
    # Keyset cursors: the email the page starts after, or ends before (for Previous).
    after: str | None = None
    before: str | None = None
    limit: int = Field(default=10, ge=1, le=MAX_PAGE)


@dataclass(frozen=True)
class MemberView:
    user_id: int
    email: str
    name: str
    role: Role


@dataclass(frozen=True)
class MembersPage:
    organization: str
    organization_slug: str
    query: str | None
    members: list[MemberView]
    total: int
    has_next: bool
    has_previous: bool

    @property
    def next_cursor(self) -> str | None:
        return self.members[-1].email if self.has_next and self.members else None

    @property
    def previous_cursor(self) -> str | None:
        return self.members[0].email if self.has_previous and self.members else None


async def list_members(uow: UnitOfWork, actor: Actor, cmd: ListMembers) -> MembersPage:
    async with uow:
        org = await find_organization(uow, cmd.organization)
        await authorize_admin(uow, actor, org)
        query = cmd.query.strip() if cmd.query else None
        rows = await uow.memberships.page(
            org.id,
            query=query,
            after_email=cmd.after,
            before_email=cmd.before,
            limit=cmd.limit,
        )
        if rows:
            has_next = await uow.memberships.exists_beyond(
                org.id, query, rows[-1].email, forward=True
            )
            # The first page (no cursor) starts at the beginning: nothing comes before it.
            has_previous = (cmd.after is not None or cmd.before is not None) and (
                await uow.memberships.exists_beyond(org.id, query, rows[0].email, forward=False)
            )
        else:
            has_next = has_previous = False
        return MembersPage(
            organization=org.name,
            organization_slug=org.slug,
            query=query,
            members=[MemberView(r.user_id, r.email, r.name, Role(r.role)) for r in rows],
            total=org.member_count,
            has_next=has_next,
            has_previous=has_previous,
        )


async def all_members(uow: UnitOfWork, actor: Actor, slug: str) -> AsyncIterator[MemberView]:
    """Every member ordered by email, streamed in keyset batches (for export and the CLI)."""
    async with uow:
        org = await find_organization(uow, slug)
        await authorize_admin(uow, actor, org)
        async for r in uow.memberships.stream(org.id):
            yield MemberView(r.user_id, r.email, r.name, Role(r.role))


class GetMember(Command):
    organization: Slug
    member: Email | int


@dataclass(frozen=True)
class MemberDetail:
    organization: str
    organization_slug: str
    removal_approvals: int
    member: MemberView


async def get_member(
    uow: UnitOfWork, actor: Actor, cmd: GetMember, *, to_remove: bool = False
) -> MemberDetail:
    """One member, for a confirmation dialog. Admin only.

    With `to_remove`, a removal the rules would refuse (yourself, the last Admin) is refused
    now, before the confirmation opens; the removal itself checks again under the lock.
    """
    async with uow:
        org = await find_organization(uow, cmd.organization)
        await authorize_admin(uow, actor, org)
        user, membership = await find_member(uow, org, cmd.member)
        if to_remove:
            await check_removal_allowed(uow, org, actor, user, membership)
        view = MemberView(user.id, user.email, user.name, Role(membership.role))
        return MemberDetail(org.name, org.slug, org.removal_approvals, view)


class CheckAdmin(Command):
    organization: Slug


async def check_admin(uow: UnitOfWork, actor: Actor, cmd: CheckAdmin) -> str:
    """Refuse early (before opening a form) when the actor is not an Admin; returns org name."""
    async with uow:
        org = await find_organization(uow, cmd.organization)
        await authorize_admin(uow, actor, org)
        return org.name
