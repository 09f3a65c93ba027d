"""SQLite on the event loop's thread (storage.sqlite_inline): another process's write lock is
waited for in asyncio, so the bot keeps answering meanwhile, and given up on like SQLite would."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from sqlalchemy import exc
from sqlalchemy.engine import make_url

from storage import sqlite_inline
from storage.database import Database
from storage.uow import UnitOfWorkFactory

pytestmark = pytest.mark.parametrize("database_kind", ["sqlite"])


def _other_process_holding_the_write_lock(database: Database) -> sqlite3.Connection:
    other = sqlite3.connect(make_url(database.url).database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_a_transaction_waits_for_another_process_without_stalling_the_loop(
    database: Database, uow: UnitOfWorkFactory
) -> None:
    other = _other_process_holding_the_write_lock(database)

    async def one_transaction() -> None:
        async with uow() as u:
            await u.ping()
            await u.commit()

    waiting = asyncio.create_task(one_transaction())
    ticks = 0
    started = time.monotonic()
    while time.monotonic() - started < 0.3:
        await asyncio.sleep(0.01)
        ticks += 1
    assert not waiting.done()
    assert ticks >= 10  # the loop kept running while the transaction waited for the lock
    other.rollback()
    await asyncio.wait_for(waiting, 2)
    other.close()


async def test_the_wait_ends_with_sqlite_s_error_after_the_busy_timeout(
    database: Database, uow: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "BUSY_TIMEOUT_SECONDS", 0.2)
    other = _other_process_holding_the_write_lock(database)
    started = time.monotonic()
    with pytest.raises(exc.OperationalError, match="database is locked"):
        async with uow() as u:
            await u.ping()
    assert 0.2 <= time.monotonic() - started < 2
    other.rollback()
    other.close()
    async with uow() as u:  # and the connection is fine afterwards
        await u.ping()
