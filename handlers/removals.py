"""Removals that need a second Admin: request, review, approve or reject, expire.

An organization with `removal_approvals == 2` does not remove a member when one Admin asks: it
records a pending request, posts it to the audit channel, and waits up to 24 hours for another
Admin, who is neither the requester nor the member, to approve or reject it. Every rule is
checked when the request is made and again, under the organization lock, when it is resolved.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints, field_validator, model_validator

from handlers import audit_log
from handlers.access import (
    authorize_admin,
    find_member,
    locked_for_admin,
    member_state,
)
from handlers.actor import Actor
from handlers.errors import (
    AlreadyExists,
    InvalidInput,
    LastAdmin,
    MemberNotFound,
    NotFound,
    PermissionDenied,
    RequestClosed,
    RuleViolation,
)
from handlers.members import (
    MemberChange,
    apply_removal,
    check_removable,
    check_removal_allowed,
    member_change,
)
from handlers.roles import Role
from handlers.validation import Command, Email, Slug
from storage.models import Organization, OutboxMessage, RemovalRequest, User, utcnow
from storage.uow import UnitOfWork

REQUEST_TTL = timedelta(hours=24)
REASON_MAX = 500
EXPIRY_BATCH = 100

REMOVAL_REQUEST = "removal_request"
REMOVAL_RESOLVED = "removal_resolved"
DIRECT_NOTICE = "direct_notice"

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
EXPIRED = "expired"

SYSTEM = Actor(label="system", source="system", trusted=True)
# How a notice names an actor that is not a person (Actor.operator() and SYSTEM).
_NON_PERSON_ACTORS = {"cli": "an operator", SYSTEM.label: "MineSync"}


def _printable_reason(value: str) -> str:
    # A multi-line modal input: line breaks and tabs are fine, other control characters are not.
    if not all(ch.isprintable() or ch in "\n\t" for ch in value):
        raise ValueError("Reason may contain printable characters only.")
    return value


Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REASON_MAX),
    AfterValidator(_printable_reason),
]


class RemoveOrRequest(Command):
    organization: Slug
    member: Email | int


class ResolveRemoval(Command):
    request_id: int
    approve: bool
    reason: Reason | None = None

    @field_validator("reason", mode="before")
    @classmethod
    def _blank_to_none(cls, value: object) -> object:
        # An empty modal input arrives as None or as whitespace; both mean "no reason".
        if isinstance(value, str):
            return value.replace("\r\n", "\n").strip() or None
        return value

    @model_validator(mode="after")
    def _reason_to_reject(self) -> ResolveRemoval:
        # Raised as InvalidInput directly (pydantic lets it through) so it lands on the field.
        if not self.approve and self.reason is None:
            raise InvalidInput({"reason": "Give a reason for rejecting."})
        return self


@dataclass(frozen=True)
class RemovalRequested:
    request_id: int
    organization: str
    organization_slug: str
    user_id: int
    email: str
    name: str
    role: Role
    requested_by: str
    expires_at: datetime


@dataclass(frozen=True)
class RemovalRequestView:
    id: int
    organization: str
    organization_slug: str
    user_id: int
    email: str
    name: str
    role: Role | None  # None when they are no longer a member
    requested_by: str
    requested_by_user_id: int
    created_at: datetime
    expires_at: datetime
    status: str


@dataclass(frozen=True)
class RemovalResolution:
    request_id: int
    status: str
    organization: str
    organization_slug: str
    email: str
    name: str
    resolved_by: str
    reason: str | None
    change: MemberChange | None


async def remove_or_request(
    uow: UnitOfWork, actor: Actor, cmd: RemoveOrRequest
) -> MemberChange | RemovalRequested:
    """Remove at once, or, where removals need two Admins, ask a second Admin to approve."""
    async with uow:
        org = await locked_for_admin(uow, actor, cmd.organization)
        if org.removal_approvals < 2 or actor.trusted:
            seq, user, before = await apply_removal(uow, org, actor, cmd.member)
            await uow.commit()
            return member_change(org, user, before, None, seq)

        user, membership = await find_member(uow, org, cmd.member)
        await check_removal_allowed(uow, org, actor, user, membership)
        if not org.audit_channel_id:
            raise RuleViolation(
                f"Removals from {org.name} need a second Admin's approval, which is asked for "
                f"in its audit channel, and {org.name} has none yet. Set one with "
                "`/minesync config audit-channel #channel`, then try again."
            )
        pending = await uow.removal_requests.pending_for(org.id, user.id)
        if pending is not None:
            who = (
                "You"
                if pending.requested_by_user_id == actor.user_id
                else await _email_of(uow, pending.requested_by_user_id)
            )
            raise AlreadyExists(
                f"{who} already asked to remove {user.email} from {org.name} "
                f"(request #{pending.id}); it waits for a second Admin until "
                f"{_when(pending.expires_at)}.",
                field="member",
            )

        assert actor.user_id is not None  # an untrusted actor passed authorize_admin
        now = utcnow()
        request = RemovalRequest(
            org_id=org.id,
            target_user_id=user.id,
            requested_by_user_id=actor.user_id,
            status=PENDING,
            created_at=now,
            expires_at=now + REQUEST_TTL,
            requester_context=dict(actor.context),
        )
        uow.removal_requests.add(request)
        await uow.flush()
        state = member_state(user, membership.role)
        audit_log.record(
            uow,
            org,
            actor,
            "member.removal_requested",
            target=user.email,
            target_user_id=user.id,
            before=state,
            after=state | {"pending_removal": True, "request_id": request.id},
        )
        uow.outbox.add(
            OutboxMessage(
                org_id=org.id,
                kind=REMOVAL_REQUEST,
                channel_id=org.audit_channel_id,
                payload={
                    "request_id": request.id,
                    "organization": org.name,
                    "organization_slug": org.slug,
                    "email": user.email,
                    "name": user.name,
                    "role": membership.role,
                    "requested_by": actor.label,
                    "expires_at": request.expires_at.isoformat(),
                },
            )
        )
        await uow.commit()
        return RemovalRequested(
            request_id=request.id,
            organization=org.name,
            organization_slug=org.slug,
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=Role(membership.role),
            requested_by=actor.label,
            expires_at=request.expires_at,
        )


async def get_removal_request(uow: UnitOfWork, actor: Actor, request_id: int) -> RemovalRequestView:
    """What the Review modal shows; only an Admin who may resolve the request gets it."""
    async with uow:
        request = await _find_request(uow, request_id)
        org = await uow.organizations.get(request.org_id)
        assert org is not None  # requests cascade with their organization
        await authorize_admin(uow, actor, org)
        user = await _user(uow, request.target_user_id)
        if request.status != PENDING or request.expires_at <= utcnow():
            raise RequestClosed(await _closed_message(uow, org, user, request))
        _check_reviewer(org, user, request, actor)
        membership = await uow.memberships.get(org.id, user.id)
        return RemovalRequestView(
            id=request.id,
            organization=org.name,
            organization_slug=org.slug,
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=Role(membership.role) if membership else None,
            requested_by=await _email_of(uow, request.requested_by_user_id),
            requested_by_user_id=request.requested_by_user_id,
            created_at=request.created_at,
            expires_at=request.expires_at,
            status=request.status,
        )


async def resolve_removal(uow: UnitOfWork, actor: Actor, cmd: ResolveRemoval) -> RemovalResolution:
    """Approve (and carry out) or reject a pending removal, re-checking every rule now."""
    async with uow:
        slug = await _request_org_slug(uow, cmd.request_id)
    # A fresh transaction that takes the lock before reading the request, so it sees the
    # request as the last resolver left it: a double submit finds it closed.
    async with uow:
        org = await locked_for_admin(uow, actor, slug)
        request = await _find_request(uow, cmd.request_id)
        user = await _user(uow, request.target_user_id)
        if request.status != PENDING:
            raise RequestClosed(await _closed_message(uow, org, user, request))
        now = utcnow()
        if request.expires_at <= now:
            await _expire(uow, org, user, request, now)
            await uow.commit()
            raise RequestClosed(await _closed_message(uow, org, user, request))
        _check_reviewer(org, user, request, actor)
        membership = await uow.memberships.get(org.id, user.id)
        requested_by = await _email_of(uow, request.requested_by_user_id)
        change: MemberChange | None = None
        if cmd.approve:
            if membership is None:
                raise MemberNotFound(
                    f"{user.email} is no longer a member of {org.name}, so there is nothing to "
                    "remove. Reject the request to close it.",
                    field="member",
                )
            try:
                await check_removable(uow, org, user, membership)
            except LastAdmin:
                raise LastAdmin(
                    f"{user.email} is now the last Admin of {org.name}, and an organization "
                    "must keep at least one Admin, so this removal cannot be approved.",
                    field="member",
                ) from None
            role: str | None = membership.role
            _close(request, APPROVED, actor, now, cmd.reason)
            _record_resolution(uow, org, actor, user, request, requested_by)
            # The removal entry carries the request it carries out, for whoever reads the log.
            applier = dataclasses.replace(
                actor, context=dict(actor.context) | {"removal_request": request.id}
            )
            seq, _, before = await apply_removal(uow, org, applier, user.id)
            change = member_change(org, user, before, None, seq)
        else:
            role = membership.role if membership else None
            _close(request, REJECTED, actor, now, cmd.reason)
            _record_resolution(uow, org, actor, user, request, requested_by)
        _queue_outcome(uow, org, user, role, request, requested_by, actor.label)
        await uow.commit()
        return RemovalResolution(
            request_id=request.id,
            status=request.status,
            organization=org.name,
            organization_slug=org.slug,
            email=user.email,
            name=user.name,
            resolved_by=actor.label,
            reason=request.reason,
            change=change,
        )


async def expire_removal_requests(uow: UnitOfWork) -> int:
    """Close every pending request past its expiry; returns how many were closed."""
    expired = 0
    while True:
        async with uow:
            due = await uow.removal_requests.expired_pending(limit=EXPIRY_BATCH)
            by_org: dict[int, list[int]] = {}
            for request in due:
                by_org.setdefault(request.org_id, []).append(request.id)
        closed_now = 0
        for org_id, request_ids in by_org.items():
            async with uow:
                org = await uow.organizations.lock(org_id)
                assert org is not None  # requests cascade with their organization
                now = utcnow()
                for request_id in request_ids:
                    # Read after the lock: a resolver may have closed it since the scan.
                    request = await _find_request(uow, request_id)
                    if request.status != PENDING or request.expires_at > now:
                        continue
                    user = await _user(uow, request.target_user_id)
                    await _expire(uow, org, user, request, now)
                    closed_now += 1
                await uow.commit()
        expired += closed_now
        if len(due) < EXPIRY_BATCH or closed_now == 0:
            return expired


async def record_request_message(
    uow: UnitOfWork, request_id: int, channel_id: str, ts: str
) -> None:
    """Remember where the request's message was posted, so its outcome can replace it."""
    async with uow:
        request = await _find_request(uow, request_id)
        request.message_channel_id = channel_id
        request.message_ts = ts
        await uow.commit()


