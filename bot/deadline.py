"""Answer Slack within its 3-second deadline, whatever the work costs.

The app runs with process_before_response=True, so a reply that is ready in time travels in the
HTTP answer itself (the fastest path Slack offers). Work that overruns the budget is left to
finish in the background, and its reply follows through response_url or views.update.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# Slack gives 3 s; keep a margin for the network and the HTTP answer itself.
ACK_BUDGET_SECONDS = 2.0

log = logging.getLogger(__name__)


class BackgroundTasks:
    """Keeps overrunning work alive (asyncio holds only weak references) until it is done."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def add(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background reply failed", exc_info=task.exception())

    async def drain(self, grace_seconds: float = 10.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_seconds)


async def within_budget(
    work: Coroutine[Any, Any, T],
    *,
    background: BackgroundTasks,
    on_time: Callable[[T], Awaitable[None]],
    overrun: Callable[[], Awaitable[None]],
    late: Callable[[T], Awaitable[None]],
    budget: float = ACK_BUDGET_SECONDS,
) -> None:
    """Run `work`; deliver its result with `on_time` if it beats the budget.

    Otherwise call `overrun` now (the listener then returns, so Slack gets its answer) and
    `late` with the result when it arrives.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=budget)
    if done:
        await on_time(task.result())
        return
    await overrun()

    async def finish() -> None:
        await late(await task)

    background.add(asyncio.ensure_future(finish()))
