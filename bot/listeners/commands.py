"""The `/minesync` slash command: parse, resolve who is asking, call one use case, render."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies, requester
from bot.blocks.audit_log import build_audit_message
from bot.blocks.help import build_help_message
from bot.blocks.members import build_change_message, build_members_message
from bot.blocks.orgs import build_orgs_message
from bot.deadline import within_budget
from bot.listeners import forms
from bot.parsing import Parsed, UsageError, channel_id, member_ref, parse
from bot.responder import Responder
from bot.services import Services
from handlers import identity
from handlers.audit_queries import ReadAudit, read_audit
from handlers.identity import RequestContext
from handlers.listing import (
    ListMembers,
    list_members,
)
from handlers.members import (
    ChangeRole,
    InviteMember,
    change_role,
    invite_member,
)
from handlers.organizations import ConfigureOrganization, configure_organization
from handlers.validation import parse as build

Reply = dict[str, Any]


class CommandRequest:
    """One slash command invocation and what its subcommand handlers need."""

    def __init__(self, services: Services, client: AsyncWebClient, body: dict[str, Any]) -> None:
        self.services = services
        self.client = client
        self.team_id: str = body["team_id"]
        self.user_id: str = body["user_id"]
        self.channel_id: str | None = body.get("channel_id")
        self.trigger_id: str | None = body.get("trigger_id")
        self.text: str = body.get("text") or ""

    async def context(self, parsed: Parsed, *, need_org: bool = True) -> RequestContext:
        return await requester.resolve(
            self.services,
            self.client,
            self.team_id,
            self.user_id,
            org=parsed.org,
            need_org=need_org,
        )

    async def admin_context(self, parsed: Parsed) -> tuple[RequestContext, str]:
        ctx = await self.context(parsed)
        assert ctx.organization is not None
        return ctx, ctx.organization.slug

    def actor(self, ctx: RequestContext):
        return ctx.actor(self.user_id, self.channel_id)


async def _help(req: CommandRequest, parsed: Parsed) -> Reply:
    ctx = await req.context(parsed, need_org=False)
    chosen = ctx.organization
    if chosen is not None:
        is_admin, org_name = ctx.is_admin, chosen.name
    else:
        is_admin = any(m.role == "admin" for m in ctx.organizations)
        org_name = ctx.organizations[0].name if len(ctx.organizations) == 1 else None
    return replies.message(build_help_message(is_admin=is_admin, org_name=org_name))


async def _members(req: CommandRequest, parsed: Parsed) -> Reply:
    ctx, slug = await req.admin_context(parsed)
    query = " ".join(parsed.args) or None
    page = await list_members(
        req.services.uow(), req.actor(ctx), build(ListMembers, organization=slug, query=query)
    )
    return replies.message(build_members_message(page))


async def _invite(req: CommandRequest, parsed: Parsed) -> Reply:
    ctx, slug = await req.admin_context(parsed)
    if not parsed.args:
        await forms.open_invite_form(req.services, req.client, req.trigger_id, req.actor(ctx), slug)
        return {}
    if len(parsed.args) != 2:
        raise UsageError("invite", "`invite` takes an email and a role, or nothing for a form.")
    email = member_ref(parsed.args[0]).email
    if email is None:
        raise UsageError("invite", "Invite by email address, not by @mention.")
    change = await invite_member(
        req.services.uow(),
        req.actor(ctx),
        build(InviteMember, organization=slug, email=email, role=parsed.args[1]),
    )
    return replies.message(build_change_message(change, "invited"))


async def _create(req: CommandRequest, parsed: Parsed) -> Reply:
    if parsed.args:
        # A password typed into a slash command would sit in the channel's history and logs.
        raise UsageError(
            "create",
            "`create` opens a form; don't type the details (or a password) into the command.",
        )
    ctx, slug = await req.admin_context(parsed)
    await forms.open_create_form(req.services, req.client, req.trigger_id, req.actor(ctx), slug)
    return {}


async def _role(req: CommandRequest, parsed: Parsed) -> Reply:
    if len(parsed.args) != 2:
        raise UsageError("role", "`role` takes a member and a role.")
    ctx, slug = await req.admin_context(parsed)
    member = await requester.member_key(
        req.services, req.client, req.team_id, member_ref(parsed.args[0])
    )
    change = await change_role(
        req.services.uow(),
        req.actor(ctx),
        build(ChangeRole, organization=slug, member=member, role=parsed.args[1]),
    )
    return replies.message(build_change_message(change, "role_changed"))


async def _remove(req: CommandRequest, parsed: Parsed) -> Reply:
    if len(parsed.args) != 1:
        raise UsageError("remove", "`remove` takes one member.")
    ctx, slug = await req.admin_context(parsed)
    member = await requester.member_key(
        req.services, req.client, req.team_id, member_ref(parsed.args[0])
    )
    await forms.open_remove_form(
        req.services, req.client, req.trigger_id, req.actor(ctx), slug, member
    )
    return {}


async def _audit(req: CommandRequest, parsed: Parsed) -> Reply:
    if len(parsed.args) > 1 or (parsed.args and not parsed.args[0].isdigit()):
        raise UsageError("audit", "`audit` takes at most one number.")
    ctx, slug = await req.admin_context(parsed)
    limit = int(parsed.args[0]) if parsed.args else 10
    recent = await read_audit(
        req.services.uow(), req.actor(ctx), build(ReadAudit, organization=slug, limit=limit)
    )
    return replies.message(build_audit_message(recent))


async def _orgs(req: CommandRequest, parsed: Parsed) -> Reply:
    ctx = await req.context(parsed, need_org=False)
    rows = [(m.slug, m.name, m.role, m.is_default) for m in ctx.organizations]
    return replies.message(build_orgs_message(rows))


async def _org(req: CommandRequest, parsed: Parsed) -> Reply:
    if len(parsed.args) != 2 or parsed.args[0].lower() != "use":
        raise UsageError("org", "Use `org use SLUG` to pick your default organization.")
    await req.context(parsed, need_org=False)  # links the caller's account if needed
    chosen = await identity.use_organization(
        req.services.uow(), req.team_id, req.user_id, parsed.args[1]
    )
    return replies.ephemeral(
        f"Your default organization in this workspace is now *{chosen.name}* "
        f"(you are {chosen.role.label} there)."
    )


async def _config(req: CommandRequest, parsed: Parsed) -> Reply:
    if len(parsed.args) != 2:
        raise UsageError("config", "`config` takes a setting and a value.")
    setting, value = parsed.args[0].lower(), parsed.args[1]
    if setting == "audit-channel":
        channel = channel_id(value)
        if channel is None:
            raise UsageError("config", f"{value!r} is not a channel. Pick one with #.")
        fields: dict[str, Any] = {"audit_channel": channel}
    elif setting == "removal-approvals":
        if value not in ("1", "2"):
            raise UsageError("config", "Removal approvals must be 1 or 2.")
        fields = {"removal_approvals": int(value)}
    else:
        raise UsageError("config", f"There is no setting {setting!r}.")
    ctx, slug = await req.admin_context(parsed)
    org = await configure_organization(
        req.services.uow(),
        req.actor(ctx),
        build(ConfigureOrganization, organization=slug, **fields),
    )
    if "audit_channel" in fields:
        return replies.ephemeral(
            f"Audit summaries of *{org.name}* now go to <#{org.audit_channel_id}>."
        )
    needs = (
        "a second Admin must approve each removal"
        if org.removal_approvals == 2
        else ("an Admin's confirmation is enough to remove a member")
    )
    return replies.ephemeral(f"In *{org.name}*, {needs}.")


SUBCOMMANDS: dict[str, Callable[[CommandRequest, Parsed], Awaitable[Reply]]] = {
    "help": _help,
    "members": _members,
    "invite": _invite,
    "create": _create,
    "role": _role,
    "remove": _remove,
    "audit": _audit,
    "orgs": _orgs,
    "org": _org,
    "config": _config,
}


async def _run(req: CommandRequest) -> Reply:
    try:
        parsed = parse(req.text)
        return await SUBCOMMANDS[parsed.subcommand](req, parsed)
    except Exception as exc:
        return replies.for_error(exc)


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/minesync")
    async def minesync_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        req = CommandRequest(services, client, body)
        respond = Responder(client.session, body.get("response_url"))

        async def on_time(reply: Reply) -> None:
            await ack(**reply) if reply else await ack()

        async def overrun() -> None:
            await ack(response_type="ephemeral", text="Working on it…")

        async def late(reply: Reply) -> None:
            if reply:
                await respond(**reply, replace_original=True)

        await within_budget(
            _run(req), background=services.background, on_time=on_time, overrun=overrun, late=late
        )
