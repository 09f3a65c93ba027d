"""The outbox dispatcher on SQLite and PostgreSQL, posting over real HTTP to a fake Slack.

Every summary must reach the audit channel exactly once and in order, whatever Slack does
(fail, time out, rate limit, refuse) and whatever the bot does (restart, die holding a lease,
run twice against one database). Assertions are on what Slack received and on the outbox rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update

from bot.dispatcher import OutboxDispatcher
from handlers import outbox
from handlers.actor import Actor
from handlers.importing import import_members, read_csv
from handlers.members import ChangeRole, change_role
from handlers.organizations import (
    ConfigureOrganization,
    CreateOrganization,
    configure_organization,
    create_organization,
)
from handlers.removals import RemoveOrRequest, ResolveRemoval, remove_or_request, resolve_removal
from handlers.validation import parse
from slackfake import Call, FakeSlack
from storage.models import OutboxMessage, RemovalRequest, utcnow
from storage.uow import UnitOfWorkFactory

ADA = "ada@acme.example.com"
ABE = "abe@acme.example.com"
BOB = "bob@acme.example.com"
CAL = "cal@beta.example.com"
AUDIT = "C0AUDIT"
CLIENT_TIMEOUT = 0.5
# How early a retry may look, measured on the fake's clock, before we call it too early.
EPSILON = 0.05
# Bob's role walks this cycle, so every change is a real one (viewer is where he starts).
ROLE_CYCLE = ("planner", "technician", "viewer")


# -- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    # An injected "timeout" holds its answer for timeout_seconds + 1 s; the client gives up first.
    async with FakeSlack(timeout_seconds=0.2) as fake:
        fake.add_channel(AUDIT, "acme-audit")
        yield fake


async def organization(
    uow: UnitOfWorkFactory, slug: str, name: str, members: dict[str, str]
) -> dict[str, Actor]:
    """An organization and its members, imported by the operator (no passwords to hash, so
    seeding stays fast); returns each member as an Actor acting through Slack."""
    await create_organization(uow(), parse(CreateOrganization, slug=slug, name=name))
    csv = ["email,name,role"]
    csv += [f"{email},{email.split('@')[0].title()},{role}" for email, role in members.items()]
    await import_members(uow(), Actor.operator(), slug, read_csv(csv))
    actors = {}
    async with uow() as u:
        for email in members:
            user = await u.users.get_by_email(email)
            actors[email] = Actor.member(user.id, email, source="slack", context={"team_id": "T1"})
    return actors


@pytest.fixture
async def ada(uow: UnitOfWorkFactory) -> Actor:
    """Acme Mining with Ada (Admin), Abe (Admin), Bob (Viewer) and an audit channel; the one
    summary queued is that of setting the channel."""
    actors = await organization(
        uow, "acme", "Acme Mining", {ADA: "admin", ABE: "admin", BOB: "viewer"}
    )
    await configure_organization(
        uow(), actors[ADA], parse(ConfigureOrganization, organization="acme", audit_channel=AUDIT)
    )
    return actors[ADA]


def slack_client(slack: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    # retry_handlers=[]: no retry inside the client, so every failure reaches the dispatcher,
    # which owns retries (and must see each 429 to pause only its channel).
    return AsyncWebClient(
        base_url=slack.api_base_url,
        token=slack.token,
        timeout=CLIENT_TIMEOUT,  # type: ignore[arg-type]  # slack_sdk hints int; aiohttp takes float
        retry_handlers=[],
        **kwargs,
    )


def make_dispatcher(uow: UnitOfWorkFactory, slack: FakeSlack, **kwargs: Any) -> OutboxDispatcher:
    options: dict[str, Any] = {"poll_seconds": 0.02, "base_backoff": 0.05, "max_backoff": 0.5}
    options.update(kwargs)
    client = options.pop("client", None) or slack_client(slack)
    return OutboxDispatcher(uow, client, **options)


@contextlib.asynccontextmanager
async def running(*dispatchers: OutboxDispatcher) -> AsyncIterator[None]:
    for dispatcher in dispatchers:
        dispatcher.start()
    try:
        yield
    finally:
        for dispatcher in dispatchers:
            await dispatcher.stop()


async def drained(uow: UnitOfWorkFactory, *, within: float = 5.0) -> None:
    """Wait until every outbox message is delivered (the fake answers before the row is marked)."""
    deadline = time.monotonic() + within
    while (left := await outbox.pending_count(uow())) > 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"{left} message(s) still pending after {within}s")
        await asyncio.sleep(0.02)


async def change_bob(uow: UnitOfWorkFactory, ada: Actor, count: int) -> list[tuple[str, str]]:
    """`count` role changes of Bob's, each with its summary; returns (before, after) labels."""
    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        bob = await u.users.get_by_email(BOB)
        before = (await u.memberships.get(org.id, bob.id)).role
    roles = itertools.cycle(ROLE_CYCLE)
    while next(roles) != before:
        pass
    changes = []
    for role in itertools.islice(roles, count):
        await change_role(uow(), ada, parse(ChangeRole, organization="acme", member=BOB, role=role))
        changes.append((before.capitalize(), role.capitalize()))
        before = role
    return changes


