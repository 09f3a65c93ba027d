"""The outbox, seen from whoever delivers it: claim due messages, record what became of them.

Use cases write Slack messages to the outbox in the same transaction as their change; a
dispatcher (bot.dispatcher) claims them here with a lease, posts them, and reports back. Nothing
here knows Slack: a message is a kind, a channel and a payload, and an outcome is a ts or an
error string. A row is never deleted, so nothing is lost while Slack refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from handlers import removals
from handlers.errors import NotFound
from storage.models import utcnow
from storage.uow import UnitOfWork

# The smallest step between two available_at values: held-back messages follow the one retried.
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class PendingMessage:
    """A claimed message; its lease keeps other dispatchers off it until it is reported."""

    id: int
    org_id: int
    kind: str
    channel_id: str
    payload: dict[str, Any]
    attempts: int


async def claim_due(
    uow: UnitOfWork, *, limit: int = 20, lease_seconds: float = 60
) -> list[PendingMessage]:
    """Lease up to `limit` due messages, oldest first (available_at, id); commits the lease."""
    async with uow:
        rows = await uow.outbox.claim(limit=limit, lease=timedelta(seconds=lease_seconds))
        claimed = [
            PendingMessage(
                id=row.id,
                org_id=row.org_id,
                kind=row.kind,
                channel_id=row.channel_id,
                payload=dict(row.payload),
                attempts=row.attempts,
            )
            for row in rows
        ]
        await uow.commit()
    return claimed


async def mark_delivered(uow: UnitOfWork, message_id: int, ts: str | None) -> None:
    """Record that Slack accepted the message, and where it landed (`ts`).

    A removal request's message is remembered on the request first, so that its outcome can
    replace it later; should the process die in between, the post is retried (and remembered
    again) rather than leaving the request pointing nowhere.
    """
    async with uow:
        message = await uow.outbox.get(message_id)
        if message is None or message.delivered_at is not None:
            return
        if message.kind != removals.REMOVAL_REQUEST or ts is None:
            await uow.outbox.mark_delivered(message_id, ts)
            await uow.commit()
            return
        request_id = int(message.payload["request_id"])
        channel_id = message.channel_id
    try:
        await removals.record_request_message(uow, request_id, channel_id, ts)
    except NotFound:
        pass  # the request went with its organization; only the delivery is left to record
    async with uow:
        await uow.outbox.mark_delivered(message_id, ts)
        await uow.commit()


async def retry_later(
    uow: UnitOfWork, message_id: int, delay_seconds: float, error: str
) -> datetime:
    """Keep the message for another attempt after `delay_seconds`; returns when that is due.

    `error` is what operators see in last_error: an error code, never the message's content.
    """
    at = utcnow() + timedelta(seconds=max(0.0, delay_seconds))
    async with uow:
        await uow.outbox.reschedule(message_id, at, error)
        await uow.commit()
    return at


async def release(
    uow: UnitOfWork, message_ids: Sequence[int], *, after: datetime | None = None
) -> None:
    """Give back claimed messages that were not attempted, due just after `after` (or now).

    Their attempt is not counted and their last_error is left alone. They all get the same due
    time, one tick after `after`, so they follow a message retried at `after` and keep their
    creation order (id) among themselves, however many times they are held back.
    """
    due = (after or utcnow()) + _TICK
    async with uow:
        for message_id in message_ids:
            message = await uow.outbox.get(message_id)
            if message is None or message.delivered_at is not None:
                continue
            message.available_at = due
            message.attempts = max(0, message.attempts - 1)
        await uow.commit()


async def next_due_in(uow: UnitOfWork) -> float | None:
    """Seconds until the next pending message is due (0 if one is due now); None if none."""
    async with uow:
        due_at = await uow.outbox.next_due_at()
    if due_at is None:
        return None
    return max(0.0, (due_at - utcnow()).total_seconds())


async def pending_count(uow: UnitOfWork) -> int:
    """Messages not delivered yet, whether due, leased or waiting to be retried."""
    async with uow:
        return await uow.outbox.pending_count()
