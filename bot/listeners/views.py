"""Modal submissions: invite, create user, remove, review a removal request."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies, requester
from bot.blocks.modals import build_result_modal
from bot.blocks.review import build_review_done_modal
from bot.deadline import within_budget
from bot.services import Services
from handlers.errors import InvalidInput
from handlers.members import CreateUser, InviteMember, create_user, invite_member
from handlers.removals import (
    RemovalRequested,
    RemoveOrRequest,
    ResolveRemoval,
    remove_or_request,
    resolve_removal,
)
from handlers.validation import parse as build

Body = dict[str, Any]
Outcome = dict[str, Any]


class Submission:
    def __init__(self, services: Services, client: AsyncWebClient, body: Body) -> None:
        self.services = services
        self.client = client
        self.view: dict[str, Any] = body["view"]
        self.team_id: str = (body.get("team") or {}).get("id") or body["user"]["team_id"]
        self.user_id: str = body["user"]["id"]
        try:
            self.metadata: dict[str, Any] = json.loads(self.view.get("private_metadata") or "{}")
        except ValueError:
            self.metadata = {}
        self.values: dict[str, dict[str, Any]] = self.view.get("state", {}).get("values", {})

    def text(self, block_id: str) -> str | None:
        element = self.values.get(block_id, {}).get("value", {})
        return element.get("value")

    def selected(self, block_id: str) -> str | None:
        option = self.values.get(block_id, {}).get("value", {}).get("selected_option")
        return option.get("value") if option else None

    @property
    def input_blocks(self) -> set[str]:
        return set(self.values)

    async def actor(self, slug: str | None):
        ctx = await requester.resolve(
            self.services,
            self.client,
            self.team_id,
            self.user_id,
            org=slug,
            need_org=slug is not None,
        )
        return ctx.actor(self.user_id)


def _done(title: str, text: str) -> Outcome:
    return {"response_action": "update", "view": build_result_modal(title, text)}


def _slug(sub: Submission) -> str:
    slug = sub.metadata.get("org")
    if not isinstance(slug, str):
        raise InvalidInput({"organization": "This form is out of date. Open it again."})
    return slug


async def _invite(sub: Submission) -> Outcome:
    slug = _slug(sub)
    cmd = build(InviteMember, organization=slug, email=sub.text("email"), role=sub.selected("role"))
    change = await invite_member(sub.services.uow(), await sub.actor(slug), cmd)
    return _done(
        "Member invited",
        f"{change.name} ({change.email}) is now "
        f"{change.role_after.label} in {change.organization}.",
    )


async def _create(sub: Submission) -> Outcome:
    slug = _slug(sub)
    password = sub.text("password")
    cmd = build(
        CreateUser,
        organization=slug,
        name=sub.text("name"),
        email=sub.text("email"),
        password=SecretStr(password) if password is not None else None,
        role=sub.selected("role"),
    )
    change = await create_user(sub.services.uow(), await sub.actor(slug), cmd)
    return _done(
        "User created",
        f"Created the account {change.email} ({change.name}) and "
        f"added it to {change.organization} as "
        f"{change.role_after.label}.",
    )


async def _remove(sub: Submission) -> Outcome:
    slug = _slug(sub)
    user_id = sub.metadata.get("user_id")
    if not isinstance(user_id, int):
        raise InvalidInput({"member": "This form is out of date. Open it again."})
    result = await remove_or_request(
        sub.services.uow(),
        await sub.actor(slug),
        build(RemoveOrRequest, organization=slug, member=user_id),
    )
    if isinstance(result, RemovalRequested):
        return _done(
            "Removal requested",
            f"A second Admin of {result.organization} must approve removing "
            f"{result.name} ({result.email}). The request is in the audit channel and "
            "expires in 24 hours; you will hear the outcome.",
        )
    return _done(
        "Member removed",
        f"{result.name} ({result.email}) no longer has access to {result.organization}. "
        "The account is kept and can be re-invited.",
    )


async def _review(sub: Submission) -> Outcome:
    request_id = sub.metadata.get("request_id")
    if not isinstance(request_id, int):
        raise InvalidInput({"decision": "This form is out of date. Open it again."})
    decision = sub.selected("decision")
    if decision not in ("approve", "reject"):
        raise InvalidInput({"decision": "Choose whether to approve or reject."})
    cmd = build(
        ResolveRemoval,
        request_id=request_id,
        approve=decision == "approve",
        reason=sub.text("reason"),
    )
    resolution = await resolve_removal(sub.services.uow(), await sub.actor(None), cmd)
    return {"response_action": "update", "view": build_review_done_modal(resolution)}


CALLBACKS: dict[str, Callable[[Submission], Awaitable[Outcome]]] = {
    "invite_member": _invite,
    "create_user": _create,
    "remove_member": _remove,
    "review_removal": _review,
}


async def _run(sub: Submission, handler: Callable[[Submission], Awaitable[Outcome]]) -> Outcome:
    try:
        return await handler(sub)
    except Exception as exc:
        inline = replies.modal_response(exc, sub.input_blocks)
        if inline is not None:
            return inline
        return _done("Not done", replies.for_error(exc)["text"])


def register(app: AsyncApp, services: Services) -> None:
    for callback_id, handler in CALLBACKS.items():
        app.view(callback_id)(_listener(services, handler))


def _listener(services: Services, handler):
    async def listener(ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        sub = Submission(services, client, body)

        async def on_time(outcome: Outcome) -> None:
            await ack(**outcome)

        async def overrun() -> None:
            await ack(
                response_action="update",
                view=build_result_modal("Working on it", "This is taking a moment…"),
            )

        async def late(outcome: Outcome) -> None:
            # The form was already replaced by "Working on it", so field errors can no longer
            # sit under their inputs: show them as the result instead.
            if outcome.get("response_action") == "errors":
                problems = " ".join(outcome["errors"].values())
                outcome = _done("Not done", f"{problems} Nothing was changed; open the form again.")
            await client.views_update(view_id=sub.view["id"], view=outcome["view"])

        await within_budget(
            _run(sub, handler),
            background=services.background,
            on_time=on_time,
            overrun=overrun,
            late=late,
        )

    return listener