async def outbox_rows(uow: UnitOfWorkFactory) -> list[OutboxMessage]:
    async with uow() as u:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        return list((await u.outbox.session.scalars(stmt)).all())


def posts(slack: FakeSlack) -> list[Call]:
    return slack.calls_to("chat.postMessage")


def texts(slack: FakeSlack, channel: str = AUDIT) -> list[str]:
    """The texts of the channel's messages, oldest first."""
    return [m["text"] for m in slack.messages(channel)]


def assert_role_summaries(summaries: list[str], changes: list[tuple[str, str]]) -> None:
    """Each text names the actor, the member and before → after, in the order of the changes."""
    assert len(summaries) == len(changes)
    for text, (before, after) in zip(summaries, changes, strict=True):
        assert ADA in text and BOB in text and "Acme Mining" in text, text
        assert f"{before} → {after}" in text, text


# -- delivery -------------------------------------------------------------------------------------


async def test_each_summary_reaches_the_audit_channel_once_in_order(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    changes = await change_bob(uow, ada, 5)

    async with running(make_dispatcher(uow, slack)):
        await drained(uow)

    assert [c.ok for c in posts(slack)] == [True] * 6
    summaries = texts(slack)
    assert "set the audit channel of *Acme Mining* to <#C0AUDIT>" in summaries[0]
    assert_role_summaries(summaries[1:], changes)
    rows = await outbox_rows(uow)
    assert all(r.delivered_at is not None and r.last_error is None for r in rows)
    assert [r.message_ts for r in rows] == [m["ts"] for m in slack.messages(AUDIT)]
    assert [r.attempts for r in rows] == [1] * 6


@pytest.mark.parametrize("failure", [500, "timeout"])
async def test_server_errors_and_timeouts_are_retried_and_posted_once(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor, failure: int | str
):
    changes = await change_bob(uow, ada, 3)
    slack.fail("chat.postMessage", status=failure, times=2)
    # A retry due at once: the summaries behind the failed one must wait for it all the same.
    dispatcher = make_dispatcher(uow, slack, base_backoff=0.001)

    async with running(dispatcher):
        await drained(uow)

    calls = posts(slack)
    assert [c.injected for c in calls] == [str(failure), str(failure)] + [None] * 4
    # The first summary was retried; the others waited behind it, so the order held.
    assert_role_summaries(texts(slack)[1:], changes)
    assert len(texts(slack)) == 4
    rows = await outbox_rows(uow)
    assert [r.attempts for r in rows] == [3, 1, 1, 1]
    assert all(r.delivered_at is not None for r in rows)


async def test_summaries_wait_while_slack_is_unreachable_and_follow_once_it_is_back(
    uow: UnitOfWorkFactory, ada: Actor
):
    changes = await change_bob(uow, ada, 2)
    gone = await FakeSlack().start()
    port = gone.port
    await gone.stop()  # nothing listens there now: every call is refused
    client = AsyncWebClient(
        base_url=f"http://127.0.0.1:{port}/api/", token=gone.token, retry_handlers=[]
    )
    dispatcher = make_dispatcher(uow, gone, client=client)

    assert await dispatcher.run_once() == 0
    rows = await outbox_rows(uow)
    assert all(r.delivered_at is None for r in rows)
    assert rows[0].last_error.startswith("connection error") and rows[0].attempts == 1
    # One refused connection pauses the channel: the others were not even tried.
    assert [(r.last_error, r.attempts) for r in rows[1:]] == [(None, 0), (None, 0)]

    async with FakeSlack(port=port) as back:
        back.add_channel(AUDIT, "acme-audit")
        async with running(dispatcher):
            await drained(uow)
        assert [c.ok for c in posts(back)] == [True] * 3
        assert_role_summaries(texts(back)[1:], changes)


async def test_a_hanging_post_is_cut_off_even_when_the_client_would_wait_longer(
    uow: UnitOfWorkFactory, ada: Actor
):
    # As the server builds it: one shared aiohttp session, and then slack_sdk does not apply
    # its own timeout at all. The dispatcher bounds each call itself.
    async with FakeSlack(timeout_seconds=10) as hanging, aiohttp.ClientSession() as session:
        hanging.add_channel(AUDIT, "acme-audit")
        hanging.fail("chat.postMessage", status="timeout", times=1)
        client = AsyncWebClient(
            base_url=hanging.api_base_url, token=hanging.token, session=session, retry_handlers=[]
        )
        dispatcher = make_dispatcher(uow, hanging, client=client, post_timeout=CLIENT_TIMEOUT)
        started = time.monotonic()

        async with running(dispatcher):
            await drained(uow, within=3)

        assert time.monotonic() - started < 3
        assert [c.injected for c in posts(hanging)] == ["timeout", None]
        assert len(hanging.messages(AUDIT)) == 1


async def test_rate_limit_retry_after_is_honoured_and_pauses_only_that_channel(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    # A second organization with its own audit channel, its first summary already delivered.
    beta = await organization(uow, "beta", "Beta Quarry", {CAL: "admin"})
    await configure_organization(
        uow(), beta[CAL], parse(ConfigureOrganization, organization="beta", audit_channel="C0BETA")
    )
    slack.add_channel("C0BETA", "beta-audit")
    dispatcher = make_dispatcher(uow, slack)
    while await dispatcher.run_once():
        pass
    slack.reset()

    changes = await change_bob(uow, ada, 3)
    slack.fail("chat.postMessage", status=429, retry_after=1)
    async with running(dispatcher):
        [limited] = await slack.wait_for(lambda c: c.injected == "429")
        # Acme's channel waits out Retry-After; Beta's summary must not wait with it.
        await configure_organization(
            uow(), beta[CAL], parse(ConfigureOrganization, organization="beta", removal_approvals=2)
        )
        await drained(uow)

    acme_calls = [c for c in posts(slack) if c.args["channel"] == AUDIT]
    assert acme_calls[0] is limited
    assert len(acme_calls) == 4
    assert all(c.at >= limited.at + 1 - EPSILON for c in acme_calls[1:])
    assert_role_summaries(texts(slack), changes)
    [beta_call] = [c for c in posts(slack) if c.args["channel"] == "C0BETA"]
    assert beta_call.ok and beta_call.at < acme_calls[1].at


# -- restarts and crashes -------------------------------------------------------------------------


async def test_a_new_dispatcher_delivers_what_a_stopped_one_left_pending_in_order(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    changes = await change_bob(uow, ada, 3)
    slack.fail("chat.postMessage", status=503, times=1)
    # The retry is due in 1 to 2 s: room for the next change to land first even on a busy CI.
    first = make_dispatcher(uow, slack, base_backoff=2.0, max_backoff=2.0)
    assert await first.run_once() == 0
    # The process goes away; a change made meanwhile is due before the first summary's retry.
    changes += await change_bob(uow, ada, 1)
    rows = await outbox_rows(uow)
    assert rows[-1].available_at < rows[0].available_at
    await asyncio.sleep(2.05)

    # Same database, new process: nothing but the outbox carries over.
    async with running(make_dispatcher(uow, slack)):
        await drained(uow)

    assert [c.ok for c in posts(slack)] == [False, True, True, True, True, True]
    assert_role_summaries(texts(slack)[1:], changes)


async def test_messages_held_by_a_dispatcher_that_died_are_posted_when_its_lease_ends(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    changes = await change_bob(uow, ada, 2)
    # A dispatcher claims everything and dies before posting anything.
    held = await outbox.claim_due(uow(), limit=10, lease_seconds=1)
    assert len(held) == 3
    claimed_at = time.monotonic()

    survivor = make_dispatcher(uow, slack)
    assert await survivor.run_once() == 0  # leased to the dead one: not touched
    assert posts(slack) == []
    async with running(survivor):
        await drained(uow)

    assert all(c.ok and c.at >= claimed_at + 1 - EPSILON for c in posts(slack))
    assert_role_summaries(texts(slack)[1:], changes)
    assert [r.attempts for r in await outbox_rows(uow)] == [2, 2, 2]


# -- Slack failing does not touch the change ------------------------------------------------------


async def test_the_change_is_committed_even_when_slack_is_failing(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    slack.fail("chat.postMessage", status=500, times=20)
    await change_bob(uow, ada, 1)
    dispatcher = make_dispatcher(uow, slack)

    assert await dispatcher.run_once() == 0

    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        bob = await u.users.get_by_email(BOB)
        membership = await u.memberships.get(org.id, bob.id)
        [latest] = await u.audit.latest(org.id, 1)
    assert membership.role == "planner"
    assert latest.action == "member.role_changed" and latest.target == BOB
    rows = await outbox_rows(uow)
    assert [r.delivered_at for r in rows] == [None, None]
    assert rows[0].last_error == "HTTP 500" and rows[0].attempts == 1
    assert rows[1].last_error is None and rows[1].attempts == 0  # held back behind the first
    assert slack.messages(AUDIT) == []


# -- refusals are kept, not lost ------------------------------------------------------------------


async def test_a_channel_slack_refuses_keeps_its_summaries_with_the_error(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    # The bot was never invited to C0GONE: Slack answers channel_not_found.
    await configure_organization(
        uow(), ada, parse(ConfigureOrganization, organization="acme", audit_channel="C0GONE")
    )
    await change_bob(uow, ada, 2)
    dispatcher = make_dispatcher(uow, slack, base_backoff=30, max_backoff=300)

    assert await dispatcher.run_once() == 1  # the summary queued for C0AUDIT before the switch
    assert await dispatcher.run_once() == 0  # C0GONE is not retried before its backoff

    [refused] = [c for c in posts(slack) if c.args["channel"] == "C0GONE"]
    assert refused.response["error"] == "channel_not_found"
    rows = await outbox_rows(uow)
    assert [r.channel_id for r in rows] == [AUDIT, "C0GONE", "C0GONE", "C0GONE"]
    assert [r.delivered_at is None for r in rows] == [False, True, True, True]
    assert rows[1].last_error == "channel_not_found" and rows[1].attempts == 1
    # The channel's other summaries wait behind it, unattempted.
    assert [(r.last_error, r.attempts) for r in rows[2:]] == [(None, 0), (None, 0)]
    assert await outbox.pending_count(uow()) == 3
    assert 15 <= await outbox.next_due_in(uow()) <= 30


async def test_a_message_slack_refuses_does_not_hold_up_the_ones_after_it(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    changes = await change_bob(uow, ada, 2)
    slack.fail("chat.postMessage", status="invalid_blocks", times=1)
    dispatcher = make_dispatcher(uow, slack, base_backoff=30, max_backoff=300)

    assert await dispatcher.run_once() == 2

    assert_role_summaries(texts(slack), changes)
    rows = await outbox_rows(uow)
    assert rows[0].delivered_at is None and rows[0].last_error == "invalid_blocks"
    assert all(r.delivered_at is not None for r in rows[1:])


# -- removal requests: posted, then replaced by their outcome -------------------------------------


async def test_a_removal_outcome_replaces_its_request_message_once_that_is_posted(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    async with uow() as u:
        abe_id = (await u.users.get_by_email(ABE)).id
    abe = Actor.member(abe_id, ABE, source="slack", context={"team_id": "T1"})
    await configure_organization(
        uow(), ada, parse(ConfigureOrganization, organization="acme", removal_approvals=2)
    )
    dispatcher = make_dispatcher(uow, slack)
    while await dispatcher.run_once():
        pass
    requested = await remove_or_request(
        uow(), ada, parse(RemoveOrRequest, organization="acme", member=BOB)
    )
    await resolve_removal(
        uow(), abe, parse(ResolveRemoval, request_id=requested.request_id, approve=True)
    )
    # The request's summary and its message are refused once (a refusal does not hold up the
    # channel), so the outcome comes up while the request's message is not posted yet.
    slack.fail("chat.postMessage", status="invalid_blocks", times=2)

    async with running(dispatcher):
        await drained(uow)

    async with uow() as u:
        request = await u.removal_requests.get(requested.request_id)
    assert request.message_channel_id == AUDIT and request.message_ts
    [update] = slack.calls_to("chat.update")
    assert update.ok and update.args["ts"] == request.message_ts
    [message] = [m for m in slack.messages(AUDIT) if m["ts"] == request.message_ts]
    assert "approved removing" in message["text"] and BOB in message["text"]
    assert "removal_review" not in str(slack.messages(AUDIT))  # no Review button left
    [outcome] = [r for r in await outbox_rows(uow) if r.kind == "removal_resolved"]
    assert outcome.attempts >= 2 and outcome.message_ts == request.message_ts
    assert [c.ok for c in posts(slack)].count(True) == len(slack.messages(AUDIT))


async def test_a_request_left_24_hours_is_expired_and_its_message_says_so(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    await configure_organization(
        uow(), ada, parse(ConfigureOrganization, organization="acme", removal_approvals=2)
    )
    requested = await remove_or_request(
        uow(), ada, parse(RemoveOrRequest, organization="acme", member=BOB)
    )
    dispatcher = make_dispatcher(uow, slack, expire_every=0.05)
    while await dispatcher.run_once():
        pass
    async with uow() as u:  # a day passes without a second Admin
        await u.removal_requests.session.execute(
            update(RemovalRequest)
            .where(RemovalRequest.id == requested.request_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await u.commit()

    async with running(dispatcher):
        [update_call] = await slack.wait_for("chat.update")
        await drained(uow)

    async with uow() as u:
        request = await u.removal_requests.get(requested.request_id)
        bob = await u.memberships.get(request.org_id, request.target_user_id)
    assert request.status == "expired" and bob is not None
    assert update_call.ok and update_call.args["ts"] == request.message_ts
    [message] = [m for m in slack.messages(AUDIT) if m["ts"] == request.message_ts]
    assert "expired without a second Admin's review" in message["text"]


# -- replicas -------------------------------------------------------------------------------------


async def test_two_dispatchers_deliver_200_summaries_each_exactly_once(
    uow: UnitOfWorkFactory, slack: FakeSlack, ada: Actor
):
    # Each replica signs its calls, to show that both took part.
    one = make_dispatcher(uow, slack, client=slack_client(slack, user_agent_prefix="replica-1"))
    two = make_dispatcher(uow, slack, client=slack_client(slack, user_agent_prefix="replica-2"))

    async with running(one, two):
        # Changes commit while both replicas claim, as they would in production.
        await change_bob(uow, ada, 200)
        await drained(uow, within=20)

    calls = posts(slack)
    assert len(calls) == 201 and all(c.ok for c in calls)
    messages = slack.messages(AUDIT)
    rows = await outbox_rows(uow)
    assert len(messages) == 201
    assert sorted(r.message_ts for r in rows) == sorted(m["ts"] for m in messages)
    assert all(r.attempts == 1 for r in rows)
    agents = {c.headers.get("User-Agent", "").split(" ")[0] for c in calls}
    assert agents == {"replica-1", "replica-2"}
    # Every summary's text is the one of its own change.
    by_ts = {m["ts"]: m["text"] for m in messages}
    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        entries = {e.seq: e async for e in u.audit.stream(org.id)}
    for row in rows[1:]:
        entry = entries[row.payload["seq"]]
        before, after = entry.before["role"].capitalize(), entry.after["role"].capitalize()
        assert f"{before} → {after}" in by_ts[row.message_ts]


async def test_the_dispatcher_refuses_a_client_that_sleeps_out_rate_limits(
    uow: UnitOfWorkFactory, slack: FakeSlack
):
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

    client = slack_client(slack)
    client.retry_handlers = [AsyncRateLimitErrorRetryHandler()]
    with pytest.raises(ValueError, match="Retry-After"):
        OutboxDispatcher(uow, client)