async def request_message(uow: UnitOfWork, request_id: int) -> tuple[str, str] | None:
    """(channel, ts) of the request's message, or None if it has not been posted yet."""
    async with uow:
        request = await _find_request(uow, request_id)
        if request.message_channel_id and request.message_ts:
            return request.message_channel_id, request.message_ts
        return None


async def _find_request(uow: UnitOfWork, request_id: int) -> RemovalRequest:
    request = await uow.removal_requests.get(request_id)
    if request is None:
        raise NotFound(f"There is no removal request #{request_id}.")
    return request


async def _request_org_slug(uow: UnitOfWork, request_id: int) -> str:
    request = await _find_request(uow, request_id)
    org = await uow.organizations.get(request.org_id)
    assert org is not None  # requests cascade with their organization
    return org.slug


async def _user(uow: UnitOfWork, user_id: int) -> User:
    user = await uow.users.get(user_id)
    assert user is not None  # requests cascade with the accounts they name
    return user


async def _email_of(uow: UnitOfWork, user_id: int | None) -> str:
    if user_id is None:
        return "an operator"
    user = await uow.users.get(user_id)
    return user.email if user else f"user #{user_id}"


def _check_reviewer(org: Organization, user: User, request: RemovalRequest, actor: Actor) -> None:
    """The second Admin must be someone other than the requester and the member."""
    if actor.user_id is None:
        return
    if actor.user_id == request.requested_by_user_id:
        raise PermissionDenied(
            f"You asked for this removal; another Admin of {org.name} must review it."
        )
    if actor.user_id == user.id:
        raise PermissionDenied(
            f"This request is to remove you from {org.name}; another Admin of {org.name} must "
            "review it."
        )


