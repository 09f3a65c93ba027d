"""Engine and session factory for the embedded SQLite default and for PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only

from storage import sqlite_inline

DEFAULT_SQLITE_PATH = "minesync.db"
_SQLITE_DIALECT = make_url("sqlite+aiosqlite://").get_dialect()()


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"


def normalize_url(url: str) -> str:
    """Accept the URLs people paste (postgresql://, sqlite:///) and pick the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql" and parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.render_as_string(hide_password=False)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: AsyncEngine, *, inline: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        if dbapi_connection.isolation_level is not None:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={sqlite_inline.BUSY_TIMEOUT_MS}")
        cursor.close()
        # SQLite's lower() folds ASCII only; member search must match "Ólafur" from "ólafur".
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take SQLite's write lock up front: this is what serializes membership changes
        # (the last-Admin check and the audit chain) on the embedded database.
        if not inline:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        # Waiting for another process's lock happens in asyncio (storage.sqlite_inline).
        try:
            await_only(conn.connection.driver_connection.begin_immediate())
        except sqlite3.OperationalError as error:
            raise exc.OperationalError("BEGIN IMMEDIATE", None, error) from error


class Database:
    """Owns the engine; hands out sessions. One per process."""

    def __init__(self, url: str | None = None, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = normalize_url(url or default_database_url())
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        inline = False
        if self.dialect == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        elif parsed.database and parsed.database != ":memory:" and not parsed.query:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # A file database: sqlite3 on the event loop's thread (storage.sqlite_inline),
            # through one connection, so this process's transactions queue in asyncio rather
            # than in SQLite's busy handler (which sleeps 1, 2, 5, 10... ms between tries).
            # SQLite serializes every transaction anyway (BEGIN IMMEDIATE, below).
            args, connect_kwargs = _SQLITE_DIALECT.create_connect_args(parsed)
            kwargs.update(
                async_creator=sqlite_inline.connector(args, connect_kwargs),
                pool_size=1,
                max_overflow=0,
            )
            inline = True
        self.engine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine, inline=inline)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Units of work at once in this process (storage.uow): as many as the pool keeps
        # connections, so that they queue fairly here rather than in the pool.
        self.sessions = asyncio.Semaphore(kwargs.get("pool_size", 1))

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def database_url_from_env() -> str:
    return os.environ.get("DATABASE_URL") or default_database_url()
