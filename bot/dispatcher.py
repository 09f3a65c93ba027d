"""The outbox dispatcher: posts what use cases queued for Slack, at least once and in order.

A change commits its audit-channel message to the outbox together with the change itself
(handlers.audit_log); this loop claims due messages with a lease, posts them, and records the
outcome. Slack being slow, rate limited or down only delays messages: every failure is
rescheduled in the database, so a restart, or another replica, carries on where this one left
off, and a failed post never touches the change it reports.

Delivery is at least once. A claim is a lease, and no post starts unless it can finish (client
timeout included) well before the lease ends, so replicas sharing one PostgreSQL post each
message once in normal operation; a post that timed out may still have reached Slack, and is
then posted again.

Order: batches are claimed by (available_at, id); one channel's messages in a batch are posted
one after the other, oldest (lowest id) first. When one fails, the rest of that channel waits
behind it: they are given back unattempted, due just after it, and the channel is paused in
this process until then, so messages claimed meanwhile queue up behind it too. Other channels
go on. The order is kept by one dispatcher; replicas posting to one channel at once may
interleave their batches (each summary carries its audit entry number).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.audit_channel import render_outbox_message
from handlers import outbox, removals
from handlers.errors import DomainError
from handlers.outbox import PendingMessage
from handlers.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 20
DEFAULT_BASE_BACKOFF = 1.0
DEFAULT_MAX_BACKOFF = 300.0
DEFAULT_LEASE_SECONDS = 60.0
# A post is not started unless it can end (at the client timeout) this long before its lease:
# room for recording the outcome, and for clock differences between replicas.
LEASE_MARGIN_SECONDS = 5.0
# Pending removal requests expire after 24 hours; this is how often expiry is looked for.
EXPIRE_EVERY_SECONDS = 60.0

# Errors that concern the channel, not the message: everything queued for it would fail alike.
CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "team_access_not_granted",
        "ekm_access_denied",
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "org_login_required",
    }
)
# ok:false answers that only mean "not now".
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
# chat.update cannot reach the request's message any more (deleted, or too old to edit): the
# outcome is posted as a new message instead, so it is not lost.
UPDATE_GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})

Scope = Literal["channel", "message"]


@dataclass(frozen=True)
class Failure:
    """Why a message was not delivered, as stored in last_error and logged: codes, not content.

    scope: whether the whole channel waits behind this message ("channel", which keeps the
    channel's order) or only the message does ("message": a message Slack refuses must not
    hold back the ones after it).
    """

    error: str
    scope: Scope
    permanent: bool = False
    retry_after: float | None = None


class OutboxDispatcher:
    """Delivers the outbox to Slack in the background: start(), then await stop().

    Give it an AsyncWebClient without slack_sdk's AsyncRateLimitErrorRetryHandler: that handler
    sleeps out Retry-After inside the call, holding the message's lease and the channel's turn,
    and hides the 429 from the dispatcher. Here a 429 reschedules the message in the database
    (honouring Retry-After exactly) and pauses only its channel, so a slow or rate-limiting Slack
    never holds up other channels, a restart loses no retry, and every failure shows in
    last_error. Connection-error retries inside the client are harmless, but not needed.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        client: AsyncWebClient,
        *,
        poll_seconds: float = 1.0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        base_backoff: float = DEFAULT_BASE_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        lease_seconds: float | None = None,
        post_timeout: float | None = None,
        expire_every: float | None = EXPIRE_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if any(isinstance(h, AsyncRateLimitErrorRetryHandler) for h in client.retry_handlers):
            raise ValueError(
                "The outbox dispatcher needs a Slack client without "
                "AsyncRateLimitErrorRetryHandler: it honours Retry-After itself, per channel."
            )
        if poll_seconds <= 0 or batch_size < 1 or base_backoff <= 0 or max_backoff < base_backoff:
            raise ValueError("poll_seconds, batch_size and the backoffs must be positive")
        self._uow = uow_factory
        self._client = client
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        # The client's own timeout is not applied when it shares an aiohttp session, so the
        # dispatcher bounds every call itself; the lease is then sized from that bound.
        self._post_timeout = float(post_timeout or client.timeout)
        self._lease_seconds = float(
            lease_seconds or max(DEFAULT_LEASE_SECONDS, 3 * self._post_timeout)
        )
        if self._lease_seconds < self._post_timeout + 2 * LEASE_MARGIN_SECONDS:
            raise ValueError(
                f"lease_seconds must exceed the post timeout ({self._post_timeout:g}s) by "
                f"{2 * LEASE_MARGIN_SECONDS:g}s, or a slow post could outlive its lease"
            )
        self._expire_every = expire_every
        self._clock = clock
        self._jitter = jitter
        # Channels this process holds back until a failed message's retry is due.
        self._paused: dict[str, datetime] = {}
        self._last_expiry: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the delivery loop in a task of the running event loop."""
        if self._task is not None and not self._task.done():
            raise RuntimeError("the outbox dispatcher is already running")
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-dispatcher")

    async def stop(self, grace_seconds: float | None = None) -> None:
        """Let the batch in hand finish (up to `grace_seconds`), then end the loop.

        A post cut short by the grace period keeps its lease, and is retried when it ends.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        self._wake.set()
        grace = self._post_timeout + 1.0 if grace_seconds is None else grace_seconds
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        log.info(
            "outbox dispatcher started (batch %d, poll %gs)", self._batch_size, self._poll_seconds
        )
        while not self._stopping.is_set():
            try:
                claimed, _ = await self._deliver_batch()
                await self._expire_requests_when_due()
                # A full batch suggests more is due: go on without sleeping.
                delay = 0.0 if claimed >= self._batch_size else await self._idle_seconds()
            except Exception:
                # The loop must outlive a database or network outage; the messages are safe in
                # the outbox and their leases run out, so the next round picks them up.
                log.exception("outbox dispatcher: a round failed; next in %gs", self._poll_seconds)
                delay = self._poll_seconds
            await self._sleep(delay)
        log.info("outbox dispatcher stopped")

    async def _idle_seconds(self) -> float:
        due_in = await outbox.next_due_in(self._uow())
        return self._poll_seconds if due_in is None else min(self._poll_seconds, due_in)

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0 or self._stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _expire_requests_when_due(self) -> None:
        if self._expire_every is None:
            return
        now = self._clock()
        if self._last_expiry is not None and now - self._last_expiry < self._expire_every:
            return
        self._last_expiry = now
        expired = await removals.expire_removal_requests(self._uow())
        if expired:
            log.info("expired %d removal request(s) left without a second Admin's review", expired)

    # -- one batch --------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch, deliver what can be, reschedule the rest; returns how many landed."""
        _, delivered = await self._deliver_batch()
        return delivered

    async def _deliver_batch(self) -> tuple[int, int]:
        """(claimed, delivered) for one batch."""
        started = self._clock()
        messages = await outbox.claim_due(
            self._uow(), limit=self._batch_size, lease_seconds=self._lease_seconds
        )
        if not messages:
            return 0, 0
        # The lease began after `started`; stop starting posts while one could still outlive it.
        last_start = started + self._lease_seconds - LEASE_MARGIN_SECONDS - self._post_timeout
        by_channel: dict[str, list[PendingMessage]] = {}
        for message in messages:  # claimed in (available_at, id) order, kept per channel
            by_channel.setdefault(message.channel_id, []).append(message)
        results = await asyncio.gather(
            *(self._deliver_channel(msgs, last_start) for msgs in by_channel.values()),
            return_exceptions=True,
        )
        delivered = 0
        for result in results:
            if isinstance(result, BaseException):
                # Recording an outcome failed (the database, most likely). The channel's other
                # messages keep their lease and are retried when it ends.
                log.error("outbox dispatcher: a channel's batch stopped early", exc_info=result)
            else:
                delivered += result
        return len(messages), delivered

    async def _deliver_channel(self, messages: list[PendingMessage], last_start: float) -> int:
        """Post one channel's messages in order; returns how many were delivered."""
        delivered = 0
        # Creation order: a message coming back from a retry keeps its place ahead of newer ones
        # that came due before it (claims go by available_at, which a retry moves forward).
        queue = sorted(messages, key=lambda m: m.id)
        for index, message in enumerate(queue):
            held = [m.id for m in queue[index:]]
            paused_until = self._paused_until(message.channel_id)
            if paused_until is not None:
                await outbox.release(self._uow(), held, after=paused_until)
                return delivered
            if self._clock() > last_start:
                await outbox.release(self._uow(), held)
                return delivered
            failure = await self._deliver(message)
            if failure is None:
                delivered += 1
                continue
            delay = self._delay(message, failure)
            retry_at = await outbox.retry_later(self._uow(), message.id, delay, failure.error)
            self._log_failure(message, failure, delay)
            if failure.scope == "channel":
                # The rest waits behind this one, however soon its retry is due.
                self._paused[message.channel_id] = retry_at
                await outbox.release(self._uow(), held[1:], after=retry_at)
                return delivered
        return delivered

    def _paused_until(self, channel_id: str) -> datetime | None:
        until = self._paused.get(channel_id)
        if until is not None and until <= datetime.now(UTC):
            del self._paused[channel_id]
            return None
        return until

    def _delay(self, message: PendingMessage, failure: Failure) -> float:
        if failure.retry_after is not None:
            return failure.retry_after  # Slack said when; sooner is refused, later is wasted
        # Exponential in the attempts made, capped, with "equal jitter" so replicas that failed
        # together do not retry together.
        ceiling = min(self._max_backoff, self._base_backoff * 2 ** max(0, message.attempts - 1))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def _log_failure(self, message: PendingMessage, failure: Failure, delay: float) -> None:
        # Ids, kind and error code only: payloads hold names and emails, and are not logged.
        if failure.permanent:
            log.error(
                "outbox message %d (%s) to %s refused by Slack: %s. It is kept and retried in "
                "%.0fs (attempt %d); %s",
                message.id,
                message.kind,
                message.channel_id,
                failure.error,
                delay,
                message.attempts,
                _remedy(failure),
            )
        else:
            log.warning(
                "outbox message %d (%s) to %s not delivered: %s; retry in %.1fs (attempt %d)",
                message.id,
                message.kind,
                message.channel_id,
                failure.error,
                delay,
                message.attempts,
            )

    # -- one message ------------------------------------------------------------------------------

    async def _deliver(self, message: PendingMessage) -> Failure | None:
        """Post (or update) the message and record its ts; the failure, if it was not."""
        try:
            rendered = render_outbox_message(message.kind, message.payload)
        except Exception as exc:
            # A payload the renderer cannot handle is a bug, not a Slack problem; it must hold up
            # neither the loop nor the channel. The exception's text may quote the payload.
            return Failure(f"cannot render {message.kind}: {_where(exc)}", "message", True)
        try:
            if message.kind == removals.REMOVAL_RESOLVED:
                ts = await self._update_request_message(message, rendered)
            else:
                ts = await self._post(message.channel_id, rendered)
        except _NotDeliverable as exc:
            return exc.failure
        except SlackApiError as exc:
            return _api_failure(exc)
        except TimeoutError:
            return Failure(
                f"no answer within {self._post_timeout:g}s (it may have been posted)", "channel"
            )
        except (aiohttp.ClientError, OSError) as exc:
            return Failure(f"connection error ({type(exc).__name__})", "channel")
        except SlackClientError as exc:
            return Failure(f"Slack client error ({type(exc).__name__})", "message", True)
        await outbox.mark_delivered(self._uow(), message.id, ts)
        return None

    async def _post(self, channel_id: str, rendered: dict[str, Any]) -> str | None:
        async with asyncio.timeout(self._post_timeout):
            response = await self._client.chat_postMessage(
                channel=channel_id, text=rendered["text"], blocks=rendered.get("blocks")
            )
        return response.get("ts")

    async def _update_request_message(
        self, message: PendingMessage, rendered: dict[str, Any]
    ) -> str | None:
        """Replace the request's message with its outcome; it must have been posted first."""
        request_id = int(message.payload["request_id"])
        try:
            where = await removals.request_message(self._uow(), request_id)
        except DomainError as exc:
            raise _NotDeliverable(
                Failure(f"removal request not found ({exc.code})", "message", True)
            ) from None
        if where is None:
            raise _NotDeliverable(Failure("waiting for the removal request's message", "message"))
        channel_id, ts = where
        try:
            async with asyncio.timeout(self._post_timeout):
                response = await self._client.chat_update(
                    channel=channel_id, ts=ts, text=rendered["text"], blocks=rendered.get("blocks")
                )
        except SlackApiError as exc:
            if _slack_error(exc) not in UPDATE_GONE_ERRORS:
                raise
            log.warning(
                "outbox message %d (%s): the request's message cannot be updated (%s); "
                "posting the outcome as a new message",
                message.id,
                message.kind,
                _slack_error(exc),
            )
            return await self._post(message.channel_id, rendered)
        return response.get("ts") or ts


