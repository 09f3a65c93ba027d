"""Tampering with audit rows directly in the database is named by `audit verify`."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from handlers.audit_queries import verify_audit
from handlers.members import ChangeRole, change_role
from handlers.validation import parse
from storage.database import Database
from storage.uow import UnitOfWorkFactory
from tests import seed

ADMIN = "ada@acme.example.com"
OTHER = "pat@acme.example.com"


@pytest.fixture
async def chain(uow: UnitOfWorkFactory) -> None:
    actors = await seed.org_with_members(
        uow, "acme", "Acme Mining", {ADMIN: "admin", OTHER: "planner"}
    )
    for role in ("viewer", "technician", "planner"):
        await change_role(
            uow(), actors[ADMIN], parse(ChangeRole, organization="acme", member=OTHER, role=role)
        )
    # seq 1..2 invites, 3..5 role changes


async def run_sql(db: Database, sql: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text(sql))


async def test_untouched_chain_is_intact(uow, chain):
    report = await verify_audit(uow(), "acme")
    assert report.intact and report.entries == 5


async def test_altered_entry_is_named(uow, database, chain):
    await run_sql(database, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3")
    report = await verify_audit(uow(), "acme")
    assert not report.intact
    assert report.first_bad_seq == 3
    assert report.problem == "entry #3 was altered"


async def test_deleted_entry_is_named(uow, database, chain):
    await run_sql(database, "DELETE FROM audit_entries WHERE seq = 2")
    report = await verify_audit(uow(), "acme")
    assert (report.intact, report.first_bad_seq) == (False, 2)
    assert "entry #2 was deleted" in report.problem


async def test_deleted_tail_is_named(uow, database, chain):
    await run_sql(database, "DELETE FROM audit_entries WHERE seq = 5")
    report = await verify_audit(uow(), "acme")
    assert (report.intact, report.first_bad_seq) == (False, 5)
    assert "entry #5 was deleted" in report.problem


async def test_inserted_entry_is_named(uow, database, chain):
    # A forger copies entry 5 as a new entry 6 (recomputing nothing: the head does not match).
    await run_sql(
        database,
        """
        INSERT INTO audit_entries (org_id, seq, at, action, actor, actor_user_id, target,
            target_user_id, before, after, diff, source, context, prev_hash, hash)
        SELECT org_id, 6, at, action, actor, actor_user_id, target, target_user_id, before,
            after, diff, source, context, hash, hash FROM audit_entries WHERE seq = 5
    """,
    )
    report = await verify_audit(uow(), "acme")
    assert (report.intact, report.first_bad_seq) == (False, 6)
    assert "entry #6 was inserted" in report.problem


async def test_renumbered_insertion_in_the_middle_is_named(uow, database, chain):
    await run_sql(database, "UPDATE audit_entries SET seq = seq + 100 WHERE seq >= 3")
    await run_sql(database, "UPDATE audit_entries SET seq = seq - 99 WHERE seq >= 103")
    await run_sql(
        database,
        """
        INSERT INTO audit_entries (org_id, seq, at, action, actor, actor_user_id, target,
            target_user_id, before, after, diff, source, context, prev_hash, hash)
        SELECT org_id, 3, at, action, 'forger', actor_user_id, target, target_user_id, before,
            after, diff, source, context, prev_hash, hash FROM audit_entries WHERE seq = 2
    """,
    )
    report = await verify_audit(uow(), "acme")
    assert not report.intact and report.first_bad_seq == 3
