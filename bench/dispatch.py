"""How long the audit dispatcher takes to deliver N summaries while Slack rate-limits it.

N real changes (role changes by the operator, each with its audit entry and outbox row) are
committed while no bot runs, spread evenly over the organizations and so over their audit
channels. Then the fake Slack is told to answer every third chat.postMessage with 429 and
Retry-After: 1, and a fresh bot process is started: its dispatcher finds the backlog and works
through it, honouring every Retry-After for that channel only. Timed from the first
chat.postMessage the fake receives to the N-th accepted one (and from the process start).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.fake import TimedFakeSlack
from bench.seeding import toggle_targets
from bench.servers import ServerProcess
from handlers.actor import Actor
from handlers.members import ChangeRole, change_role
from handlers.outbox import pending_count
from handlers.validation import parse
from storage.uow import UnitOfWorkFactory

DRAIN_TIMEOUT_SECONDS = 120.0
RETRY_AFTER_SECONDS = 1
EVERY = 3


@dataclass
class DispatchResult:
    summaries: int
    channels: int
    delivered: int = 0
    seconds_first_post_to_last: float | None = None
    seconds_from_process_start: float | None = None
    rate_limited_answers: int = 0
    duplicates: int = 0
    per_channel_per_second: dict[str, float] = field(default_factory=dict)
    enqueue_seconds: float = 0.0
    complete: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def wait_until_drained(uow: UnitOfWorkFactory, within: float = DRAIN_TIMEOUT_SECONDS) -> int:
    """Wait for the running bot to deliver what is pending; returns what is left."""
    deadline = time.monotonic() + within
    left = await pending_count(uow())
    while left and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        left = await pending_count(uow())
    return left


async def enqueue_summaries(uow: UnitOfWorkFactory, count: int) -> float:
    """Commit `count` role changes, round-robin over the organizations; returns seconds."""
    operator = Actor.operator()
    targets = toggle_targets()
    roles = dict.fromkeys(targets, "technician")
    slugs = itertools.cycle(targets)
    started = time.perf_counter()
    for _ in range(count):
        slug = next(slugs)
        roles[slug] = "planner" if roles[slug] == "technician" else "technician"
        await change_role(
            uow(),
            operator,
            parse(ChangeRole, organization=slug, member=targets[slug], role=roles[slug]),
        )
    # Leave every target as seeded (an even number of flips each), for a later run's sake.
    for slug, role in roles.items():
        if role != "technician":
            await change_role(
                uow(),
                operator,
                parse(ChangeRole, organization=slug, member=targets[slug], role="technician"),
            )
    return time.perf_counter() - started


async def measure(
    fake: TimedFakeSlack,
    uow: UnitOfWorkFactory,
    start_bot: Any,
    count: int,
    *,
    within: float,
) -> DispatchResult:
    """With no bot running: enqueue, inject the rate limit, start a bot, time the delivery."""
    channels = len(toggle_targets())
    result = DispatchResult(summaries=count, channels=channels)
    result.enqueue_seconds = await enqueue_summaries(uow, count)
    backlog = await pending_count(uow())
    fake.reset()
    fake.rate_limit_every("chat.postMessage", EVERY, retry_after=RETRY_AFTER_SECONDS)
    bot: ServerProcess = start_bot()
    await bot.start()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if sum(1 for c in fake.calls_to("chat.postMessage") if c.ok) >= backlog:
                break
            await asyncio.sleep(0.1)
    finally:
        await bot.stop()
    posts = fake.calls_to("chat.postMessage")
    delivered = [c for c in posts if c.ok]
    result.delivered = len(delivered)
    result.complete = len(delivered) >= backlog
    result.rate_limited_answers = sum(1 for c in posts if c.status == 429)
    # The blocks carry the audit entry number, so equal blocks in one channel are one summary.
    seen = Counter((c.args.get("channel"), str(c.args.get("blocks"))) for c in delivered)
    result.duplicates = sum(n - 1 for n in seen.values())
    if posts and delivered:
        last = delivered[min(backlog, len(delivered)) - 1].at
        result.seconds_first_post_to_last = last - posts[0].at
        assert bot.started_at is not None
        result.seconds_from_process_start = last - bot.started_at
    by_channel: dict[str, list[float]] = {}
    for c in delivered:
        by_channel.setdefault(str(c.args.get("channel")), []).append(c.at)
    for channel, times in sorted(by_channel.items()):
        span = times[-1] - posts[0].at
        result.per_channel_per_second[channel] = round(len(times) / span, 2) if span > 0 else 0
    fake.reset()
    return result
