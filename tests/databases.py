"""Real databases for the tests: a fresh SQLite file, or the PostgreSQL named by TEST_DATABASE_URL.

Both are migrated by Alembic (the only schema creator). PostgreSQL is migrated once per run
and emptied between tests; SQLite copies a migrated template file per test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import text

from storage.database import Database
from storage.migrate import upgrade
from storage.models import Base

POSTGRES_ENV = "TEST_DATABASE_URL"
# CI sets this so a missing PostgreSQL fails the run instead of skipping quietly.
REQUIRE_ENV = "MINESYNC_REQUIRE_POSTGRES"
SKIP_REASON = f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


async def migrated_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    await db.dispose()
    return path


def fresh_sqlite_url(template: Path, directory: Path) -> str:
    target = directory / "minesync.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


async def reset_postgres(url: str) -> None:
    """Drop everything and migrate from scratch: run once per test session."""
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(db)
    await db.dispose()


async def empty_postgres(db: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
