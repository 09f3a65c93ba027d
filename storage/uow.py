"""Unit of work: one transaction, its repositories, an explicit commit.

Leaving the `async with` block without `commit()` rolls everything back, so a use case that
raises half-way leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.database import Database
from storage.errors import ConflictError
from storage.repositories import (
    AuditRepository,
    MembershipRepository,
    OrganizationRepository,
    OutboxRepository,
    RemovalRequestRepository,
    SlackRepository,
    UserRepository,
)


class UnitOfWork:
    organizations: OrganizationRepository
    users: UserRepository
    memberships: MembershipRepository
    audit: AuditRepository
    outbox: OutboxRepository
    slack: SlackRepository
    removal_requests: RemovalRequestRepository

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        session = self._sessionmaker()
        self._session = session
        self.organizations = OrganizationRepository(session)
        self.users = UserRepository(session)
        self.memberships = MembershipRepository(session)
        self.audit = AuditRepository(session)
        self.outbox = OutboxRepository(session)
        self.slack = SlackRepository(session)
        self.removal_requests = RemovalRequestRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        # close() rolls back whatever was not committed, and leaves loaded objects readable.
        await self._session.close()
        self._session = None

    async def commit(self) -> None:
        assert self._session is not None
        try:
            await self._session.commit()
        except IntegrityError as exc:
            raise ConflictError(str(exc.orig)) from exc

    async def flush(self) -> None:
        assert self._session is not None
        try:
            await self._session.flush()
        except IntegrityError as exc:
            raise ConflictError(str(exc.orig)) from exc

    async def ping(self) -> None:
        assert self._session is not None
        await self._session.execute(text("SELECT 1"))

    @property
    def is_postgresql(self) -> bool:
        assert self._session is not None
        return self._session.bind.dialect.name == "postgresql"


UnitOfWorkFactory = Callable[[], UnitOfWork]


def unit_of_work_factory(database: Database) -> UnitOfWorkFactory:
    return lambda: UnitOfWork(database.sessionmaker)