async def _closed_message(
    uow: UnitOfWork, org: Organization, user: User, request: RemovalRequest
) -> str:
    what = f"This request to remove {user.email} from {org.name}"
    if request.status in (PENDING, EXPIRED):
        return (
            f"{what} expired at {_when(request.expires_at)} without a second Admin's review. "
            "Ask again if the removal is still needed."
        )
    by = await _email_of(uow, request.resolved_by_user_id)
    at = _when(request.resolved_at) if request.resolved_at else "an unknown time"
    return f"{what} was already {request.status} by {by} at {at}."


def _close(
    request: RemovalRequest, status: str, actor: Actor, at: datetime, reason: str | None
) -> None:
    request.status = status
    request.resolved_by_user_id = actor.user_id
    request.resolved_at = at
    request.reason = reason


def _record_resolution(
    uow: UnitOfWork,
    org: Organization,
    actor: Actor,
    user: User,
    request: RemovalRequest,
    requested_by: str,
) -> None:
    """Audit the request's move out of `pending`; the diff shows the status (and reason)."""
    state = {"request_id": request.id, "requested_by": requested_by}
    after: dict[str, Any] = state | {"status": request.status}
    if request.reason is not None:
        after["reason"] = request.reason
    audit_log.record(
        uow,
        org,
        actor,
        f"member.removal_{request.status}",
        target=user.email,
        target_user_id=user.id,
        before=state | {"status": PENDING},
        after=after,
    )


