"""Injectable clocks, so deadline rules (3 s trigger_id, 30 min response_url) are testable
without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]
"""A monotonic clock in seconds; `time.monotonic` in production use."""

monotonic: Clock = time.monotonic


class ManualClock:
    """A clock that only moves when told to. Call it like `time.monotonic()`."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
