"""The sandbox's page and the small JSON + Server-Sent-Events API it uses.

The page shows what the chosen person sees in the sandbox's Slack workspace (a snapshot from
GET /api/state), and acts through SlackUI, which sends the bot exactly what Slack would. Every
change in the FakeSlack is announced on GET /api/events, and the page fetches a new snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web

from handlers.actor import Actor
from handlers.listing import all_members
from handlers.organizations import get_organization
from handlers.ports import UnitOfWorkFactory
from sandbox import demo
from slackfake import Change, FakeSlack, SlackUI
from slackfake.ui import NotFound, Outcome

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
KEEPALIVE_SECONDS = 15.0
MAX_COMMAND = 4000


@dataclass
class Typed:
    """A command as its author typed it; Slack shows nobody, so only they see it here."""

    ts: str
    user_id: str
    channel_id: str
    text: str


@dataclass
class PageState:
    """What the sandbox remembers besides Slack's own state: the commands people typed."""

    typed: list[Typed] = field(default_factory=list)
    version: int = 0
    listeners: set[asyncio.Queue[JsonDict]] = field(default_factory=set)


def build_page_app(
    fake: FakeSlack, ui: SlackUI, uow: UnitOfWorkFactory, *, bot_url: str
) -> web.Application:
    """The page for `fake`'s workspace; `bot_url` is the real bot's Request URL (shown)."""
    state = PageState()
    static = resources.files("sandbox") / "static"

    def on_change(change: Change) -> None:
        state.version += 1
        event = {"version": state.version, "kind": change.kind, "user": change.user_id}
        for queue in state.listeners:
            queue.put_nowait(event)

    unsubscribe = fake.add_observer(on_change)

    async def index(request: web.Request) -> web.Response:
        html = (static / "index.html").read_text(encoding="utf-8")
        return web.Response(text=html, content_type="text/html", headers=_NO_STORE)

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        kind = _ASSET_TYPES.get(name.rsplit(".", 1)[-1])
        resource = static / name
        if kind is None or "/" in name or not resource.is_file():
            raise web.HTTPNotFound()
        return web.Response(
            body=resource.read_bytes(), content_type=kind, headers=_NO_STORE, charset="utf-8"
        )

    async def snapshot(request: web.Request) -> web.Response:
        user_id = request.query.get("as") or demo.PEOPLE[0].slack_id
        snapshot = await _snapshot(fake, uow, state, _person(user_id))
        snapshot["wiring"] = {"bot": bot_url, "slack_api": fake.api_base_url}
        return web.json_response(snapshot)

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[JsonDict] = asyncio.Queue()
        state.listeners.add(queue)
        stopping: asyncio.Event = request.app[_STOPPING]
        try:
            await _send(response, {"version": state.version, "kind": "hello"})
            while not stopping.is_set():
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                await _send(response, event)
        except ConnectionResetError:
            pass  # the page was closed or reloaded
        finally:
            state.listeners.discard(queue)
        return response

    async def command(request: web.Request) -> web.Response:
        body = await _body(request)
        user_id = _person(body.get("as"))
        channel_id = _channel(fake, user_id, body.get("channel"))
        text = str(body.get("text") or "").strip()
        if not text or len(text) > MAX_COMMAND:
            raise _bad("Type a command such as /minesync help.")
        name, _, rest = text.partition(" ")
        if name != ui.command_name:
            raise _bad(f"Only {ui.command_name} reaches the bot here: try {ui.command_name} help.")
        state.typed.append(Typed(fake.new_ts(), user_id, channel_id, text))
        on_change(Change("ephemeral", channel_id=channel_id, user_id=user_id))
        return _outcome(await ui.command(user_id, channel_id, rest.strip()))

    async def click(request: web.Request) -> web.Response:
        body = await _body(request)
        user_id = _person(body.get("as"))
        return await _acting(
            ui.click(
                user_id,
                block_id=str(body.get("block_id") or ""),
                action_id=str(body.get("action_id") or ""),
                selected=_optional_str(body.get("selected")),
                channel_id=_optional_str(body.get("channel")),
                message_ts=_optional_str(body.get("ts")),
                view_id=_optional_str(body.get("view_id")),
                values=_values(body.get("values")),
            )
        )

    async def submit(request: web.Request) -> web.Response:
        body = await _body(request)
        user_id = _person(body.get("as"))
        view_id = str(body.get("view_id") or "")
        return await _acting(ui.submit(user_id, view_id, _values(body.get("values"))))

    async def close(request: web.Request) -> web.Response:
        body = await _body(request)
        user_id = _person(body.get("as"))
        view_id = str(body.get("view_id") or "")
        if body.get("back"):
            return await _acting(ui.back(user_id, view_id))
        return await _acting(ui.close(user_id, view_id))

    async def on_shutdown(app: web.Application) -> None:
        app[_STOPPING].set()
        for queue in state.listeners:
            queue.put_nowait({"version": state.version, "kind": "bye"})

    async def on_cleanup(app: web.Application) -> None:
        unsubscribe()

    app = web.Application()
    app[_STOPPING] = asyncio.Event()
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", asset)
    app.router.add_get("/api/state", snapshot)
    app.router.add_get("/api/events", events)
    app.router.add_post("/api/command", command)
    app.router.add_post("/api/click", click)
    app.router.add_post("/api/submit", submit)
    app.router.add_post("/api/close", close)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


