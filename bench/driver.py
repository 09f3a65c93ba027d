"""Send prepared requests to one server at a given concurrency and time what the Admin waits for.

Latency runs from just before the signed request is sent until the answer reaches Slack: the
HTTP answer when it carries the reply, else the moment the bot's post to the response_url
arrives at the fake Slack (same process, same monotonic clock). Each of `concurrency` workers
sends its next request as soon as its previous one is answered (a closed loop).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.fake import TimedFakeSlack
from bench.operations import Operation, Prepared
from bench.stats import Summary, summarize
from slackfake.signing import sign

REPLY_TIMEOUT_SECONDS = 10.0
CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass
class PhaseResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    first_error: str | None = None

    def merge(self, other: PhaseResult) -> None:
        """Add another slice of the same phase (the servers take turns in slices)."""
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.seconds += other.seconds
        self.first_error = self.first_error or other.first_error

    def summary(self) -> Summary:
        return summarize(self.latencies, errors=self.errors, seconds=self.seconds)


def client_session(concurrency: int) -> aiohttp.ClientSession:
    """Keep-alive connections, as Slack's own requests would reuse them."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max(64, 2 * concurrency)),
        timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT_SECONDS),
    )


async def run_phase(
    session: aiohttp.ClientSession,
    url: str,
    secret: str,
    operation: Operation,
    requests: Sequence[Prepared],
    concurrency: int,
    *,
    fake: TimedFakeSlack | None,
) -> PhaseResult:
    """Drive `requests` through `url`. With `fake`, the server is the bot: its replies are
    checked, and those posted to a response_url are awaited there."""
    result = PhaseResult()
    pending = iter(requests)

    async def one(prepared: Prepared) -> None:
        headers = {"Content-Type": CONTENT_TYPE, **sign(secret, prepared.body)}
        arrival = None
        if fake is not None and prepared.replies_via is not None:
            arrival = fake.expect_response(prepared.replies_via)
        started = time.monotonic()
        try:
            async with session.post(url, data=prepared.body, headers=headers) as response:
                raw = await response.read()
                answered = time.monotonic()
                status = response.status
                content_type = response.content_type
            posted: Any = None
            if arrival is not None:
                answered, posted = await asyncio.wait_for(arrival, REPLY_TIMEOUT_SECONDS)
        except (TimeoutError, aiohttp.ClientError) as exc:
            if fake is not None and prepared.replies_via is not None:
                fake.forget(prepared.replies_via)
            _error(result, f"{type(exc).__name__}: {exc}")
            return
        result.latencies.append(answered - started)
        if fake is None:
            if status != 200:
                _error(result, f"HTTP {status}")
            return
        answer = _parse(raw, content_type)
        if not operation.succeeded(status, answer, posted):
            _error(result, f"HTTP {status}: {str(posted or answer)[:300]}")

    async def worker() -> None:
        for prepared in pending:
            await one(prepared)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


def _error(result: PhaseResult, what: str) -> None:
    result.errors += 1
    if result.first_error is None:
        result.first_error = what


def _parse(raw: bytes, content_type: str) -> Any:
    if content_type == "application/json" and raw:
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw.decode("utf-8", errors="replace")
