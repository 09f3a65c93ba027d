"""Repositories: every query the use cases need, each one index-backed and O(page) or O(1)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEntry,
    Membership,
    Organization,
    OutboxMessage,
    RemovalRequest,
    SlackUserLink,
    User,
    WorkspaceBinding,
    utcnow,
)


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _is_postgresql(self) -> bool:
        return self.session.bind.dialect.name == "postgresql"


class OrganizationRepository(_Repository):
    async def get(self, org_id: int) -> Organization | None:
        return await self.session.get(Organization, org_id)

    async def get_by_slug(self, slug: str) -> Organization | None:
        return await self.session.scalar(select(Organization).where(Organization.slug == slug))

    async def lock(self, org_id: int) -> Organization | None:
        """Take the organization's write lock for the rest of the transaction.

        PostgreSQL: a row lock, so concurrent changes to one organization queue up while other
        organizations proceed. SQLite: the transaction already holds the database write lock
        (BEGIN IMMEDIATE), so a plain read suffices.
        """
        return await self._locked(Organization.id == org_id)

    async def lock_by_slug(self, slug: str) -> Organization | None:
        """lock(), finding the organization by its slug in the same statement."""
        return await self._locked(Organization.slug == slug)

    async def _locked(self, where: ColumnElement[bool]) -> Organization | None:
        stmt = select(Organization).where(where)
        if self._is_postgresql:
            stmt = stmt.with_for_update()
        # populate_existing: a row read earlier in this session must not shadow the locked one.
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    def add(self, org: Organization) -> None:
        self.session.add(org)

    async def all(self) -> Sequence[Organization]:
        return (await self.session.scalars(select(Organization).order_by(Organization.slug))).all()


class UserRepository(_Repository):
    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def find_by_emails(self, emails: Sequence[str]) -> dict[str, User]:
        found: dict[str, User] = {}
        for start in range(0, len(emails), 5000):
            chunk = emails[start : start + 5000]
            rows = await self.session.scalars(select(User).where(User.email.in_(chunk)))
            found.update((u.email, u) for u in rows)
        return found

    def add(self, user: User) -> None:
        self.session.add(user)

    async def insert_many(self, rows: list[dict[str, object]]) -> list[User]:
        """One multi-row INSERT ... RETURNING for a batch of new accounts."""
        if not rows:
            return []
        return list((await self.session.scalars(insert(User).returning(User), rows)).all())

    async def flush(self) -> None:
        await self.session.flush()


@dataclass(frozen=True)
class MemberRow:
    user_id: int
    email: str
    name: str
    role: str


class MembershipRepository(_Repository):
    async def get(self, org_id: int, user_id: int) -> Membership | None:
        return await self.session.scalar(
            select(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
        )

    def add(self, org: Organization, membership: Membership) -> None:
        """Add to `org`, whose row the caller holds locked (it keeps the member count)."""
        self.session.add(membership)
        org.member_count += 1

    async def delete(self, org: Organization, membership: Membership) -> None:
        await self.session.execute(delete(Membership).where(Membership.id == membership.id))
        org.member_count -= 1

    def set_role(self, membership: Membership, role: str) -> None:
        """Written with the rest of the transaction at commit."""
        membership.role = role

    async def has_other_with_role(self, org_id: int, role: str, except_user_id: int) -> bool:
        """Whether someone besides `except_user_id` holds `role`: at most two index entries read."""
        stmt = (
            select(Membership.user_id)
            .where(Membership.org_id == org_id, Membership.role == role)
            .where(Membership.user_id != except_user_id)
            .limit(1)
        )
        return (await self.session.scalar(stmt)) is not None

    async def count(self, org_id: int, role: str | None = None) -> int:
        stmt = select(func.count()).select_from(Membership).where(Membership.org_id == org_id)
        if role is not None:
            stmt = stmt.where(Membership.role == role)
        return int(await self.session.scalar(stmt) or 0)

    async def page(
        self,
        org_id: int,
        *,
        query: str | None,
        after_email: str | None,
        before_email: str | None,
        limit: int,
    ) -> list[MemberRow]:
        """Keyset page ordered by email; walks ix_memberships_org_email, never the whole org."""
        stmt = (
            select(Membership.user_id, Membership.email, User.name, Membership.role)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id == org_id)
        )
        if query:
            pattern = f"%{_escape_like(query.lower())}%"
            stmt = stmt.where(
                or_(
                    Membership.email.like(pattern, escape="\\"),
                    func.lower(User.name).like(pattern, escape="\\"),
                )
            )
        if before_email is not None:
            stmt = stmt.where(Membership.email < before_email)
            stmt = stmt.order_by(Membership.org_id.desc(), Membership.email.desc()).limit(limit)
            rows = list(reversed((await self.session.execute(stmt)).all()))
        else:
            if after_email is not None:
                stmt = stmt.where(Membership.email > after_email)
            stmt = stmt.order_by(Membership.org_id, Membership.email).limit(limit)
            rows = list((await self.session.execute(stmt)).all())
        return [MemberRow(*row) for row in rows]

    async def exists_beyond(
        self, org_id: int, query: str | None, email: str, *, forward: bool
    ) -> bool:
        """Is there a matching member after (or before) `email`? Answers the Next/Previous."""
        cond = Membership.email > email if forward else Membership.email < email
        stmt = (
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id == org_id, cond)
        )
        if query:
            pattern = f"%{_escape_like(query.lower())}%"
            stmt = stmt.where(
                or_(
                    Membership.email.like(pattern, escape="\\"),
                    func.lower(User.name).like(pattern, escape="\\"),
                )
            )
        # Ordered along the index, so that the planner walks it from the cursor (PostgreSQL
        # otherwise may pick a sequential scan, betting that a matching row comes early).
        if forward:
            stmt = stmt.order_by(Membership.org_id, Membership.email)
        else:
            stmt = stmt.order_by(Membership.org_id.desc(), Membership.email.desc())
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def for_user(self, user_id: int) -> list[tuple[Organization, str]]:
        stmt = (
            select(Organization, Membership.role)
            .join(Membership, Membership.org_id == Organization.id)
            .where(Membership.user_id == user_id)
            .order_by(Organization.slug)
        )
        return [(org, role) for org, role in (await self.session.execute(stmt)).all()]

    async def existing_user_ids(self, org_id: int, user_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(user_ids), 5000):
            chunk = user_ids[start : start + 5000]
            rows = await self.session.scalars(
                select(Membership.user_id).where(
                    Membership.org_id == org_id, Membership.user_id.in_(chunk)
                )
            )
            found.update(rows)
        return found

    async def bulk_insert(self, org: Organization, rows: list[dict[str, object]]) -> None:
        if rows:
            await self.session.execute(Membership.__table__.insert(), rows)
            org.member_count += len(rows)

    async def stream(self, org_id: int, batch: int = 2000) -> AsyncIterator[MemberRow]:
        after: str | None = None
        while True:
            rows = await self.page(
                org_id, query=None, after_email=after, before_email=None, limit=batch
            )
            for row in rows:
                yield row
            if len(rows) < batch:
                return
            after = rows[-1].email


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class AuditRepository(_Repository):
    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def insert_many(self, entries: list[AuditEntry]) -> None:
        columns = [c.key for c in AuditEntry.__table__.columns if c.key != "id"]
        rows = [{c: getattr(e, c) for c in columns} for e in entries]
        if rows:
            await self.session.execute(insert(AuditEntry), rows)

    async def latest(self, org_id: int, limit: int) -> list[AuditEntry]:
        stmt = (
            select(AuditEntry)
            .where(AuditEntry.org_id == org_id)
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def stream(self, org_id: int, batch: int = 1000) -> AsyncIterator[AuditEntry]:
        """Every entry of the organization in chain order, a batch at a time."""
        last_seq = 0
        while True:
            stmt = (
                select(AuditEntry)
                .where(AuditEntry.org_id == org_id, AuditEntry.seq > last_seq)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
            rows = list((await self.session.scalars(stmt)).all())
            for row in rows:
                yield row
            if len(rows) < batch:
                return
            last_seq = rows[-1].seq


class OutboxRepository(_Repository):
    def add(self, message: OutboxMessage) -> None:
        self.session.add(message)

    async def claim(self, *, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Lease up to `limit` due messages to this dispatcher.

        On PostgreSQL, FOR UPDATE SKIP LOCKED lets replicas claim disjoint batches at once; the
        lease (available_at moved forward) keeps others off a claimed row after commit.
        """
        now = utcnow()
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.available_at <= now)
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(limit)
        )
        if self._is_postgresql:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list((await self.session.scalars(stmt)).all())
        for row in rows:
            row.available_at = now + lease
            row.attempts += 1
        await self.session.flush()
        return rows

    async def mark_delivered(self, message_id: int, message_ts: str | None) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(delivered_at=utcnow(), message_ts=message_ts, last_error=None)
        )

    async def reschedule(self, message_id: int, at: datetime, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.delivered_at.is_(None))
            .values(available_at=at, last_error=error[:500])
        )

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def pending_count(self) -> int:
        stmt = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None))
        )
        return int(await self.session.scalar(stmt) or 0)

    async def next_due_at(self) -> datetime | None:
        stmt = select(func.min(OutboxMessage.available_at)).where(
            OutboxMessage.delivered_at.is_(None)
        )
        return await self.session.scalar(stmt)


