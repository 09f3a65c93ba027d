"""Latency statistics: percentiles by linear interpolation, and one phase's summary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks.

    The same definition as numpy's default ("linear"): rank (n - 1) * q / 100.
    """
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """One (server, operation, concurrency) phase; latencies in milliseconds."""

    requests: int
    errors: int
    seconds: float
    rps: float
    p50: float
    p95: float
    p99: float
    max: float

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def summarize(latencies: Sequence[float], *, errors: int, seconds: float) -> Summary:
    """`latencies` in seconds, one per completed request; `seconds` the phase's wall time."""
    ms = [x * 1000 for x in latencies]
    return Summary(
        requests=len(ms),
        errors=errors,
        seconds=seconds,
        rps=len(ms) / seconds if seconds > 0 else 0.0,
        p50=percentile(ms, 50),
        p95=percentile(ms, 95),
        p99=percentile(ms, 99),
        max=max(ms),
    )


def ratio(value: float, reference: float) -> float | None:
    return value / reference if reference > 0 else None
