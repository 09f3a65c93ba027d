"""Apply Alembic migrations from code: `minesync-bot db upgrade`, tests and start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        # ConfigParser interpolation would choke on a % in a password.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(database: Database, revision: str = "head") -> None:
    """Migrate to `revision`; a no-op when already there, so safe to run twice."""

    def _upgrade(connection: Connection) -> None:
        cfg = alembic_config(database.url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with database.engine.connect() as conn:
        await conn.run_sync(_upgrade)
        await conn.commit()


async def pending_upgrade(database: Database) -> bool:
    """True when the schema is behind the newest migration (or absent)."""

    def _behind(connection: Connection) -> bool:
        script = ScriptDirectory.from_config(alembic_config())
        current = MigrationContext.configure(connection).get_current_heads()
        return set(current) != set(script.get_heads())

    async with database.engine.connect() as conn:
        return await conn.run_sync(_behind)
