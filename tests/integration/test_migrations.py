"""Alembic is the only schema creator: head matches the models exactly, and re-running is safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Base

MODEL_TABLES = set(Base.metadata.tables)


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"the migrations must have one head, not {heads}"
    return heads[0]


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, Base.metadata)


def _state(connection: Connection) -> tuple[list[str], set[str], dict[str, list[str]]]:
    """The recorded revision, the tables, and each table's indexes."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    revisions = []
    if "alembic_version" in tables:
        revisions = [
            r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))
        ]
    indexes = {t: sorted(i["name"] for i in inspector.get_indexes(t)) for t in tables}
    return revisions, tables, indexes


async def differences(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_schema_differences)


async def state(db: Database) -> tuple[list[str], set[str], dict[str, list[str]]]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_state)


async def downgrade(db: Database, revision: str) -> None:
    def _downgrade(connection: Connection) -> None:
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    async with db.engine.connect() as conn:
        await conn.run_sync(_downgrade)
        await conn.commit()


@pytest.fixture
async def fresh(
    database_kind: str, postgres_ready: str | None, database_url: str, tmp_path: Path
) -> Any:
    """An empty SQLite file, or the PostgreSQL database this session rebuilt from nothing."""
    if database_kind == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        assert (await state(db))[1] == set()
        await upgrade(db)
    else:
        # reset_postgres (conftest's postgres_ready) dropped the schema and ran `upgrade` on it.
        db = Database(database_url)
    yield db
    await db.dispose()


async def test_upgrade_head_creates_exactly_the_models_schema(fresh):
    assert await differences(fresh) == []
    revisions, tables, indexes = await state(fresh)
    assert revisions == [head_revision()]
    assert tables == MODEL_TABLES | {"alembic_version"}
    # The indexes the members list and the last-Admin check rely on (PostgreSQL also lists
    # the one backing the unique constraint).
    assert {"ix_memberships_org_email", "ix_memberships_org_role", "ix_memberships_user"} <= set(
        indexes["memberships"]
    )


async def test_upgrade_twice_is_a_no_op(fresh):
    before = await state(fresh)
    await upgrade(fresh)
    await upgrade(fresh)
    assert await state(fresh) == before
    assert await differences(fresh) == []


async def test_upgrade_keeps_existing_data(database_kind, database):
    async with database.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO organizations (slug, name, removal_approvals, member_count, "
                "audit_seq, created_at) VALUES ('acme', 'Acme Mining', 1, 0, 0, "
                "CURRENT_TIMESTAMP)"
            )
        )
    await upgrade(database)
    async with database.engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM organizations"))).scalars().all()
    assert names == ["Acme Mining"]


async def test_downgrade_to_base_then_upgrade_again_on_sqlite(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'roundtrip.db'}")
    try:
        await upgrade(db)
        await downgrade(db, "base")
        revisions, tables, _ = await state(db)
        assert revisions == []
        assert tables <= {"alembic_version"}  # every model table is gone
        await upgrade(db)
        assert await differences(db) == []
        assert (await state(db))[0] == [head_revision()]
    finally:
        await db.dispose()
