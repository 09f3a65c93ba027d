"""Buttons and menus in the members list and in the audit channel (block_actions)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies, requester
from bot.blocks.members import build_change_message, build_members_message
from bot.blocks.review import build_review_modal
from bot.deadline import within_budget
from bot.listeners import forms
from bot.parsing import UsageError
from bot.responder import Responder
from bot.services import Services
from handlers.errors import InvalidInput
from handlers.listing import (
    ListMembers,
    list_members,
)
from handlers.members import ChangeRole, change_role
from handlers.removals import get_removal_request
from handlers.validation import parse as build

Body = dict[str, Any]


def _hint(text: str, parts: int) -> list[str]:
    """Split a button/menu value; it came from our own message but is only a hint."""
    pieces = text.split("|")
    if len(pieces) != parts:
        raise InvalidInput({"value": "That button is out of date. Run the command again."})
    return pieces


def _user_id(text: str) -> int:
    if not text.isdigit():
        raise InvalidInput({"value": "That button is out of date. Run the command again."})
    return int(text)


class ActionRequest:
    def __init__(self, services: Services, client: AsyncWebClient, body: Body) -> None:
        self.services = services
        self.client = client
        self.body = body
        self.team_id: str = (body.get("team") or {}).get("id") or body["user"]["team_id"]
        self.user_id: str = body["user"]["id"]
        self.channel_id: str | None = (body.get("channel") or {}).get("id") or (
            body.get("container") or {}
        ).get("channel_id")
        self.trigger_id: str | None = body.get("trigger_id")
        self.action: dict[str, Any] = body["actions"][0]

    async def actor_in(self, slug: str):
        # The slug came from a button: resolve_request refuses one not bound to this workspace.
        ctx = await requester.resolve(
            self.services, self.client, self.team_id, self.user_id, org=slug
        )
        return ctx.actor(self.user_id, self.channel_id)

    async def open_modal(self, view: dict[str, Any]) -> None:
        await self.client.views_open(trigger_id=self.trigger_id, view=view)


async def _role_selected(req: ActionRequest, respond: Responder) -> None:
    slug, user_id, role = _hint(req.action["selected_option"]["value"], 3)
    actor = await req.actor_in(slug)
    change = await change_role(
        req.services.uow(),
        actor,
        build(ChangeRole, organization=slug, member=_user_id(user_id), role=role),
    )
    await respond(
        **replies.message(build_change_message(change, "role_changed")), replace_original=False
    )


async def _remove_clicked(req: ActionRequest, respond: Responder) -> None:
    slug, user_id = _hint(req.action["value"], 2)
    actor = await req.actor_in(slug)
    await forms.open_remove_form(
        req.services, req.client, req.trigger_id, actor, slug, _user_id(user_id)
    )


async def _page(req: ActionRequest, respond: Responder) -> None:
    try:
        cursor = json.loads(req.action["value"])
        slug = str(cursor["org"])
    except (ValueError, KeyError, TypeError):
        raise UsageError("members", "That button is out of date.") from None
    actor = await req.actor_in(slug)
    page = await list_members(
        req.services.uow(),
        actor,
        build(
            ListMembers,
            organization=slug,
            query=cursor.get("q"),
            after=cursor.get("after"),
            before=cursor.get("before"),
        ),
    )
    await respond(**replies.message(build_members_message(page)), replace_original=True)


async def _open_invite(req: ActionRequest, respond: Responder) -> None:
    slug = req.action["value"]
    actor = await req.actor_in(slug)
    await forms.open_invite_form(req.services, req.client, req.trigger_id, actor, slug)


async def _open_create(req: ActionRequest, respond: Responder) -> None:
    slug = req.action["value"]
    actor = await req.actor_in(slug)
    await forms.open_create_form(req.services, req.client, req.trigger_id, actor, slug)


async def _review(req: ActionRequest, respond: Responder) -> None:
    ctx = await requester.resolve(
        req.services, req.client, req.team_id, req.user_id, need_org=False
    )
    actor = ctx.actor(req.user_id, req.channel_id)
    request = await get_removal_request(req.services.uow(), actor, _user_id(req.action["value"]))
    await req.open_modal(build_review_modal(request))


HANDLERS = {
    "member_role": _role_selected,
    "member_remove": _remove_clicked,
    "members_next": _page,
    "members_prev": _page,
    "open_invite": _open_invite,
    "open_create": _open_create,
    "removal_review": _review,
}


async def _tell(req: ActionRequest, respond: Responder, reply: dict[str, Any]) -> None:
    """Show an error to the one who clicked: in place for messages, as a DM-free ephemeral else."""
    if req.body.get("response_url"):
        await respond(**reply, replace_original=False)
    elif req.channel_id:
        await req.client.chat_postEphemeral(
            channel=req.channel_id, user=req.user_id, text=reply["text"]
        )


def register(app: AsyncApp, services: Services) -> None:
    for action_id, handler in HANDLERS.items():
        app.action(action_id)(_listener(services, handler))


def _listener(services: Services, handler):
    async def listener(ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        await ack()
        req = ActionRequest(services, client, body)
        respond = Responder(client.session, body.get("response_url"))

        async def work() -> None:
            try:
                await handler(req, respond)
            except Exception as exc:
                await _tell(req, respond, replies.for_error(exc))

        # The reply goes through response_url or the Web API either way; past the budget the
        # listener returns so Slack gets its acknowledgement, and the work finishes behind it.
        await within_budget(
            work(),
            background=services.background,
            on_time=_nothing,
            overrun=_nothing_yet,
            late=_nothing,
        )

    return listener


async def _nothing(_: None) -> None:
    return None


async def _nothing_yet() -> None:
    return None
