"""Unit of work: one transaction, its repositories, an explicit commit.

Leaving the `async with` block without `commit()` rolls everything back, so a use case that
raises half-way leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
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

SESSION_WAIT_SECONDS = 30.0


class UnitOfWork:
    organizations: OrganizationRepository
    users: UserRepository
    memberships: MembershipRepository
    audit: AuditRepository
    outbox: OutboxRepository
    slack: SlackRepository
    removal_requests: RemovalRequestRepository

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sessions: asyncio.Semaphore | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        # How many units of work the process runs at once (Database.sessions): waiting here is
        # first come, first served, where SQLAlchemy's pool lets a newcomer take a connection
        # from under one that has waited (under load, some requests then starve for seconds).
        self._sessions = sessions
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        if self._sessions is not None:
            try:
                async with asyncio.timeout(SESSION_WAIT_SECONDS):
                    await self._sessions.acquire()
            except TimeoutError:
                # Like the pool's own timeout; also what a unit of work opened inside another
                # one (in the same task) would come to.
                raise TimeoutError(
                    f"no database session became free within {SESSION_WAIT_SECONDS:g}s"
                ) from None
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
        try:
            # close() rolls back whatever was not committed, and leaves loaded objects readable.
            await self._session.close()
        finally:
            self._session = None
            if self._sessions is not None:
                self._sessions.release()

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
    return lambda: UnitOfWork(database.sessionmaker, database.sessions)
