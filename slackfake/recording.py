"""The record of every request the fake received, and waiting on it from tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]


@dataclass
class Call:
    """One request to the fake: a Web API method, or "response_url" for response_url posts.

    Recorded on arrival (status None) and completed when answered, so a test can see a call
    the fake is deliberately leaving unanswered (injected timeout).
    """

    method: str
    args: JsonDict
    headers: dict[str, str]
    at: float
    path: str = ""
    http_method: str = "POST"
    status: int | None = None
    response: JsonDict | str | None = None
    injected: str | None = None  # "timeout", an HTTP status ("429") or an error code

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def ok(self) -> bool:
        """True for a 200 whose JSON says ok (or a plain "ok", as response_url answers)."""
        if self.status != 200:
            return False
        if isinstance(self.response, dict):
            return bool(self.response.get("ok"))
        return self.response == "ok"

    def __str__(self) -> str:
        outcome = self.injected or self.status
        if isinstance(self.response, dict):
            error = self.response.get("error")
        else:  # response_url and injected HTTP errors answer in plain text
            error = self.response if self.status not in (None, 200) else None
        return f"{self.method} -> {outcome}" + (f" ({error})" if error else "")


@dataclass(frozen=True)
class Change:
    """Something a person in the workspace could see change, told to FakeSlack's observers.

    kind: "message" (a channel's messages), "ephemeral" (messages only `user_id` sees) or
    "view" (a modal of `user_id`: opened, updated, pushed, given field errors, or closed).
    """

    kind: str
    channel_id: str | None = None
    user_id: str | None = None
    view_id: str | None = None


Observer = Callable[[Change], None]

CallMatcher = str | Callable[[Call], bool]


def _matcher(what: CallMatcher) -> tuple[Callable[[Call], bool], str]:
    if isinstance(what, str):
        # A method name matches once the call is settled: answered, or held by a timeout.
        def by_method(call: Call) -> bool:
            return call.method == what and (call.answered or call.injected == "timeout")

        return by_method, repr(what)
    return what, getattr(what, "__name__", repr(what))


class CallLog:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._changed = asyncio.Condition()

    async def record(self, call: Call) -> None:
        self.calls.append(call)
        await self.notify()

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

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
        match, label = _matcher(what)

        def matching() -> list[Call]:
            return [c for c in self.calls if match(c)]

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            seen = ", ".join(str(c) for c in self.calls) or "none"
            raise TimeoutError(
                f"waited {timeout}s for {count} call(s) matching {label}, "
                f"got {len(matching())}; calls seen: {seen}"
            ) from None
        return matching()

    def clear(self) -> None:
        self.calls.clear()