async def _expire(
    uow: UnitOfWork, org: Organization, user: User, request: RemovalRequest, now: datetime
) -> None:
    """Close a pending request that outlived its expiry; the caller holds `org`'s lock."""
    request.status = EXPIRED
    request.resolved_at = now
    requested_by = await _email_of(uow, request.requested_by_user_id)
    _record_resolution(uow, org, SYSTEM, user, request, requested_by)
    membership = await uow.memberships.get(org.id, user.id)
    role = membership.role if membership else None
    _queue_outcome(uow, org, user, role, request, requested_by, SYSTEM.label)


def _queue_outcome(
    uow: UnitOfWork,
    org: Organization,
    user: User,
    role: str | None,
    request: RemovalRequest,
    requested_by: str,
    resolved_by: str,
) -> None:
    """Replace the request's channel message with its outcome, and tell the requester."""
    assert request.resolved_at is not None
    channel = request.message_channel_id or org.audit_channel_id
    if channel:
        uow.outbox.add(
            OutboxMessage(
                org_id=org.id,
                kind=REMOVAL_RESOLVED,
                channel_id=channel,
                payload={
                    "request_id": request.id,
                    "organization": org.name,
                    "email": user.email,
                    "name": user.name,
                    "role": role,
                    "requested_by": requested_by,
                    "status": request.status,
                    "resolved_by": resolved_by,
                    "resolved_at": request.resolved_at.isoformat(),
                    "reason": request.reason,
                },
            )
        )
    requester_slack_id = (request.requester_context or {}).get("user_id")
    if requester_slack_id:
        uow.outbox.add(
            OutboxMessage(
                org_id=org.id,
                kind=DIRECT_NOTICE,
                channel_id=str(requester_slack_id),
                payload={"text": _notice_text(org, user, role, request, resolved_by)},
            )
        )


def _notice_text(
    org: Organization, user: User, role: str | None, request: RemovalRequest, resolved_by: str
) -> str:
    asked = f"Your request to remove {user.name} ({user.email}) from {org.name}"
    resolved_by = _NON_PERSON_ACTORS.get(resolved_by, resolved_by)
    if request.status == APPROVED:
        return (
            f"{asked} was approved by {resolved_by}. {user.email} no longer has access to "
            f"{org.name}; their MineSync account is kept and can be invited again."
        )
    keeps = (
        f"{user.email} keeps their access as {Role(role).label}."
        if role
        else f"{user.email} is no longer a member of {org.name} anyway."
    )
    if request.status == REJECTED:
        # The reason is quoted as given; a full stop after its own would read as a typo.
        reason = (request.reason or "").rstrip()
        close = "" if reason.endswith((".", "!", "?")) else "."
        return f'{asked} was rejected by {resolved_by}, who said: "{reason}"{close} {keeps}'
    return (
        f"{asked} expired after {int(REQUEST_TTL.total_seconds() // 3600)} hours without a "
        f"second Admin's review. {keeps} Ask again if the removal is still needed."
    )


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
