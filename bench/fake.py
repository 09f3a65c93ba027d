"""The tests' fake Slack, plus the one thing a latency benchmark needs from it: the moment an
answer posted to a response_url reaches "Slack".

FakeSlack records every call, but waiting on its call log rescans it on every arrival, which at
thousands of requests would cost the benchmark process more than the bot spends answering.
This subclass resolves a future per response_url token instead, stamped on arrival.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from slackfake import FakeSlack


class TimedFakeSlack(FakeSlack):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(clock=time.monotonic, **kwargs)  # type: ignore[arg-type]
        self._arrivals: dict[str, asyncio.Future[tuple[float, Any]]] = {}

    def expect_response(self, response_url: str) -> asyncio.Future[tuple[float, Any]]:
        """Resolved with (time.monotonic() on arrival, the JSON posted) when `response_url` is
        first posted to."""
        token = response_url.rsplit("/", 1)[-1]
        future: asyncio.Future[tuple[float, Any]] = asyncio.get_running_loop().create_future()
        self._arrivals[token] = future
        return future

    def forget(self, response_url: str) -> None:
        self._arrivals.pop(response_url.rsplit("/", 1)[-1], None)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        future = self._arrivals.pop(request.match_info["token"], None)
        response = await super()._handle_response_url(request)
        if future is not None and not future.done():
            try:
                body = json.loads(await request.text())
            except ValueError:
                body = None
            future.set_result((arrived, body))
        return response