_STOPPING = web.AppKey("stopping", asyncio.Event)
_NO_STORE = {"Cache-Control": "no-store"}
_ASSET_TYPES = {"js": "text/javascript", "css": "text/css", "png": "image/png"}
_PEOPLE = {p.slack_id: p for p in demo.PEOPLE}


async def _snapshot(
    fake: FakeSlack, uow: UnitOfWorkFactory, state: PageState, user_id: str
) -> JsonDict:
    roles = await _roles(uow)
    org = await get_organization(uow(), demo.ORG_SLUG)
    audit_channel = org.audit_channel_id or demo.AUDIT_CHANNEL[0]
    dm_id = "D" + user_id[1:]
    channels = [{"id": c.id, "name": c.name} for c in fake.channels if not c.is_im]
    if audit_channel not in {c["id"] for c in channels}:
        # An audit channel set to a channel the page does not list yet (Slack would know it).
        channels.append({"id": audit_channel, "name": audit_channel.lower()})
    conversations = {c["id"]: _conversation(fake, state, c["id"], user_id) for c in channels}
    conversations[dm_id] = _conversation(fake, state, dm_id, user_id)
    stack = fake.views_of(user_id)
    top = stack[-1] if stack else None
    return {
        "version": state.version,
        "me": user_id,
        "workspace": {"name": demo.TEAM_NAME, "team_id": demo.TEAM_ID},
        "organization": demo.ORG_NAME,
        "bot": {"user_id": fake.bot.bot_user_id, "name": "MineSync Admin"},
        "command": "/minesync",
        "people": [
            {
                "id": p.slack_id,
                "handle": p.handle,
                "name": p.name,
                "email": p.email,
                "role": roles.get(p.email),
            }
            for p in demo.PEOPLE
        ],
        "channels": channels,
        "audit_channel": audit_channel,
        "dm": dm_id,
        "conversations": conversations,
        "modal": None
        if top is None
        else {"view": top, "depth": len(stack), "errors": fake.view_errors(top["id"])},
    }


async def _roles(uow: UnitOfWorkFactory) -> dict[str, str]:
    """Everyone's role in Demo Mine now, for the act-as switcher (read as the operator)."""
    return {
        m.email: m.role.label async for m in all_members(uow(), Actor.operator(), demo.ORG_SLUG)
    }


def _conversation(fake: FakeSlack, state: PageState, channel_id: str, user_id: str) -> list:
    items: list[JsonDict] = [{**m, "ephemeral": False} for m in fake.messages(channel_id)]
    items += [
        {**m, "ephemeral": True}
        for m in fake.ephemerals(channel_id)
        if m.get("recipient") == user_id
    ]
    items += [
        {"ts": t.ts, "typed": True, "user": t.user_id, "text": t.text}
        for t in state.typed
        if t.channel_id == channel_id and t.user_id == user_id
    ]
    return sorted(items, key=lambda m: _ts_key(m["ts"]))


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)


def _person(value: Any) -> str:
    if value not in _PEOPLE:
        raise _bad("Choose who to act as.")
    return str(value)


def _channel(fake: FakeSlack, user_id: str, value: Any) -> str:
    ids = {c.id for c in fake.channels if not c.is_im} | {"D" + user_id[1:]}
    if value not in ids:
        raise _bad("There is no such channel in this workspace.")
    return str(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _values(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad("values must be an object of block_id: value")
    return value


async def _body(request: web.Request) -> JsonDict:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _bad("The request body must be JSON.") from None
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    return body


async def _acting(work: Awaitable[Outcome]) -> web.Response:
    try:
        return _outcome(await work)
    except NotFound as exc:
        # A stale page (the modal closed, the message was replaced): it refreshes.
        raise web.HTTPConflict(
            text=json.dumps({"ok": False, "error": str(exc)}), content_type="application/json"
        ) from None
    except ValueError as exc:
        raise _bad(str(exc)) from None


def _outcome(outcome: Outcome) -> web.Response:
    reply = outcome.reply
    return web.json_response(
        {
            "ok": True,
            "shown": outcome.shown,
            "problem": outcome.problem,
            "status": reply.status if reply else None,
            "elapsed": round(reply.elapsed, 3) if reply else None,
        }
    )


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps({"ok": False, "error": message}), content_type="application/json"
    )


async def _send(response: web.StreamResponse, event: JsonDict) -> None:
    with contextlib.suppress(ConnectionResetError):
        await response.write(f"data: {json.dumps(event)}\n\n".encode())
