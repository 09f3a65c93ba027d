"""Engine and session factory for the embedded SQLite default and for PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

DEFAULT_SQLITE_PATH = "minesync.db"


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


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        # SQLite's lower() folds ASCII only; member search must match "Ólafur" from "ólafur".
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take SQLite's write lock up front: this is what serializes membership changes
        # (the last-Admin check and the audit chain) on the embedded database.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine; hands out sessions. One per process."""

    def __init__(self, url: str | None = None, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = normalize_url(url or default_database_url())
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        elif parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

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
