"""SQL statements per operation, counted with a SQLAlchemy `before_cursor_execute` hook.

The bot process gets no benchmark-only code path: instead, each operation's use cases run here,
in the benchmark process, against the same database and in the same order as the bot's
listener calls them (resolve the caller, then the one use case). The count covers every
statement SQLAlchemy sends (transactions are counted apart: their BEGIN and COMMIT/ROLLBACK
are not statements here).

Each captured SELECT, UPDATE and DELETE is then EXPLAINed with its own parameters, and a scan
of a whole table that grows with the organizations (members, accounts, audit log) is reported:
the evidence that no operation's cost grows with the organization.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bench.seeding import BIG_SLUG, COMMAND_CHANNEL, TEAM_ID, Seeded
from handlers import identity
from handlers.actor import Actor
from handlers.listing import ListMembers, list_members
from handlers.members import ChangeRole, InviteMember, change_role, invite_member
from handlers.removals import RemoveOrRequest, remove_or_request
from handlers.validation import parse
from storage.database import Database
from storage.uow import unit_of_work_factory

BIG_TABLES = ("memberships", "users", "audit_entries")
# A whole-table scan in a plan: SQLite says SCAN (SEARCH is an index lookup), PostgreSQL says
# Seq Scan; either on a table that grows with the organizations.
_FULL_SCAN = re.compile(
    r"^\s*(?:SCAN|.*Seq Scan on) (" + "|".join(BIG_TABLES) + r")\b", re.IGNORECASE
)


@dataclass
class StatementCount:
    statements: int
    transactions: int
    kinds: dict[str, int]  # first keyword -> count: SELECT, INSERT, UPDATE, DELETE
    full_scans: list[str] = field(default_factory=list)  # plan lines scanning a big table

    def as_dict(self) -> dict[str, Any]:
        return {
            "statements": self.statements,
            "transactions": self.transactions,
            "kinds": self.kinds,
            "full_scans": self.full_scans,
        }


class _Counter:
    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.transactions = 0

    def on_execute(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any
    ) -> None:
        self.statements.append((statement, parameters))

    def on_begin(self, conn: Any) -> None:
        self.transactions += 1

    def result(self) -> StatementCount:
        kinds: dict[str, int] = {}
        for statement, _ in self.statements:
            kind = statement.lstrip().split(None, 1)[0].upper()
            kinds[kind] = kinds.get(kind, 0) + 1
        return StatementCount(len(self.statements), self.transactions, kinds)


async def _full_scans(db: Database, statements: list[tuple[str, Any]]) -> list[str]:
    explain = "EXPLAIN " if db.is_postgresql else "EXPLAIN QUERY PLAN "
    found: list[str] = []
    async with db.engine.connect() as conn:
        for statement, parameters in statements:
            if statement.lstrip().split(None, 1)[0].upper() not in ("SELECT", "UPDATE", "DELETE"):
                continue
            rows = await conn.exec_driver_sql(explain + statement, parameters)
            for row in rows:
                line = str(row[-1])
                if _FULL_SCAN.search(line):
                    found.append(f"{line.strip()}  <- {' '.join(statement.split())[:120]}")
        await conn.rollback()
    return found


async def count_statements(
    database_url: str, seeded: Seeded, *, role_member: str, invitee: str, removal_index: int
) -> dict[str, StatementCount]:
    """Run each operation once (a real change each) and count what it sent to the database."""
    db = Database(database_url)
    uow = unit_of_work_factory(db)
    admins = itertools.cycle(seeded.admins)

    async def no_lookup() -> str | None:
        raise AssertionError("the acting Admins are linked already")

    async def caller(org: str | None = None, need_org: bool = True) -> Actor:
        """Who is asking, resolved as the listeners do; the acting Admins take turns."""
        who = next(admins)
        ctx = await identity.resolve_request(
            uow(),
            TEAM_ID,
            who.slack_id,
            email_lookup=no_lookup,
            requested_org=org,
            need_org=need_org,
        )
        return ctx.actor(who.slack_id, COMMAND_CHANNEL)

    async def role() -> None:
        actor = await caller()
        await change_role(
            uow(),
            actor,
            parse(ChangeRole, organization=BIG_SLUG, member=role_member, role="viewer"),
        )

    async def invite() -> None:
        actor = await caller()
        await invite_member(
            uow(),
            actor,
            parse(InviteMember, organization=BIG_SLUG, email=invitee, role="viewer"),
        )

    async def members() -> None:
        actor = await caller()
        await list_members(uow(), actor, parse(ListMembers, organization=BIG_SLUG))

    async def members_deep() -> None:
        actor = await caller(org=BIG_SLUG)
        await list_members(
            uow(),
            actor,
            parse(ListMembers, organization=BIG_SLUG, after=seeded.deep_after),
        )

    async def remove() -> None:
        member = seeded.removal_pool[removal_index]
        actor = await caller(org=BIG_SLUG)
        await remove_or_request(
            uow(),
            actor,
            parse(RemoveOrRequest, organization=BIG_SLUG, member=member.user_id),
        )

    async def help_() -> None:
        await caller(need_org=False)  # help only renders who the caller is

    steps: dict[str, Callable[[], Awaitable[None]]] = {
        "role": role,
        "invite": invite,
        "members": members,
        "members_deep": members_deep,
        "remove": remove,
        "help": help_,
    }
    counts: dict[str, StatementCount] = {}
    try:
        await db.ping()  # the first connection's own set-up queries are not an operation's
        for name, step in steps.items():
            counter = _Counter()
            event.listen(db.engine.sync_engine, "before_cursor_execute", counter.on_execute)
            event.listen(db.engine.sync_engine, "begin", counter.on_begin)
            try:
                await step()
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", counter.on_execute)
                event.remove(db.engine.sync_engine, "begin", counter.on_begin)
            counts[name] = counter.result()
            counts[name].full_scans = await _full_scans(db, counter.statements)
    finally:
        await db.dispose()
    return counts