class SlackRepository(_Repository):
    async def bind(self, team_id: str, org_id: int) -> bool:
        existing = await self.session.get(WorkspaceBinding, (team_id, org_id))
        if existing is not None:
            return False
        self.session.add(WorkspaceBinding(team_id=team_id, org_id=org_id))
        return True

    async def bound_org_ids(self, team_id: str) -> set[int]:
        rows = await self.session.scalars(
            select(WorkspaceBinding.org_id).where(WorkspaceBinding.team_id == team_id)
        )
        return set(rows)

    async def is_bound(self, team_id: str, org_id: int) -> bool:
        return await self.session.get(WorkspaceBinding, (team_id, org_id)) is not None

    async def link(self, team_id: str, slack_user_id: str) -> SlackUserLink | None:
        return await self.session.get(SlackUserLink, (team_id, slack_user_id))

    def add_link(self, link: SlackUserLink) -> None:
        self.session.add(link)


class RemovalRequestRepository(_Repository):
    def add(self, request: RemovalRequest) -> None:
        self.session.add(request)

    async def get(self, request_id: int) -> RemovalRequest | None:
        return await self.session.get(RemovalRequest, request_id)

    async def pending_for(self, org_id: int, target_user_id: int) -> RemovalRequest | None:
        stmt = select(RemovalRequest).where(
            and_(
                RemovalRequest.org_id == org_id,
                RemovalRequest.target_user_id == target_user_id,
                RemovalRequest.status == "pending",
                RemovalRequest.expires_at > utcnow(),
            )
        )
        return await self.session.scalar(stmt.limit(1))

    async def expired_pending(self, limit: int = 100) -> list[RemovalRequest]:
        stmt = (
            select(RemovalRequest)
            .where(RemovalRequest.status == "pending", RemovalRequest.expires_at <= utcnow())
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())
