"""FakeSlack: a fake Slack workspace served over real HTTP for end-to-end tests.

The bot under test talks to it exactly as to Slack: slack_sdk's AsyncWebClient pointed at
`api_base_url`, and plain HTTP posts to the response_urls it hands out. Everything it receives
is recorded in `calls`, so tests assert on what the bot really sent over the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from slackfake.client import ACK_DEADLINE_SECONDS
from slackfake.clock import Clock, monotonic
from slackfake.faults import ChannelRateLimiter, Fault, FaultPlan, make_fault
from slackfake.recording import Call, CallLog, CallMatcher, Change, Observer
from slackfake.state import ApiError, Channel, JsonDict, User, Workspace
from slackfake.webapi import (
    METHODS,
    BotIdentity,
    Context,
    message_content,
    push_view,
    replace_view,
)

DEFAULT_TOKEN = "xoxb-fake-token"
DEFAULT_SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "users:read",
        "users:read.email",
        "channels:read",
        "groups:read",
    }
)
SLACKBOT_USER_ID = "USLACKBOT"
RESPONSE_URL_MAX_POSTS = 5
RESPONSE_URL_LIFETIME = 30 * 60.0
# Views may reach 250 kB; aiohttp's 1 MB default would do, but leave room so that oversized
# payloads get Slack's own error (view_too_large) rather than an HTTP 413.
MAX_REQUEST_BYTES = 4 * 1024 * 1024


@dataclass
class _ResponseUrl:
    created_at: float
    channel_id: str | None
    message_ts: str | None
    user_id: str | None
    posts: list[float] = field(default_factory=list)


class FakeSlack:
    """A fake Slack on 127.0.0.1. Use `async with FakeSlack() as slack:` or start()/stop().

    Unknown channels: `auto_channels=False` (the default) answers channel_not_found like Slack
    does, so a bot posting to the wrong channel fails loudly; register channels with
    add_channel(), or pass auto_channels=True (the standalone server does) to accept any id.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        team_id: str = "T0MINESYNC",
        team_name: str = "MineSync",
        team_domain: str = "minesync",
        bot_user_id: str = "U0MINEBOT",
        bot_id: str = "B0MINESYNC",
        app_id: str = "A0MINESYNC",
        bot_name: str = "minesync",
        scopes: Iterable[str] = DEFAULT_SCOPES,
        auto_channels: bool = False,
        clock: Clock = monotonic,
        timeout_seconds: float = 30.0,
        trigger_ttl: float = 3.0,
        post_message_rate_limit: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bot = BotIdentity(
            token=token,
            team_id=team_id,
            team_name=team_name,
            team_domain=team_domain,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            bot_name=bot_name,
            scopes=frozenset(scopes),
        )
        self.timeout_seconds = timeout_seconds
        self._clock = clock
        self._host = host
        self._requested_port = port
        self._ws = Workspace(
            clock=clock, team_id=team_id, auto_channels=auto_channels, trigger_ttl=trigger_ttl
        )
        self._log = CallLog()
        self._faults = FaultPlan()
        self._post_limiter: ChannelRateLimiter | None = None
        self.set_post_message_rate_limit(post_message_rate_limit)
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._observers: list[Observer] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._stopping = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        if self._runner is not None:
            raise RuntimeError("FakeSlack is already started")
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{token}", self._handle_response_url)
        # Handlers held by an injected timeout end as soon as stop() sets _stopping, so a
        # short shutdown timeout only guards against a bug, never cuts a live answer.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._stopping = asyncio.Event()
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._stopping.set()  # wakes the handlers sleeping for an injected timeout
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """What to give slack_sdk as `base_url` (it must end with a slash)."""
        return f"{self.base_url}/api/"

    @property
    def token(self) -> str:
        return self.bot.token

    # -- directory and interaction handles --------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        email: str | None,
        name: str,
        real_name: str | None = None,
        is_bot: bool = False,
    ) -> None:
        self._ws.users[user_id] = User(
            user_id, team_id or self.bot.team_id, email, name, real_name or name, is_bot
        )

    def add_channel(self, channel_id: str, name: str, is_private: bool = False) -> None:
        self._ws.channels[channel_id] = Channel(channel_id, name, is_private)

    @property
    def users(self) -> list[User]:
        """The workspace's directory, in the order users were added (copies)."""
        return [copy.copy(u) for u in self._ws.users.values()]

    @property
    def channels(self) -> list[Channel]:
        return [copy.copy(c) for c in self._ws.channels.values()]

    def new_trigger_id(self, *, view_id: str | None = None, user_id: str | None = None) -> str:
        """A trigger_id as Slack puts in commands and interactions: valid for `trigger_ttl`
        seconds (3) and one views.open/push. `view_id`: the modal the interaction came from;
        `user_id`: who acted (the modal it opens is shown to them alone)."""
        return self._ws.new_trigger_id(view_id, user_id)

    def response_url(
        self,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """A fresh response_url. Tie it to a message (channel_id + message_ts) to let
        replace_original/delete_original act on that message, and to a user for ephemerals."""
        token = secrets.token_urlsafe(16)
        self._response_urls[token] = _ResponseUrl(self._clock(), channel_id, message_ts, user_id)
        return f"{self.base_url}/response/{token}"

    # -- failure injection ------------------------------------------------------------------------

    def fail(
        self, method: str, *, status: int | str = 500, times: int = 1, retry_after: int = 1
    ) -> None:
        """Make the next `times` calls of `method` ("response_url" included) fail.

        status: an HTTP status (4xx/5xx; 429 carries Retry-After), "timeout" (no answer until
        `timeout_seconds` + 1 s have passed, or the fake stops), or any other string, answered
        as HTTP 200 {"ok": false, "error": status}.
        """
        self._faults.fail(method, make_fault(status, retry_after), times)

    def rate_limit_every(self, method: str, n: int, *, retry_after: int = 1) -> None:
        """Answer every n-th call of `method` (counted from now) with 429 + Retry-After."""
        self._faults.rate_limit_every(method, n, retry_after)

    def set_post_message_rate_limit(self, per_second: float | None, *, burst: int = 1) -> None:
        """Slack's real chat.postMessage limit (~1/s per channel); None turns it off."""
        self._post_limiter = (
            None
            if per_second is None
            else ChannelRateLimiter(self._clock, per_second=per_second, burst=burst)
        )

    # -- inspection -------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return self._log.calls

    def calls_to(self, method: str) -> list[Call]:
        return self._log.to(method)

    # A `timeout` argument (ASYNC109) is the point here: tests read better with
    # `wait_for("chat.postMessage", timeout=2)` than wrapped in asyncio.timeout(), and the
    # TimeoutError raised carries the list of calls seen.
    async def wait_for(
        self,
        what: CallMatcher,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Call]:
        """Wait until `count` calls match (a method name, or a predicate on Call); return all
        matching calls. Raises TimeoutError listing the calls seen."""
        return await self._log.wait_for(what, count=count, timeout=timeout)

    def messages(self, channel_id: str) -> list[JsonDict]:
        """Messages in the channel as they are now (after updates and deletions); copies."""
        return copy.deepcopy(self._ws.messages.get(channel_id, []))

    def ephemerals(self, channel_id: str) -> list[JsonDict]:
        """Ephemeral messages; each carries "recipient" (the one user who sees it)."""
        return copy.deepcopy(self._ws.ephemerals.get(channel_id, []))

    @property
    def views(self) -> dict[str, JsonDict]:
        """Open modals by view id (live: views.update is reflected)."""
        return self._ws.views

    @property
    def home_views(self) -> dict[str, JsonDict]:
        return self._ws.home_views

    def close_view(self, view_id: str) -> None:
        """Close the modal stack holding `view_id`, as the user's Cancel/X would."""
        owner = self._view_owner(view_id)
        self._ws.close_view(view_id)
        self._emit(Change("view", user_id=owner, view_id=view_id))

    def back_view(self, view_id: str) -> None:
        """Close only the pushed view `view_id`, as its back arrow does."""
        owner = self._view_owner(view_id)
        self._ws.pop_view(view_id)
        self._emit(Change("view", user_id=owner, view_id=view_id))

    def views_of(self, user_id: str) -> list[JsonDict]:
        """The modal stack `user_id` sees (root first, top last); [] when none is open."""
        stacks = self._ws.views_of(user_id)
        return copy.deepcopy(stacks[-1]) if stacks else []

    def view_errors(self, view_id: str) -> dict[str, str]:
        """Field errors shown in the modal, by block_id, from the last submission's answer."""
        return dict(self._ws.view_errors.get(view_id, {}))

    def show_view_errors(self, view_id: str, errors: dict[str, str]) -> None:
        """Show field errors (by block_id) in an open modal, until it is updated or closed."""
        self._ws.find_view(view_id)
        self._ws.view_errors[view_id] = dict(errors)
        self._emit(Change("view", user_id=self._view_owner(view_id), view_id=view_id))

    def new_ts(self) -> str:
        """A message timestamp as Slack would give one now (later than every earlier one)."""
        return self._ws.next_ts()

    def add_observer(self, observer: Observer) -> Callable[[], None]:
        """Call `observer(change)` whenever what a person sees changes; returns an unsubscribe.

        Observers run synchronously inside the fake's request handling: keep them quick (hand
        the change to a queue) and never let them raise.
        """
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    # -- what the Slack client does with the app's HTTP answers ---------------------------------

    def show_command_reply(
        self,
        response_url: str,
        reply: Any,
        *,
        command: str = "/minesync",
        elapsed: float = 0.0,
        status: int = 200,
    ) -> JsonDict | None:
        """Show the bot's HTTP answer to a slash command as Slack does, and return the message.

        A JSON body with text or blocks becomes a message, ephemeral unless response_type is
        in_channel, and later response_url posts with replace_original act on it. A plain-text
        body is shown as an ephemeral message; an empty 200 shows nothing. A failed or late
        answer (after 3 s) is reported by Slackbot, as Slack reports it to the person.
        """
        entry = self._response_urls.get(response_url.rsplit("/", 1)[-1])
        if entry is None or entry.channel_id is None:
            raise ValueError("show_command_reply needs a response_url from this fake")
        if status != 200 or elapsed > ACK_DEADLINE_SECONDS:
            error = "operation_timeout" if status == 200 else "dispatch_failed"
            return self._ephemeral(
                entry,
                {"text": f'{command} failed with the error "{error}"'},
                user=SLACKBOT_USER_ID,
            )
        if isinstance(reply, str):
            reply = {"text": reply} if reply.strip() else {}
        if not isinstance(reply, dict) or not (reply.get("text") or reply.get("blocks")):
            return None
        content = message_content(reply)
        if reply.get("response_type") == "in_channel":
            message: JsonDict = {
                "type": "message",
                "ts": self._ws.next_ts(),
                "user": self.bot.bot_user_id,
                "bot_id": self.bot.bot_id,
                **content,
            }
            self._ws.messages.setdefault(entry.channel_id, []).append(message)
            self._emit(Change("message", channel_id=entry.channel_id))
        else:
            message = self._ephemeral(entry, content)
        entry.message_ts = message["ts"]
        return copy.deepcopy(message)

    def answer_view_submission(self, view_id: str, reply: Any) -> str:
        """Apply the bot's answer to a view_submission as Slack does; returns what happened:
        "errors" (field errors shown, modal stays), "update", "push", "clear" (whole stack
        closed) or "closed" (an empty answer closes the submitted view). Raises ApiError when
        the answer's view breaks Slack's rules (Slack then shows the person an error)."""
        view = self._ws.find_view(view_id)
        owner = self._view_owner(view_id)
        action = reply.get("response_action") if isinstance(reply, dict) else None
        ctx = Context(self._ws, self.bot)
        if action == "errors":
            errors = reply.get("errors")
            if not isinstance(errors, dict) or not errors:
                raise ApiError("invalid_arguments", errors=["errors must be a non-empty object"])
            self._ws.view_errors[view_id] = {str(k): str(v) for k, v in errors.items()}
            outcome = "errors"
        elif action == "update":
            replace_view(ctx, view, {"view": reply.get("view")})
            outcome = "update"
        elif action == "push":
            push_view(ctx, view["root_view_id"], {"view": reply.get("view")})
            outcome = "push"
        elif action == "clear":
            self._ws.close_view(view_id)
            outcome = "clear"
        else:
            self._ws.pop_view(view_id)
            outcome = "closed"
        self._emit(Change("view", user_id=owner, view_id=view_id))
        return outcome

    def _ephemeral(
        self, entry: _ResponseUrl, content: JsonDict, user: str | None = None
    ) -> JsonDict:
        assert entry.channel_id is not None
        message: JsonDict = {"type": "message", "ts": self._ws.next_ts(), **content}
        if user is not None:
            message["user"] = user
        message["recipient"] = entry.user_id
        self._ws.ephemerals.setdefault(entry.channel_id, []).append(message)
        self._emit(Change("ephemeral", channel_id=entry.channel_id, user_id=entry.user_id))
        return message

    def _view_owner(self, view_id: str) -> str | None:
        view = self._ws.views.get(view_id)
        return self._ws.view_owners.get(view["root_view_id"]) if view else None

    def _emit(self, change: Change) -> None:
        for observer in list(self._observers):
            observer(change)

    def reset(self) -> None:
        """Forget calls, messages, views, triggers, response_urls and injected failures.
        Users, channels and configuration stay."""
        self._log.clear()
        self._ws.reset()
        self._faults.clear()
        self._response_urls.clear()
        self.set_post_message_rate_limit(None)

    # -- HTTP: Web API ----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args, parse_error = await _read_args(request)
        call = Call(
            method=method,
            args=args,
            headers=dict(request.headers),
            at=self._clock(),
            path=request.path,
            http_method=request.method,
        )
        await self._log.record(call)
        if parse_error is not None:
            response = _json({"ok": False, "error": parse_error})
        else:
            response = await self._answer_api(call, request)
        return await self._finish(call, response)

    async def _answer_api(self, call: Call, request: web.Request) -> web.Response:
        handler = METHODS.get(call.method)
        if handler is None:
            return _json({"ok": False, "error": "unknown_method", "req_method": call.method})
        fault = self._faults.next_fault(call.method)
        if fault is not None:
            return await self._inject(call, fault)
        auth_error = self._auth_error(request, call.args)
        if auth_error is not None:
            return _json({"ok": False, "error": auth_error})
        if call.method == "chat.postMessage" and self._post_limiter is not None:
            wait = self._post_limiter.acquire(str(call.args.get("channel")))
            if wait is not None:
                return _rate_limited(max(1, round(wait)))
        try:
            body = handler(Context(self._ws, self.bot), call.args)
        except ApiError as exc:
            body = exc.body()
        else:
            self._tell_observers(call, body)
        # Slack lists the token's scopes on every answer; handy when debugging scope issues.
        return _json(body, headers={"X-OAuth-Scopes": ",".join(sorted(self.bot.scopes))})

    def _tell_observers(self, call: Call, body: JsonDict) -> None:
        if call.method in ("chat.postMessage", "chat.update", "chat.delete"):
            self._emit(Change("message", channel_id=body.get("channel")))
        elif call.method == "chat.postEphemeral":
            channel = self._ws.channel(call.args.get("channel"))
            self._emit(Change("ephemeral", channel_id=channel.id, user_id=call.args.get("user")))
        elif call.method.startswith("views.") and isinstance(body.get("view"), dict):
            view_id = body["view"]["id"]
            self._emit(Change("view", user_id=self._view_owner(view_id), view_id=view_id))

    def _auth_error(self, request: web.Request, args: JsonDict) -> str | None:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        if token is None:
            # Slack also accepts the token as a POST parameter.
            token = args.get("token") if isinstance(args.get("token"), str) else None
        if not token:
            return "not_authed"
        return None if token == self.bot.token else "invalid_auth"

    async def _inject(self, call: Call, fault: Fault) -> web.Response:
        call.injected = fault.label
        if fault.kind == "timeout":
            await self._log.notify()  # let tests see the call while it hangs
            await self._sleep(self.timeout_seconds + 1.0)
            return web.Response(status=504, text="injected timeout")
        if fault.kind == "error":
            return _json({"ok": False, "error": fault.error})
        if fault.status == 429:
            return _rate_limited(fault.retry_after)
        return web.Response(status=fault.status, text=f"injected HTTP {fault.status}")

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the fake stops (so no test hangs on teardown)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _finish(self, call: Call, response: web.Response) -> web.Response:
        call.status = response.status
        body = response.text or ""
        if response.content_type == "application/json":
            call.response = json.loads(body)
        else:
            call.response = body
        await self._log.notify()
        return response

    # -- HTTP: response_url -----------------------------------------------------------------------

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        call = Call(
            method="response_url",
            args=body if isinstance(body, dict) else {"_raw": raw},
            headers=dict(request.headers),
            at=self._clock(),
            path=request.path,
            http_method=request.method,
        )
        await self._log.record(call)
        fault = self._faults.next_fault("response_url")
        if fault is not None:
            response = await self._inject(call, fault)
        else:
            response = self._answer_response_url(request.match_info["token"], body)
        return await self._finish(call, response)

    def _answer_response_url(self, token: str, body: Any) -> web.Response:
        entry = self._response_urls.get(token)
        if entry is None:
            return web.Response(status=404, text="invalid_token")
        now = self._clock()
        if now - entry.created_at > RESPONSE_URL_LIFETIME:
            return web.Response(status=404, text="expired_url")
        if len(entry.posts) >= RESPONSE_URL_MAX_POSTS:
            return web.Response(status=404, text="used_url")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        entry.posts.append(now)
        try:
            self._apply_response(entry, body)
        except ApiError as exc:
            return web.Response(status=400, text=exc.error)
        return web.Response(text="ok")

    def _apply_response(self, entry: _ResponseUrl, body: JsonDict) -> None:
        """Reflect a response_url post in the channel's messages, as far as the fake knows
        which message and channel the URL belongs to (a channel message, or an ephemeral one
        of the URL's user)."""
        found = self._original(entry)
        change = Change(
            "ephemeral" if found and found[0] == "ephemeral" else "message",
            channel_id=entry.channel_id,
            user_id=entry.user_id,
        )
        if body.get("delete_original") in (True, "true"):
            if found is not None and entry.channel_id is not None:
                kind, original = found
                store = self._ws.ephemerals if kind == "ephemeral" else self._ws.messages
                store[entry.channel_id].remove(original)
                self._emit(change)
            return
        content = message_content(body)
        if body.get("replace_original") in (True, "true") and found is not None:
            original = found[1]
            original.pop("blocks", None)
            original.update(content)
            self._emit(change)
            return
        if entry.channel_id is None:
            return
        message: JsonDict = {"type": "message", "ts": self._ws.next_ts(), **content}
        if body.get("response_type") == "in_channel":
            message.update(user=self.bot.bot_user_id, bot_id=self.bot.bot_id)
            self._ws.messages.setdefault(entry.channel_id, []).append(message)
            self._emit(Change("message", channel_id=entry.channel_id))
        else:
            message["recipient"] = entry.user_id
            self._ws.ephemerals.setdefault(entry.channel_id, []).append(message)
            self._emit(Change("ephemeral", channel_id=entry.channel_id, user_id=entry.user_id))

    def _original(self, entry: _ResponseUrl) -> tuple[str, JsonDict] | None:
        if not (entry.channel_id and entry.message_ts):
            return None
        with contextlib.suppress(ApiError):
            return "message", self._ws.find_message(entry.channel_id, entry.message_ts)
        for message in self._ws.ephemerals.get(entry.channel_id, []):
            if message["ts"] == entry.message_ts and message.get("recipient") == entry.user_id:
                return "ephemeral", message
        return None


# -- helpers --------------------------------------------------------------------------------------


async def _read_args(request: web.Request) -> tuple[JsonDict, str | None]:
    """Merge query parameters and the body (JSON or form), as Slack accepts either."""
    args: JsonDict = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args, None
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return args, "invalid_json"
        if not isinstance(body, dict):
            return args, "invalid_json"
        args.update(body)
    else:
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args, None


def _json(
    body: JsonDict, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _rate_limited(retry_after: int) -> web.Response:
    return _json(
        {"ok": False, "error": "ratelimited"},
        status=429,
        headers={"Retry-After": str(retry_after)},
    )
