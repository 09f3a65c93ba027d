"""SQLite for the async engine without a thread hop per call.

aiosqlite, behind SQLAlchemy's `sqlite+aiosqlite` dialect, runs every DB-API call (cursor,
execute, fetch, close, commit...) in a thread of its own: four thread round trips per
statement, twenty-odd per Slack command, each waiting for the GIL behind whatever the event
loop is doing. For SQLite's microsecond-scale indexed queries that hand-off cost more than the
queries (the benchmark measured a role change at ~9 ms through aiosqlite, ~2.5 ms here).

This module gives the dialect (through create_async_engine's public `async_creator`) a
connection with aiosqlite's interface whose methods call sqlite3 directly on the event loop's
thread. What keeps that from stalling the loop:

- In one process, transactions never wait for each other inside SQLite: the engine has one
  connection (storage.database), so they queue on the pool, in asyncio, first come first
  served.
- Another process (the CLI, a second replica) may hold SQLite's write lock for a while (a
  100,000-row import). Every transaction starts with BEGIN IMMEDIATE (storage.database), which
  is where that lock is taken, and `begin_immediate` asks for it without SQLite's blocking busy
  handler, sleeping in asyncio between tries, up to the same 30 s. Once a transaction holds the
  lock, nothing else in it waits for another process (WAL: readers never block the writer).

Only the calls SQLAlchemy's aiosqlite adapter makes are implemented.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

BUSY_TIMEOUT_SECONDS = 30.0
BUSY_TIMEOUT_MS = int(BUSY_TIMEOUT_SECONDS * 1000)
_FIRST_RETRY_SECONDS = 0.001
_MAX_RETRY_SECONDS = 0.05


class InlineCursor:
    """aiosqlite.Cursor's interface over a sqlite3 cursor; every call completes at once."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany() if size is None else self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """aiosqlite.Connection's interface over a sqlite3 connection, on the caller's thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn: sqlite3.Connection | None = connection

    @property
    def _connection(self) -> sqlite3.Connection | None:
        # SQLAlchemy's adapter checks this (aiosqlite's own attribute) before commit/rollback.
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")  # what aiosqlite says, and SA expects
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._open().cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        self._open().commit()

    async def rollback(self) -> None:
        self._open().rollback()

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], deterministic: bool = False
    ) -> None:
        self._open().create_function(name, num_params, func, deterministic=deterministic)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def begin_immediate(self, within: float | None = None) -> None:
        """BEGIN IMMEDIATE, waiting for another process's write lock in asyncio, not in SQLite.

        Gives up after `within` seconds (BUSY_TIMEOUT_SECONDS), with SQLite's own error.
        """
        conn = self._open()
        deadline = time.monotonic() + (BUSY_TIMEOUT_SECONDS if within is None else within)
        delay = _FIRST_RETRY_SECONDS
        while True:
            conn.execute("PRAGMA busy_timeout = 0")
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            finally:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_SECONDS)


def connector(args: Sequence[Any], kwargs: dict[str, Any]) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: connects with the dialect's own arguments."""

    # isolation_level=None: SQLAlchemy, not sqlite3, decides when a transaction begins.
    options = {**kwargs, "check_same_thread": False, "isolation_level": None}

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(*args, **options))

    return connect