class _NotDeliverable(Exception):
    """Raised on the way to Slack when a message cannot be sent (yet), for a known reason."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.error)
        self.failure = failure


def _api_failure(exc: SlackApiError) -> Failure:
    status = getattr(exc.response, "status_code", None)
    if status == 429:
        return Failure("rate limited (HTTP 429)", "channel", retry_after=_retry_after(exc))
    if isinstance(status, int) and status >= 500:
        return Failure(f"HTTP {status}", "channel")
    error = _slack_error(exc)
    if status == 200 and error:
        if error in TRANSIENT_ERRORS:
            return Failure(error, "channel")
        return Failure(error, "channel" if error in CHANNEL_ERRORS else "message", permanent=True)
    return Failure(f"HTTP {status}", "message", permanent=True)


def _slack_error(exc: SlackApiError) -> str | None:
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    return None


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            with contextlib.suppress(ValueError):
                return max(0.0, float(value))
    return 1.0  # Slack always sends it; one second is its usual answer


def _remedy(failure: Failure) -> str:
    if failure.error in ("channel_not_found", "not_in_channel", "is_archived"):
        return "invite the bot to the channel, or choose another audit channel"
    if failure.scope == "channel":
        return "check the bot's token and scopes"
    return "the message itself needs fixing (see the error)"


def _where(exc: BaseException) -> str:
    """The exception's type and where it was raised, without its text (it may quote a payload)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
