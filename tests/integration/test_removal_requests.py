"""Removals that need a second Admin, on SQLite and PostgreSQL, asserting database outcomes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update

from handlers.actor import Actor
from handlers.audit_queries import verify_audit
from handlers.errors import (
    AlreadyExists,
    InvalidInput,
    LastAdmin,
    MemberNotFound,
    NotFound,
    PermissionDenied,
    RequestClosed,
    RuleViolation,
    SelfChange,
)
from handlers.members import MemberChange
from handlers.organizations import ConfigureOrganization, configure_organization
from handlers.removals import (
    RemovalRequested,
    RemovalResolution,
    RemoveOrRequest,
    ResolveRemoval,
    expire_removal_requests,
    get_removal_request,
    record_request_message,
    remove_or_request,
    request_message,
    resolve_removal,
)
from handlers.roles import Role
from handlers.validation import parse
from storage.database import Database
from storage.models import AuditEntry, OutboxMessage, RemovalRequest, utcnow
from storage.uow import UnitOfWorkFactory
from tests import seed

ADA = "ada@acme.example.com"
ABE = "abe@acme.example.com"
ANN = "ann@acme.example.com"
PAT = "pat@acme.example.com"
SLACK_IDS = {ADA: "U0ADA", ABE: "U0ABE", ANN: "U0ANN", PAT: "U0PAT"}
AUDIT_CHANNEL = "C0AUDIT"
ZED = "zed@zinc.example.com"
ZOE = "zoe@zinc.example.com"


def via_slack(actor: Actor, slack_user_id: str) -> Actor:
    """The actor as the Slack edge builds it: Slack ids in the context."""
    assert actor.user_id is not None
    return Actor.member(
        actor.user_id,
        actor.label,
        source="slack",
        context={"team_id": "T1", "user_id": slack_user_id, "channel_id": "C0CMD"},
    )


@pytest.fixture
async def acme(uow: UnitOfWorkFactory, operator: Actor) -> dict[str, Actor]:
    actors = await seed.org_with_members(
        uow,
        "acme",
        "Acme Mining",
        {ADA: "admin", ABE: "admin", ANN: "admin", PAT: "planner"},
    )
    await configure_organization(
        uow(),
        operator,
        parse(
            ConfigureOrganization,
            organization="acme",
            audit_channel=AUDIT_CHANNEL,
            removal_approvals=2,
        ),
    )
    return {email: via_slack(actor, SLACK_IDS[email]) for email, actor in actors.items()}


async def ask(uow: UnitOfWorkFactory, actor: Actor, member: str, org: str = "acme"):
    result = await remove_or_request(
        uow(), actor, parse(RemoveOrRequest, organization=org, member=member)
    )
    assert isinstance(result, RemovalRequested)
    return result


async def decide(
    uow: UnitOfWorkFactory, actor: Actor, request_id: int, approve: bool, reason: str | None = None
) -> RemovalResolution:
    return await resolve_removal(
        uow(),
        actor,
        parse(ResolveRemoval, request_id=request_id, approve=approve, reason=reason),
    )


async def role_of(uow: UnitOfWorkFactory, email: str, slug: str = "acme") -> str | None:
    async with uow() as u:
        org = await u.organizations.get_by_slug(slug)
        user = await u.users.get_by_email(email)
        assert org is not None and user is not None
        membership = await u.memberships.get(org.id, user.id)
        return membership.role if membership else None


async def user_id(uow: UnitOfWorkFactory, email: str) -> int:
    async with uow() as u:
        user = await u.users.get_by_email(email)
        assert user is not None
        return user.id


async def member_count(uow: UnitOfWorkFactory, slug: str = "acme") -> int:
    async with uow() as u:
        org = await u.organizations.get_by_slug(slug)
        assert org is not None
        return org.member_count


async def entries(uow: UnitOfWorkFactory, slug: str = "acme") -> list[AuditEntry]:
    async with uow() as u:
        org = await u.organizations.get_by_slug(slug)
        assert org is not None
        return [e async for e in u.audit.stream(org.id)]


async def actions(uow: UnitOfWorkFactory, slug: str = "acme") -> list[str]:
    return [e.action for e in await entries(uow, slug)]


async def stored_request(uow: UnitOfWorkFactory, request_id: int) -> RemovalRequest:
    async with uow() as u:
        request = await u.removal_requests.get(request_id)
        assert request is not None
        return request


async def outbox(uow: UnitOfWorkFactory, kind: str | None = None) -> list[OutboxMessage]:
    """Every undelivered outbox row in order; the claim is rolled back, so nothing changes."""
    async with uow() as u:
        rows = await u.outbox.claim(limit=1000, lease=timedelta(seconds=30))
    return [m for m in rows if kind is None or m.kind == kind]


async def make_overdue(database: Database, request_id: int) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(
            update(RemovalRequest)
            .where(RemovalRequest.id == request_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )


def summary_actions(rows: list[OutboxMessage]) -> list[str]:
    return [m.payload["action"] for m in rows if m.kind == "audit_summary"]


async def test_a_request_removes_nobody_and_asks_the_audit_channel(uow, acme):
    before = utcnow()
    requested = await ask(uow, acme[ADA], PAT)

    assert (requested.organization, requested.organization_slug) == ("Acme Mining", "acme")
    assert (requested.email, requested.name, requested.role) == (PAT, "Pat", Role.PLANNER)
    assert requested.requested_by == ADA
    assert before + timedelta(hours=24) <= requested.expires_at <= utcnow() + timedelta(hours=24)
    assert await role_of(uow, PAT) == "planner"
    assert await member_count(uow) == 4

    stored = await stored_request(uow, requested.request_id)
    assert stored.status == "pending"
    assert stored.target_user_id == await user_id(uow, PAT)
    assert stored.requested_by_user_id == await user_id(uow, ADA)
    assert stored.expires_at - stored.created_at == timedelta(hours=24)
    assert stored.requester_context == {"team_id": "T1", "user_id": "U0ADA", "channel_id": "C0CMD"}
    assert stored.resolved_at is None and stored.resolved_by_user_id is None

    entry = (await entries(uow))[-1]
    assert (entry.action, entry.actor, entry.target) == ("member.removal_requested", ADA, PAT)
    assert entry.before == {"email": PAT, "name": "Pat", "role": "planner"}
    assert entry.after == entry.before | {"pending_removal": True, "request_id": stored.id}
    assert entry.diff == {"pending_removal": [None, True], "request_id": [None, stored.id]}
    assert "member.removed" not in await actions(uow)

    rows = await outbox(uow)
    assert [m.kind for m in rows[-2:]] == ["audit_summary", "removal_request"]
    assert rows[-2].payload["action"] == "member.removal_requested"
    card = rows[-1]
    assert card.channel_id == AUDIT_CHANNEL
    assert card.payload == {
        "request_id": stored.id,
        "organization": "Acme Mining",
        "organization_slug": "acme",
        "email": PAT,
        "name": "Pat",
        "role": "planner",
        "requested_by": ADA,
        "expires_at": stored.expires_at.isoformat(),
    }


async def test_a_request_checks_the_rules_when_it_is_made(uow, acme):
    before = await actions(uow)
    with pytest.raises(SelfChange, match="cannot remove yourself from Acme Mining"):
        await ask(uow, acme[ADA], ADA)
    with pytest.raises(MemberNotFound, match="ghost@acme.example.com is not a member of Acme"):
        await ask(uow, acme[ADA], "ghost@acme.example.com")
    with pytest.raises(PermissionDenied, match="only Admins of Acme Mining.*Planner"):
        await ask(uow, acme[PAT], ABE)
    assert await actions(uow) == before
    assert await outbox(uow, "removal_request") == []


async def test_a_request_needs_an_audit_channel(uow, operator):
    actors = await seed.org_with_members(
        uow,
        "zinc",
        "Zinc Works",
        {ZED: "admin", ZOE: "viewer"},
    )
    await configure_organization(
        uow(), operator, parse(ConfigureOrganization, organization="zinc", removal_approvals=2)
    )
    with pytest.raises(RuleViolation) as caught:
        await ask(uow, actors[ZED], ZOE, org="zinc")
    assert "Zinc Works" in caught.value.message
    assert "`/minesync config audit-channel #channel`" in caught.value.message
    assert await role_of(uow, ZOE, "zinc") == "viewer"
    assert (await actions(uow, "zinc"))[-1] == "org.removal_approvals_changed"


async def test_a_second_pending_request_for_the_same_member_is_refused(uow, acme):
    first = await ask(uow, acme[ADA], PAT)
    with pytest.raises(
        AlreadyExists,
        match=rf"ada@acme.example.com already asked to remove pat@acme.example.com from "
        rf"Acme Mining \(request #{first.request_id}\)",
    ):
        await ask(uow, acme[ABE], PAT)
    with pytest.raises(AlreadyExists, match="^You already asked to remove pat@acme"):
        await ask(uow, acme[ADA], PAT)
    assert (await actions(uow)).count("member.removal_requested") == 1
    assert len(await outbox(uow, "removal_request")) == 1


async def test_the_requester_can_neither_review_nor_approve(uow, acme):
    requested = await ask(uow, acme[ADA], PAT)
    message = "You asked for this removal; another Admin of Acme Mining must review it."
    with pytest.raises(PermissionDenied) as caught:
        await get_removal_request(uow(), acme[ADA], requested.request_id)
    assert caught.value.message == message
    with pytest.raises(PermissionDenied) as caught:
        await decide(uow, acme[ADA], requested.request_id, approve=True)
    assert caught.value.message == message
    assert (await stored_request(uow, requested.request_id)).status == "pending"
    assert await role_of(uow, PAT) == "planner"


async def test_the_member_cannot_decide_their_own_removal(uow, acme):
    requested = await ask(uow, acme[ADA], ANN)
    with pytest.raises(PermissionDenied, match="This request is to remove you from Acme Mining"):
        await get_removal_request(uow(), acme[ANN], requested.request_id)
    with pytest.raises(PermissionDenied, match="This request is to remove you from Acme Mining"):
        await decide(uow, acme[ANN], requested.request_id, approve=False, reason="I stay")
    assert (await stored_request(uow, requested.request_id)).status == "pending"
    assert await role_of(uow, ANN) == "admin"


async def test_only_admins_may_review(uow, acme):
    requested = await ask(uow, acme[ADA], ANN)
    with pytest.raises(PermissionDenied, match="only Admins of Acme Mining"):
        await get_removal_request(uow(), acme[PAT], requested.request_id)
    with pytest.raises(PermissionDenied, match="only Admins of Acme Mining"):
        await decide(uow, acme[PAT], requested.request_id, approve=True)
    with pytest.raises(NotFound, match="no removal request #999"):
        await get_removal_request(uow(), acme[ABE], 999)


async def test_the_review_shows_the_request_as_it_stands(uow, acme):
    requested = await ask(uow, acme[ADA], PAT)
    view = await get_removal_request(uow(), acme[ABE], requested.request_id)
    assert view.id == requested.request_id
    assert (view.organization, view.organization_slug) == ("Acme Mining", "acme")
    assert (view.email, view.name, view.role, view.status) == (PAT, "Pat", Role.PLANNER, "pending")
    assert (view.requested_by, view.requested_by_user_id) == (ADA, await user_id(uow, ADA))
    assert view.expires_at == requested.expires_at


async def test_another_admin_approves_and_the_member_is_removed(uow, acme):
    requested = await ask(uow, acme[ADA], PAT)
    outbox_before = len(await outbox(uow))
    resolution = await decide(uow, acme[ABE], requested.request_id, approve=True)

    assert (resolution.status, resolution.resolved_by, resolution.email) == ("approved", ABE, PAT)
    assert isinstance(resolution.change, MemberChange)
    assert (resolution.change.role_before, resolution.change.role_after) == (Role.PLANNER, None)
    assert await role_of(uow, PAT) is None
    assert await member_count(uow) == 3
    async with uow() as u:
        assert await u.users.get_by_email(PAT) is not None  # the account is kept

    stored = await stored_request(uow, requested.request_id)
    assert stored.status == "approved"
    assert stored.resolved_by_user_id == await user_id(uow, ABE)
    assert stored.resolved_at is not None

    log = await entries(uow)
    assert [e.action for e in log[-3:]] == [
        "member.removal_requested",
        "member.removal_approved",
        "member.removed",
    ]
    approved, removed = log[-2], log[-1]
    assert (approved.actor, approved.target) == (ABE, PAT)
    assert approved.diff == {"status": ["pending", "approved"]}
    assert approved.after == {"request_id": stored.id, "requested_by": ADA, "status": "approved"}
    assert (removed.actor, removed.before, removed.after) == (
        ABE,
        {"email": PAT, "name": "Pat", "role": "planner"},
        None,
    )
    assert removed.context["removal_request"] == stored.id
    assert resolution.change.audit_seq == removed.seq

    new = (await outbox(uow))[outbox_before:]
    assert summary_actions(new) == ["member.removal_approved", "member.removed"]
    [resolved] = [m for m in new if m.kind == "removal_resolved"]
    assert resolved.channel_id == AUDIT_CHANNEL
    assert resolved.payload == {
        "request_id": stored.id,
        "organization": "Acme Mining",
        "email": PAT,
        "name": "Pat",
        "role": "planner",
        "requested_by": ADA,
        "status": "approved",
        "resolved_by": ABE,
        "resolved_at": stored.resolved_at.isoformat(),
        "reason": None,
    }
    [notice] = [m for m in new if m.kind == "direct_notice"]
    assert notice.channel_id == "U0ADA"
    assert notice.payload["text"].startswith(
        "Your request to remove Pat (pat@acme.example.com) from Acme Mining was approved by "
        "abe@acme.example.com."
    )
    assert (await verify_audit(uow(), "acme")).intact


async def test_rejecting_needs_a_reason(uow, acme):
    requested = await ask(uow, acme[ADA], PAT)
    for reason in (None, "", "   \n "):
        with pytest.raises(InvalidInput) as caught:
            parse(ResolveRemoval, request_id=requested.request_id, approve=False, reason=reason)
        assert caught.value.errors == {"reason": "Give a reason for rejecting."}
    with pytest.raises(InvalidInput, match="at most 500 characters"):
        parse(ResolveRemoval, request_id=requested.request_id, approve=False, reason="x" * 501)
    with pytest.raises(InvalidInput, match="printable"):
        parse(ResolveRemoval, request_id=requested.request_id, approve=False, reason="bell\x07")
    assert (await stored_request(uow, requested.request_id)).status == "pending"


async def test_a_rejection_keeps_the_member_and_records_the_reason(uow, acme):
    requested = await ask(uow, acme[ADA], PAT)
    reason = "Pat runs the night shift\nuntil March."
    resolution = await decide(uow, acme[ABE], requested.request_id, approve=False, reason=reason)

    assert (resolution.status, resolution.reason, resolution.change) == ("rejected", reason, None)
    assert await role_of(uow, PAT) == "planner"
    assert await member_count(uow) == 4
    stored = await stored_request(uow, requested.request_id)
    assert (stored.status, stored.reason) == ("rejected", reason)
    assert stored.resolved_by_user_id == await user_id(uow, ABE)

    log = await entries(uow)
    assert [e.action for e in log[-2:]] == ["member.removal_requested", "member.removal_rejected"]
    assert log[-1].actor == ABE
    assert log[-1].diff == {"reason": [None, reason], "status": ["pending", "rejected"]}
    assert "member.removed" not in [e.action for e in log]

    [resolved] = await outbox(uow, "removal_resolved")
    assert resolved.payload["status"] == "rejected"
    assert resolved.payload["reason"] == reason
    assert resolved.payload["resolved_by"] == ABE
    [notice] = await outbox(uow, "direct_notice")
    assert notice.channel_id == "U0ADA"
    assert "was rejected by abe@acme.example.com" in notice.payload["text"]
    assert reason in notice.payload["text"]
    assert "pat@acme.example.com keeps their access as Planner" in notice.payload["text"]


async def test_approval_is_refused_once_the_member_is_the_last_admin(uow, acme, operator):
    requested = await ask(uow, acme[ADA], ABE)
    # Meanwhile the operator removes the other Admins (the operator removes at once).
    for email in (ADA, ANN):
        change = await remove_or_request(
            uow(), operator, parse(RemoveOrRequest, organization="acme", member=email)
        )
        assert isinstance(change, MemberChange)
    with pytest.raises(LastAdmin) as caught:
        await decide(uow, operator, requested.request_id, approve=True)
    assert caught.value.message == (
        "abe@acme.example.com is now the last Admin of Acme Mining, and an organization must "
        "keep at least one Admin, so this removal cannot be approved."
    )
    assert await role_of(uow, ABE) == "admin"
    assert (await stored_request(uow, requested.request_id)).status == "pending"
    assert "member.removal_approved" not in await actions(uow)
    assert await outbox(uow, "removal_resolved") == []


async def test_approval_of_someone_no_longer_a_member_is_refused(uow, acme, operator):
    requested = await ask(uow, acme[ADA], PAT)
    await remove_or_request(
        uow(), operator, parse(RemoveOrRequest, organization="acme", member=PAT)
    )
    view = await get_removal_request(uow(), acme[ABE], requested.request_id)
    assert view.role is None
    with pytest.raises(MemberNotFound, match="no longer a member of Acme Mining"):
        await decide(uow, acme[ABE], requested.request_id, approve=True)
    resolution = await decide(uow, acme[ABE], requested.request_id, approve=False, reason="Gone")
    assert resolution.status == "rejected"
    [notice] = await outbox(uow, "direct_notice")
    assert "is no longer a member of Acme Mining anyway" in notice.payload["text"]


async def test_an_expired_request_cannot_be_approved(uow, acme, database):
    requested = await ask(uow, acme[ADA], PAT)
    await make_overdue(database, requested.request_id)

    with pytest.raises(RequestClosed, match="expired at"):
        await get_removal_request(uow(), acme[ABE], requested.request_id)
    with pytest.raises(
        RequestClosed,
        match="^This request to remove pat@acme.example.com from Acme Mining expired at .* "
        "without a second Admin's review",
    ):
        await decide(uow, acme[ABE], requested.request_id, approve=True)

    assert await role_of(uow, PAT) == "planner"
    stored = await stored_request(uow, requested.request_id)
    assert stored.status == "expired" and stored.resolved_by_user_id is None
    log = await entries(uow)
    assert [e.action for e in log[-2:]] == ["member.removal_requested", "member.removal_expired"]
    assert (log[-1].actor, log[-1].source) == ("system", "system")
    assert log[-1].diff == {"status": ["pending", "expired"]}
    [resolved] = await outbox(uow, "removal_resolved")
    assert (resolved.payload["status"], resolved.payload["resolved_by"]) == ("expired", "system")
    [notice] = await outbox(uow, "direct_notice")
    assert "expired after 24 hours" in notice.payload["text"]

    # Closed for good: the sweeper finds nothing, a later approval is still refused.
    assert await expire_removal_requests(uow()) == 0
    with pytest.raises(RequestClosed, match="expired"):
        await decide(uow, acme[ANN], requested.request_id, approve=True)
    assert (await actions(uow)).count("member.removal_expired") == 1
    assert (await verify_audit(uow(), "acme")).intact


async def test_expiry_closes_only_overdue_requests_in_every_organization(
    uow, acme, database, operator
):
    zinc = await seed.org_with_members(
        uow,
        "zinc",
        "Zinc Works",
        {ZED: "admin", ZOE: "viewer"},
    )
    await configure_organization(
        uow(),
        operator,
        parse(
            ConfigureOrganization,
            organization="zinc",
            audit_channel="C0ZINC",
            removal_approvals=2,
        ),
    )
    overdue = await ask(uow, acme[ADA], PAT)
    current = await ask(uow, acme[ADA], ANN)
    zinc_overdue = await ask(uow, zinc[ZED], ZOE, "zinc")
    await make_overdue(database, overdue.request_id)
    await make_overdue(database, zinc_overdue.request_id)

    assert await expire_removal_requests(uow()) == 2
    assert (await stored_request(uow, overdue.request_id)).status == "expired"
    assert (await stored_request(uow, zinc_overdue.request_id)).status == "expired"
    assert (await stored_request(uow, current.request_id)).status == "pending"
    assert (await actions(uow, "acme")).count("member.removal_expired") == 1
    assert (await actions(uow, "zinc"))[-1] == "member.removal_expired"
    assert await role_of(uow, PAT) == "planner"

    resolved = await outbox(uow, "removal_resolved")
    assert {(m.channel_id, m.payload["request_id"]) for m in resolved} == {
        (AUDIT_CHANNEL, overdue.request_id),
        ("C0ZINC", zinc_overdue.request_id),
    }
    # The zinc requester acted without Slack ids, so only Ada hears about it.
    assert [m.channel_id for m in await outbox(uow, "direct_notice")] == ["U0ADA"]

    assert await expire_removal_requests(uow()) == 0
    assert (await actions(uow, "acme")).count("member.removal_expired") == 1
    assert (await verify_audit(uow(), "zinc")).intact


async def test_a_double_approve_applies_once(uow, acme):
    requested = await ask(uow, acme[ADA], PAT)
    await decide(uow, acme[ABE], requested.request_id, approve=True)
    with pytest.raises(
        RequestClosed,
        match="^This request to remove pat@acme.example.com from Acme Mining was already "
        "approved by abe@acme.example.com at ",
    ):
        await decide(uow, acme[ABE], requested.request_id, approve=True)
    with pytest.raises(RequestClosed, match="already approved"):
        await get_removal_request(uow(), acme[ANN], requested.request_id)
    assert (await actions(uow)).count("member.removed") == 1
    assert (await actions(uow)).count("member.removal_approved") == 1
    assert len(await outbox(uow, "removal_resolved")) == 1
    assert await member_count(uow) == 3


async def test_concurrent_decisions_apply_once(uow, acme):
    requested = await ask(uow, acme[ADA], PAT)
    outcomes = await asyncio.gather(
        decide(uow, acme[ABE], requested.request_id, approve=True),
        decide(uow, acme[ANN], requested.request_id, approve=True),
        decide(uow, acme[ANN], requested.request_id, approve=False, reason="Keep Pat"),
        return_exceptions=True,
    )
    won = [o for o in outcomes if isinstance(o, RemovalResolution)]
    lost = [o for o in outcomes if isinstance(o, RequestClosed)]
    assert (len(won), len(lost)) == (1, 2), outcomes
    log = await actions(uow)
    assert log.count("member.removal_approved") + log.count("member.removal_rejected") == 1
    assert log.count("member.removed") == (1 if won[0].status == "approved" else 0)
    assert len(await outbox(uow, "removal_resolved")) == 1
    assert (await stored_request(uow, requested.request_id)).status == won[0].status
    assert (await verify_audit(uow(), "acme")).intact


async def test_with_one_approval_the_removal_is_immediate(uow):
    actors = await seed.org_with_members(
        uow,
        "zinc",
        "Zinc Works",
        {ZED: "admin", ZOE: "viewer"},
    )
    change = await remove_or_request(
        uow(),
        actors[ZED],
        parse(RemoveOrRequest, organization="zinc", member=ZOE.upper()),
    )
    assert isinstance(change, MemberChange)
    assert (change.email, change.role_before, change.role_after) == (
        ZOE,
        Role.VIEWER,
        None,
    )
    assert await role_of(uow, ZOE, "zinc") is None
    assert (await actions(uow, "zinc"))[-1] == "member.removed"
    assert change.audit_seq == (await entries(uow, "zinc"))[-1].seq
    assert await outbox(uow, "removal_request") == []


async def test_the_operator_removes_at_once_even_with_two_approvals(uow, acme, operator):
    change = await remove_or_request(
        uow(), operator, parse(RemoveOrRequest, organization="acme", member=PAT)
    )
    assert isinstance(change, MemberChange)
    assert await role_of(uow, PAT) is None
    assert (await actions(uow))[-1] == "member.removed"
    assert "member.removal_requested" not in await actions(uow)


async def test_the_request_message_location_is_remembered_and_updated(uow, acme):
    requested = await ask(uow, acme[ADA], PAT)
    assert await request_message(uow(), requested.request_id) is None
    # The message was posted before the organization moved its audit channel.
    await record_request_message(uow(), requested.request_id, "C0OLD", "1700000000.000100")
    assert await request_message(uow(), requested.request_id) == ("C0OLD", "1700000000.000100")
    await decide(uow, acme[ABE], requested.request_id, approve=False, reason="Not now")
    [resolved] = await outbox(uow, "removal_resolved")
    assert resolved.channel_id == "C0OLD"
    with pytest.raises(NotFound):
        await request_message(uow(), 999)
