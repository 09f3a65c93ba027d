"""SlackRequester: sends the bot what Slack would send, signed, over real HTTP.

Commands and interactions go to the bot's Request URL (/slack/events) exactly as Slack posts
them: form-encoded, with the v0 signature headers. Timing is measured so tests can check the
3-second acknowledgement deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp

from slackfake import payloads
from slackfake.signing import sign

ACK_DEADLINE_SECONDS = 3.0


class InteractionSource(Protocol):
    """Where trigger_ids and response_urls come from; FakeSlack is one."""

    def new_trigger_id(self, *, view_id: str | None = None, user_id: str | None = None) -> str: ...

    def response_url(
        self,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        user_id: str | None = None,
    ) -> str: ...


@dataclass(frozen=True)
class BotReply:
    """The bot's HTTP answer: status, body (parsed JSON, else text; "" when empty), and
    the seconds it took, measured around the whole request."""

    status: int
    body: Any
    elapsed: float
    headers: Mapping[str, str]

    @property
    def within_ack_deadline(self) -> bool:
        return self.elapsed < ACK_DEADLINE_SECONDS


class SlackRequester:
    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        source: InteractionSource | None = None,
        team_id: str = "T0MINESYNC",
        team_domain: str = payloads.DEFAULT_TEAM_DOMAIN,
        api_app_id: str = payloads.DEFAULT_API_APP_ID,
        timeout: float = 10.0,
    ) -> None:
        """`url` is the bot's Request URL (e.g. http://127.0.0.1:PORT/slack/events).

        With a `source` (a FakeSlack), commands get real trigger_ids and response_urls that
        the fake will honour; without one they get syntactically valid dummies.
        """
        self.url = url
        self.signing_secret = signing_secret
        self.source = source
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackRequester:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- what Slack sends -------------------------------------------------------------------------

    async def command(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        team_id: str | None = None,
        user_name: str | None = None,
        command: str = "/minesync",
        response_url: str | None = None,
        trigger_id: str | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> BotReply:
        """Send a slash command. `timestamp` (stale requests) and `secret` (forged requests)
        override what goes into the signature."""
        form = payloads.slash_command_form(
            team_id=team_id or self.team_id,
            user_id=user_id,
            user_name=user_name or user_id.lower(),
            channel_id=channel_id,
            text=text,
            command=command,
            response_url=response_url or self._response_url(channel_id, user_id),
            trigger_id=trigger_id or self._trigger_id(user_id),
            team_domain=self.team_domain,
            api_app_id=self.api_app_id,
        )
        return await self.post_form(form, timestamp=timestamp, secret=secret)

    async def block_actions(
        self, payload: Mapping[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> BotReply:
        return await self.interaction(payload, timestamp=timestamp, secret=secret)

    async def view_submission(
        self, payload: Mapping[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> BotReply:
        return await self.interaction(payload, timestamp=timestamp, secret=secret)

    async def view_closed(
        self, payload: Mapping[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> BotReply:
        return await self.interaction(payload, timestamp=timestamp, secret=secret)

    async def interaction(
        self, payload: Mapping[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> BotReply:
        """Any interactivity payload: Slack sends it as one form field `payload` of JSON."""
        return await self.post_form(
            {"payload": json.dumps(payload)}, timestamp=timestamp, secret=secret
        )

    # -- transport --------------------------------------------------------------------------------

    async def post_form(
        self,
        fields: Mapping[str, str],
        *,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> BotReply:
        body = urlencode(fields).encode()
        return await self.post_raw(
            body,
            content_type="application/x-www-form-urlencoded",
            timestamp=timestamp,
            secret=secret,
        )

    async def post_raw(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | None = None,
        secret: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> BotReply:
        """Sign and send exact bytes; the signature covers them, so they go out unchanged."""
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **sign(secret if secret is not None else self.signing_secret, body, timestamp),
            **(extra_headers or {}),
        }
        session = self._get_session()
        started = time.perf_counter()
        async with session.post(self.url, data=body, headers=headers) as response:
            raw = await response.read()
            elapsed = time.perf_counter() - started
            return BotReply(
                status=response.status,
                body=_parse(raw, response.content_type),
                elapsed=elapsed,
                headers=dict(response.headers),
            )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def _trigger_id(self, user_id: str) -> str:
        if self.source is not None:
            return self.source.new_trigger_id(user_id=user_id)
        return "0000000000.0000000000.00000000000000000000000000000000"

    def _response_url(self, channel_id: str, user_id: str) -> str:
        if self.source is not None:
            return self.source.response_url(channel_id=channel_id, user_id=user_id)
        return f"https://hooks.slack.com/commands/{self.team_id}/0/unused"


def _parse(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if content_type == "application/json" and text:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text
