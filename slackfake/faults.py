"""Failure injection: queued failures, periodic rate limiting, per-channel post limits.

Real Slack fails in these ways (5xx, 429 with Retry-After, slow answers, ok:false errors),
and the bot's retry and error paths are only tested if the fake can produce them on demand.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Literal

from slackfake.clock import Clock

TIMEOUT = "timeout"

FaultKind = Literal["status", "timeout", "error"]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 200
    error: str = ""
    retry_after: int = 1

    @property
    def label(self) -> str:
        """How the fault shows up in Call.injected: "timeout", "429", or the error code."""
        if self.kind == "status":
            return str(self.status)
        return self.error if self.kind == "error" else TIMEOUT


def make_fault(status: int | str, retry_after: int) -> Fault:
    if status == TIMEOUT:
        return Fault("timeout")
    if isinstance(status, int):
        if not 400 <= status <= 599:
            raise ValueError(f"an injected HTTP status must be 4xx or 5xx, got {status}")
        return Fault("status", status=status, retry_after=retry_after)
    if not status:
        raise ValueError("an injected error code must not be empty")
    return Fault("error", error=status)


class FaultPlan:
    def __init__(self) -> None:
        self._queued: dict[str, deque[Fault]] = {}
        self._every: dict[str, tuple[int, int]] = {}
        self._counts: Counter[str] = Counter()

    def fail(self, method: str, fault: Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self._queued.setdefault(method, deque()).extend([fault] * times)

    def rate_limit_every(self, method: str, n: int, retry_after: int) -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        self._every[method] = (n, retry_after)
        self._counts[method] = 0  # "every n-th call" counts from when the rule was set

    def next_fault(self, method: str) -> Fault | None:
        """Count one call of `method` and say how it must fail, if at all."""
        self._counts[method] += 1
        queued = self._queued.get(method)
        if queued:
            return queued.popleft()
        rule = self._every.get(method)
        if rule is not None and self._counts[method] % rule[0] == 0:
            return Fault("status", status=429, retry_after=rule[1])
        return None

    def clear(self) -> None:
        self._queued.clear()
        self._every.clear()
        self._counts.clear()


class ChannelRateLimiter:
    """Token bucket per channel, modelling chat.postMessage's ~1 message/second/channel
    (Slack tolerates short bursts, hence `burst`)."""

    def __init__(self, clock: Clock, *, per_second: float, burst: int) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be positive and burst at least 1")
        self._clock = clock
        self._rate = per_second
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, last time)

    def acquire(self, channel: str) -> float | None:
        """Take a token; None if allowed, else the seconds to wait (for Retry-After)."""
        now = self._clock()
        tokens, last = self._buckets.get(channel, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[channel] = (tokens - 1.0, now)
            return None
        self._buckets[channel] = (tokens, now)
        return (1.0 - tokens) / self._rate
