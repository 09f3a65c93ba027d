"""`minesync-bot`, run as the operator runs it: a real process per command, against a real DB.

The journey runs on SQLite and PostgreSQL. Commands that do not depend on each other run side
by side (each process costs most of a second to start), which also shows they may.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, text

from handlers.passwords import verify_password
from storage.database import Database
from storage.models import OutboxMessage, WorkspaceBinding
from storage.uow import unit_of_work_factory
from tests import databases, seed

ADA = "ada@acme.example.com"
BOB = "bob@acme.example.com"
BOB_PASSWORD = "correct horse battery staple"
EXPORT_KEYS = {"at", "action", "actor", "target", "before", "after", "hash", "prev_hash"}


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def ok(self) -> Result:
        assert (self.returncode, self.stderr) == (0, ""), self
        return self

    def refused(self) -> str:
        """The one line an operator reads when a command is refused."""
        assert self.returncode != 0, self
        assert self.stdout == "", self
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self
        return lines[0]


class Running:
    def __init__(self, args: tuple[str, ...], process: subprocess.Popen[str], stdin: str | None):
        self.args, self.process, self.stdin = args, process, stdin

    def wait(self) -> Result:
        stdout, stderr = self.process.communicate(self.stdin, timeout=120)
        return Result(self.args, self.process.returncode, stdout, stderr)


@dataclass(frozen=True)
class Cli:
    database_url: str
    cwd: Path

    def start(self, *args: str, stdin: str | None = None) -> Running:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env["DATABASE_URL"] = self.database_url
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", *args],
            cwd=self.cwd,  # no .env from the repository, and no stray minesync.db
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Running(args, process, stdin or "")

    def run(self, *args: str, stdin: str | None = None) -> Result:
        return self.start(*args, stdin=stdin).wait()


@pytest.fixture
def journey_url(request: pytest.FixtureRequest, database_kind: str, tmp_path: Path) -> str:
    if database_kind == "sqlite":
        # Not the migrated template: `db upgrade` must build the schema from nothing.
        return f"sqlite:///{tmp_path / 'journey.db'}"
    database: Database = request.getfixturevalue("database")  # emptied PostgreSQL
    return database.url


async def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            result = await conn.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await db.dispose()


async def password_hash_of(url: str, email: str) -> str | None:
    db = Database(url)
    try:
        async with unit_of_work_factory(db)() as u:
            user = await u.users.get_by_email(email)
            assert user is not None, email
            return user.password_hash
    finally:
        await db.dispose()


async def count_rows(url: str, model: type) -> int:
    db = Database(url)
    try:
        async with db.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await db.dispose()


async def test_operator_journey_from_empty_database_to_verified_audit(journey_url, tmp_path):
    cli = Cli(journey_url, tmp_path)

    # Schema: safe to run twice.
    for _ in range(2):
        assert cli.run("db", "upgrade").ok().stdout == "Database is at the latest schema.\n"
    assert cli.run("org", "create", "acme", "--name", "Acme Mining").ok().stdout == (
        "Created organization acme (Acme Mining).\n"
    )

    # Accounts: a generated password is shown exactly once; a piped one never is.
    ada = cli.start("user", "create", "Ada@Acme.example.com", "--name", "Ada Admin")
    bob = cli.start(
        "user",
        "create",
        BOB,
        "--name",
        "Bob Builder",
        "--password-stdin",
        stdin=BOB_PASSWORD + "\n",
    )
    ada_out, bob_out = ada.wait().ok(), bob.wait().ok()
    created, shown = ada_out.stdout.splitlines()
    assert created == f"Created account {ADA} (Ada Admin)."
    match = re.fullmatch(r"Password \(shown once, store it now\): ([A-Za-z0-9_-]{20})", shown)
    assert match, shown
    generated = match.group(1)
    assert ada_out.output.count(generated) == 1
    ada_hash = await password_hash_of(journey_url, ADA)
    assert ada_hash is not None and generated not in ada_hash
    assert verify_password(ada_hash, SecretStr(generated))  # the shown password is the real one

    assert bob_out.stdout == f"Created account {BOB} (Bob Builder).\n"
    assert "assword" not in bob_out.output
    assert BOB_PASSWORD not in bob_out.output
    bob_hash = await password_hash_of(journey_url, BOB)
    assert bob_hash is not None and verify_password(bob_hash, SecretStr(BOB_PASSWORD))

    # Memberships: the operator bootstraps the first Admin; the last-Admin rule holds for them.
    assert cli.run("member", "add", "acme", ADA, "admin").ok().stdout == (
        f"Added {ADA} to Acme Mining as Admin.\n"
    )
    # Refused whether or not Bob has joined yet: he joins as a Planner.
    add_bob, remove_ada = (
        run.wait()
        for run in [
            cli.start("member", "add", "acme", BOB, "Planner"),
            cli.start("member", "remove", "acme", ADA),
        ]
    )
    assert add_bob.ok().stdout == f"Added {BOB} to Acme Mining as Planner.\n"
    assert remove_ada.refused() == "error: You cannot remove the last Admin of Acme Mining."
    assert cli.run("member", "role", "acme", BOB, "admin").ok().stdout == (
        f"{BOB} in Acme Mining: Planner -> Admin.\n"
    )
    # No self-change rule for the operator: it may demote any Admin while another remains.
    assert cli.run("member", "role", "acme", ADA.upper(), "viewer").ok().stdout == (
        f"{ADA} in Acme Mining: Admin -> Viewer.\n"
    )
    demote_bob, table, as_json = (
        run.wait()
        for run in [
            cli.start("member", "role", "acme", BOB, "viewer"),
            cli.start("member", "list", "acme"),
            cli.start("member", "list", "acme", "--json"),
        ]
    )
    assert demote_bob.refused() == (
        "error: You cannot demote the last Admin of Acme Mining. Make someone else an Admin first."
    )
    table, as_json = table.ok(), as_json.ok()
    assert table.stdout.splitlines() == [
        f"{ADA:<40} {'Viewer':<11} Ada Admin",
        f"{BOB:<40} {'Admin':<11} Bob Builder",
        "2 member(s).",
    ]
    listed = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(m["email"], m["name"], m["role"]) for m in listed] == [
        (ADA, "Ada Admin", "viewer"),
        (BOB, "Bob Builder", "admin"),
    ]

    assert cli.run("member", "remove", "acme", ADA).ok().stdout == (
        f"Removed {ADA} from Acme Mining; the account is kept.\n"
    )
    assert await password_hash_of(journey_url, ADA) == ada_hash

    # Slack workspace and organization settings.
    bind, configure = (
        run.wait().ok()
        for run in [
            cli.start("workspace", "bind", "T0ACME", "acme"),
            cli.start(
                "org", "set", "acme", "--audit-channel", "C0AUDIT", "--removal-approvals", "2"
            ),
        ]
    )
    assert bind.stdout == "Slack workspace T0ACME is now bound to acme.\n"
    assert configure.stdout == "Acme Mining: audit channel C0AUDIT, removal approvals 2.\n"
    # Both settings changes are announced in the new audit channel once committed.
    assert await count_rows(journey_url, OutboxMessage) == 2

    rebind, jsonl, as_csv, verified = (
        run.wait().ok()
        for run in [
            cli.start("workspace", "bind", "T0ACME", "acme"),
            cli.start("audit", "export", "acme"),
            cli.start("audit", "export", "acme", "--format", "csv"),
            cli.start("audit", "verify", "acme"),
        ]
    )
    assert rebind.stdout == "Slack workspace T0ACME was already bound to acme.\n"
    assert await count_rows(journey_url, WorkspaceBinding) == 1

    # Audit export: one JSON object per line, in chain order; refusals left no trace.
    entries = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert all(EXPORT_KEYS <= set(e) for e in entries)
    assert [(e["action"], e["target"]) for e in entries] == [
        ("member.invited", ADA),
        ("member.invited", BOB),
        ("member.role_changed", BOB),
        ("member.role_changed", ADA),
        ("member.removed", ADA),
        ("org.audit_channel_changed", "acme"),
        ("org.removal_approvals_changed", "acme"),
    ]
    assert all(e["actor"] == "cli" for e in entries)
    assert entries[0]["before"] is None
    assert entries[0]["after"] == {"email": ADA, "name": "Ada Admin", "role": "admin"}
    assert (entries[2]["before"]["role"], entries[2]["after"]["role"]) == ("planner", "admin")
    assert entries[4]["before"] == {"email": ADA, "name": "Ada Admin", "role": "viewer"}
    assert entries[4]["after"] is None
    assert entries[6]["after"] == {"removal_approvals": 2}
    assert entries[0]["prev_hash"] is None
    for previous, entry in itertools.pairwise(entries):
        assert entry["prev_hash"] == previous["hash"]
        assert re.fullmatch(r"[0-9a-f]{64}", entry["hash"])
        assert previous["at"] <= entry["at"]

    # CSV: a header, then the same entries, JSON values encoded as JSON.
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert as_csv.stdout.splitlines()[0].split(",") == list(entries[0])
    assert [r["action"] for r in rows] == [e["action"] for e in entries]
    assert [r["hash"] for r in rows] == [e["hash"] for e in entries]
    assert json.loads(rows[2]["after"]) == entries[2]["after"]
    assert rows[0]["before"] == "null"

    assert verified.stdout == "Audit log of acme is intact (7 entries).\n"

    # Someone edits the log behind the application's back.
    await sql(journey_url, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3")
    tampered = cli.run("audit", "verify", "acme")
    assert tampered.returncode == 1
    assert tampered.stdout == ""
    assert tampered.stderr == "Audit log of acme was TAMPERED WITH: entry #3 was altered.\n"


@pytest.fixture
async def acme_cli(sqlite_template: Path, tmp_path: Path) -> Cli:
    """SQLite with Acme Mining and one Admin; the refusals below do not depend on the database."""
    url = databases.fresh_sqlite_url(sqlite_template, tmp_path)
    db = Database(url)
    await seed.org_with_members(unit_of_work_factory(db), "acme", "Acme Mining", {ADA: "admin"})
    await db.dispose()
    return Cli(url, tmp_path)


async def test_refusals_are_one_clear_line_and_change_nothing(acme_cli):
    short = "Short7!"
    assert len(short) == 7
    runs = {
        "short password": acme_cli.start(
            "user", "create", BOB, "--name", "Bob", "--password-stdin", stdin=short + "\n"
        ),
        "taken email": acme_cli.start(
            "user",
            "create",
            ADA.upper(),
            "--name",
            "Ada",
            "--password-stdin",
            stdin="long enough\n",
        ),
        "unknown org": acme_cli.start("member", "list", "nope"),
        "bad email": acme_cli.start("member", "add", "acme", "ada.acme.example.com", "admin"),
        "bad role": acme_cli.start("member", "role", "acme", ADA, "boss"),
        "no account": acme_cli.start("member", "add", "acme", "ghost@acme.example.com", "viewer"),
        "nothing to set": acme_cli.start("org", "set", "acme"),
    }
    results = {name: run.wait() for name, run in runs.items()}
    lines = {name: result.refused() for name, result in results.items()}

    assert lines == {
        "short password": "error: Password must be at least 8 characters.",
        "taken email": f"error: An account already uses {ADA}.",
        "unknown org": "error: There is no organization 'nope'.",
        "bad email": "error: That is not a valid email address: An email address must have an "
        "@-sign.",
        "bad role": "error: Unknown role 'boss': choose one of admin, planner, technician, viewer.",
        "no account": "error: No MineSync account uses ghost@acme.example.com. "
        "Create the user instead.",
        "nothing to set": "error: org set: give --audit-channel CHANNEL_ID and/or "
        "--removal-approvals 1|2",
    }
    assert short not in results["short password"].output
    assert "long enough" not in results["taken email"].output
    # Domain refusals exit 1; a command used wrongly exits 2.
    assert {name: r.returncode for name, r in results.items() if r.returncode != 1} == {
        "nothing to set": 2
    }
    # Nothing changed: no account for Bob, Ada still the only (Admin) member, one audit entry.
    assert await sql(
        acme_cli.database_url, f"SELECT COUNT(*) FROM users WHERE email = '{BOB}'"
    ) == [(0,)]
    assert await sql(acme_cli.database_url, "SELECT email, role FROM memberships") == [
        (ADA, "admin")
    ]
    assert await sql(acme_cli.database_url, "SELECT COUNT(*) FROM audit_entries") == [(1,)]
