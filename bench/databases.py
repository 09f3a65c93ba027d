"""A fresh, migrated database for one benchmark run, and its removal afterwards.

SQLite: a new file in a temporary directory. PostgreSQL: a database of its own
(`bench_<pid>_<n>`) created on the server named by --database-url and dropped at the end, so a
benchmark never touches data it did not create.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.database import Database, normalize_url
from storage.migrate import upgrade

_counter = 0


@dataclass
class BenchDatabase:
    """Where one run's data lives; `url` is what the bot process gets as DATABASE_URL."""

    url: str
    dialect: str
    server_url: str | None = None  # PostgreSQL: the server's URL, to drop the database
    directory: Path | None = None  # SQLite: the temporary directory holding the file

    async def drop(self) -> None:
        if self.dialect == "postgresql":
            assert self.server_url is not None
            name = make_url(self.url).database
            admin = Database(self.server_url)
            try:
                async with admin.engine.connect() as conn:
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            finally:
                await admin.dispose()
        elif self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


async def create(server_url: str | None) -> BenchDatabase:
    """A fresh database at the latest schema: SQLite when `server_url` is None."""
    global _counter
    _counter += 1
    if server_url is None:
        directory = Path(tempfile.mkdtemp(prefix="minesync-bench-"))
        bench = BenchDatabase(
            f"sqlite+aiosqlite:///{directory / 'bench.db'}", "sqlite", directory=directory
        )
    else:
        server_url = normalize_url(server_url)
        if make_url(server_url).get_backend_name() != "postgresql":
            raise ValueError("--database-url must name a PostgreSQL server")
        name = f"bench_{os.getpid()}_{_counter}"
        admin = Database(server_url)
        try:
            async with admin.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        bench = BenchDatabase(url, "postgresql", server_url=server_url)
    db = Database(bench.url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    return bench
