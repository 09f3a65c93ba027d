"""Replies posted to a response_url, over the app's pooled HTTP connections.

Bolt's `respond` opens a new aiohttp session, and so a new TCP and TLS connection to Slack, for
every post. This does the same post through the session the Web API client already keeps open.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient


class Responder:
    """Called like Bolt's AsyncRespond, with the arguments the listeners use."""

    def __init__(self, session: aiohttp.ClientSession | None, response_url: str | None) -> None:
        self.session = session
        self.response_url = response_url

    async def __call__(
        self,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        message: dict[str, Any] = {"text": text}
        if blocks:
            message["blocks"] = blocks
        if response_type is not None:
            message["response_type"] = response_type
        if replace_original is not None:
            message["replace_original"] = replace_original
        # Without a session (no shared one given), the client makes its own, as Bolt's does.
        client = AsyncWebhookClient(url=self.response_url, session=self.session)
        return await client.send_dict(message)
