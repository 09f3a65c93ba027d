"""Real databases for the tests: a fresh SQLite file, or the PostgreSQL named by TEST_DATABASE_URL.

Both are migrated by Alembic (the only schema creator). PostgreSQL is migrated once per run
and emptied between tests; SQLite copies a migrated template file per test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.database import Database, normalize_url
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


async def create_postgres_database(server_url: str) -> str:
    """A fresh, migrated database of this test run's own on the server of `server_url`.

    Each run gets its own, so runs side by side (and whatever else uses `test`) never meet.
    """
    name = f"minesync_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = Database(server_url)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = make_url(normalize_url(server_url)).set(database=name)
    db = Database(url.render_as_string(hide_password=False))
    await upgrade(db)
    await db.dispose()
    return db.url


async def drop_postgres_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = Database(server_url)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def empty_postgres(db: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
