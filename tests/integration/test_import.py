"""Bulk import: every row applies with its audit entry, or nothing does; on both databases."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.actor import Actor
from handlers.audit_queries import verify_audit
from handlers.errors import PermissionDenied
from handlers.importing import ImportRejected, ImportResult, import_members, read_csv
from handlers.organizations import (
    ConfigureOrganization,
    CreateOrganization,
    configure_organization,
    create_organization,
)
from handlers.validation import parse
from storage.database import Database
from storage.models import AuditEntry, Membership, Organization, OutboxMessage, User
from storage.uow import UnitOfWorkFactory
from tests import databases, seed

HEADER = "email,name,role\n"
# Already an account (with a password) but not a member of acme.
NIA = "nia@acme.example.com"
# Already a member of acme (imported earlier, so no password).
OLD = "old@acme.example.com"


async def run_import(
    uow: UnitOfWorkFactory, text: str, *, actor: Actor | None = None, source: str = "people.csv"
) -> ImportResult:
    return await import_members(
        uow(),
        actor or Actor.operator(),
        "acme",
        read_csv(io.StringIO(text, newline="")),
        source_name=source,
    )


@pytest.fixture
async def acme(uow: UnitOfWorkFactory) -> None:
    await create_organization(uow(), parse(CreateOrganization, slug="acme", name="Acme Mining"))
    await run_import(uow, HEADER + f"{OLD},Old Timer,admin\n", source="first.csv")
    await seed.account(uow, NIA, "Nia Account")


async def count(database: Database, model: type) -> int:
    async with database.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def snapshot(database: Database) -> dict[str, int]:
    return {
        model.__name__: await count(database, model)
        for model in (User, Membership, AuditEntry, OutboxMessage)
    }


async def entries(database: Database) -> list[AuditEntry]:
    async with database.sessionmaker() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def test_import_creates_accounts_without_password_and_audits_every_row(uow, database, acme):
    text = (
        " Email , NAME , Role \n"  # header case and blanks do not matter
        "new.one@acme.example.com,New One,admin\n"
        f"{NIA.upper()},Name In File,Planner\n"
        "\n"  # blank lines are skipped
        'NEW.TWO@acme.example.com,"Two, New",TECHNICIAN\n'
        "new.three@acme.example.com,Ólafur Þórsson,viewer\n"
    )
    async with uow() as u:
        nia_before = await u.users.get_by_email(NIA)

    result = await run_import(uow, text)

    assert (result.organization, result.rows) == ("Acme Mining", 4)
    assert (result.accounts_created, result.memberships_added) == (3, 4)
    assert result.by_role == {"admin": 1, "planner": 1, "technician": 1, "viewer": 1}
    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        roles = {}
        for email in ("new.one", "nia", "new.two", "new.three", "old"):
            user = await u.users.get_by_email(f"{email}@acme.example.com")
            roles[email] = (await u.memberships.get(org.id, user.id)).role
            if email.startswith("new"):
                assert user.password_hash is None, email
        new_two = await u.users.get_by_email("new.two@acme.example.com")
        nia = await u.users.get_by_email(NIA)
        members = await u.memberships.count(org.id)
    assert roles == {
        "new.one": "admin",
        "nia": "planner",
        "new.two": "technician",
        "new.three": "viewer",
        "old": "admin",
    }
    assert new_two.name == "Two, New"
    # An existing account is invited as it is: its name and password are left alone.
    assert (nia.name, nia.password_hash) == ("Nia Account", nia_before.password_hash)
    assert nia.password_hash.startswith("$argon2id$")
    assert org.member_count == members == 5

    log = await entries(database)
    assert len(log) == 1 + 4  # the earlier import's row, then one per row of this file
    assert [(e.seq, e.action, e.target) for e in log[1:]] == [
        (2, "user.created", "new.one@acme.example.com"),
        (3, "member.invited", NIA),
        (4, "user.created", "new.two@acme.example.com"),
        (5, "user.created", "new.three@acme.example.com"),
    ]
    assert log[3].after == {
        "email": "new.two@acme.example.com",
        "name": "Two, New",
        "role": "technician",
    }
    assert log[2].after == {"email": NIA, "name": "Nia Account", "role": "planner"}
    assert all(e.before is None for e in log)
    assert all(e.actor == "cli" and e.source == "cli" for e in log)
    assert all(e.context == {"import": "people.csv"} for e in log[1:])
    assert log[2].target_user_id == nia.id
    report = await verify_audit(uow(), "acme")
    assert report.intact and report.entries == 5


def lines_of(rejected: ImportRejected) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in rejected.errors]


BAD_FILES = {
    "bad email": (
        HEADER + "a@acme.example.com,A,viewer\nnot-an-email,B,viewer\n",
        [(3, "That is not a valid email address: An email address must have an @-sign.")],
    ),
    "unknown role": (
        HEADER + "a@acme.example.com,A,viewer\nb@acme.example.com,B,owner\n",
        [(3, "Unknown role 'owner': choose one of admin, planner, technician, viewer.")],
    ),
    "empty name": (
        HEADER + "a@acme.example.com,A,viewer\nb@acme.example.com,  ,viewer\n",
        [(3, "Name must not be empty.")],
    ),
    "duplicate email in the file": (
        HEADER
        + "a@acme.example.com,A,viewer\nb@acme.example.com,B,viewer\nA@ACME.example.com,A2,admin\n",
        [(4, "a@acme.example.com also appears on line 2.")],
    ),
    "already a member": (
        HEADER + f"a@acme.example.com,A,viewer\n{OLD.upper()},Old,viewer\n",
        [(3, f"{OLD} is already a member of Acme Mining.")],
    ),
    "wrong header": (
        "email,role,name\na@acme.example.com,viewer,A\n",
        [(1, "The header must be exactly: email,name,role")],
    ),
    "missing header": (
        "a@acme.example.com,A,viewer\n",
        [(1, "The header must be exactly: email,name,role")],
    ),
    "too few columns": (
        HEADER + "a@acme.example.com,A,viewer\nb@acme.example.com,B\n",
        [(3, "Expected 3 columns: email,name,role.")],
    ),
    "too many columns": (
        HEADER + "a@acme.example.com,A,viewer\nb@acme.example.com,B,viewer,extra\n",
        [(3, "Expected 3 columns: email,name,role.")],
    ),
    "several rows, blank lines counted": (
        HEADER + "bad,A,viewer\n\nb@acme.example.com,B,boss\nc@acme.example.com,C,viewer\n",
        [
            (2, "That is not a valid email address: An email address must have an @-sign."),
            (4, "Unknown role 'boss': choose one of admin, planner, technician, viewer."),
        ],
    ),
}


async def test_one_bad_row_imports_nothing_and_names_its_line(uow, database, acme):
    before = await snapshot(database)
    for case, (text, expected) in BAD_FILES.items():
        with pytest.raises(ImportRejected) as caught:
            await run_import(uow, text)
        assert lines_of(caught.value) == expected, case
        assert caught.value.total_errors == len(expected), case
        assert caught.value.code == "import_rejected"
        assert "nothing was imported" in str(caught.value)
        assert await snapshot(database) == before, case
    async with uow() as u:
        assert await u.users.get_by_email("a@acme.example.com") is None
        org = await u.organizations.get_by_slug("acme")
    assert (org.member_count, org.audit_seq) == (1, 1)
    assert (await verify_audit(uow(), "acme")).intact


async def test_many_bad_rows_report_the_first_hundred_and_the_total(uow, database, acme):
    text = HEADER + "".join(f"bad{i},Name,viewer\n" for i in range(150))
    before = await snapshot(database)
    with pytest.raises(ImportRejected) as caught:
        await run_import(uow, text)
    assert caught.value.total_errors == 150
    assert [e.line for e in caught.value.errors] == list(range(2, 102))
    assert await snapshot(database) == before


async def test_only_an_admin_may_import(uow, database, acme):
    async with uow() as u:
        old = await u.users.get_by_email(OLD)
    await run_import(uow, HEADER + "pat@acme.example.com,Pat,planner\n")
    async with uow() as u:
        pat = await u.users.get_by_email("pat@acme.example.com")
    before = await snapshot(database)
    planner = Actor.member(pat.id, pat.email, source="slack")
    with pytest.raises(PermissionDenied, match="only Admins of Acme Mining"):
        await run_import(uow, HEADER + "q@acme.example.com,Q,viewer\n", actor=planner)
    assert await snapshot(database) == before
    # An Admin acting through Slack may; the audit names them and the file.
    admin = Actor.member(old.id, old.email, source="slack", context={"team_id": "T1"})
    await run_import(uow, HEADER + "q@acme.example.com,Q,viewer\n", actor=admin, source="q.csv")
    last = (await entries(database))[-1]
    assert (last.actor, last.actor_user_id, last.source) == (OLD, old.id, "slack")
    assert last.context == {"team_id": "T1", "import": "q.csv"}


async def test_audit_channel_gets_one_summary_for_the_whole_import(uow, database, acme):
    await configure_organization(
        uow(),
        Actor.operator(),
        parse(ConfigureOrganization, organization="acme", audit_channel="C0AUDIT"),
    )
    before = await count(database, OutboxMessage)  # the channel change announces itself
    rows = "".join(f"u{i}@acme.example.com,User {i},viewer\n" for i in range(30))
    await run_import(uow, HEADER + rows + f"{NIA},Nia,admin\n", source="staff.csv")

    async with database.sessionmaker() as session:
        outbox = list(
            (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        )
        org = await session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert len(outbox) == before + 1
    summary = outbox[-1]
    assert (summary.kind, summary.channel_id, summary.delivered_at) == (
        "audit_summary",
        "C0AUDIT",
        None,
    )
    payload = summary.payload
    assert payload["action"] == "members.imported"
    assert (payload["organization"], payload["actor"], payload["target"]) == (
        "Acme Mining",
        "cli",
        "staff.csv",
    )
    assert payload["after"] == {"members": 31, "accounts_created": 30, "Admin": 1, "Viewer": 30}
    assert payload["seq"] == org.audit_seq
    # ... while the audit log itself still has one entry per row.
    assert await count(database, AuditEntry) == org.audit_seq == 2 + 31


async def test_a_rejected_import_sends_no_summary(uow, database, acme):
    await configure_organization(
        uow(),
        Actor.operator(),
        parse(ConfigureOrganization, organization="acme", audit_channel="C0AUDIT"),
    )
    before = await snapshot(database)
    with pytest.raises(ImportRejected):
        await run_import(uow, HEADER + "a@acme.example.com,A,viewer\nb,B,viewer\n")
    assert await snapshot(database) == before


async def test_five_thousand_rows_import_in_one_go(uow, database, acme):
    rows = "".join(
        f"user{i:05d}@acme.example.com,User {i},{('viewer', 'technician', 'planner')[i % 3]}\n"
        for i in range(5000)
    )
    result = await run_import(uow, HEADER + rows + f"{NIA},Nia,viewer\n", source="big.csv")
    assert (result.accounts_created, result.memberships_added) == (5000, 5001)
    assert await count(database, User) == 5002
    assert await count(database, AuditEntry) == 1 + 5001
    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        assert org.member_count == await u.memberships.count(org.id) == 5002
        assert await u.memberships.count(org.id, "planner") == 1666
        last = await u.users.get_by_email("user04999@acme.example.com")
        assert last.password_hash is None
        assert (await u.memberships.get(org.id, last.id)).role == "technician"
    report = await verify_audit(uow(), "acme")
    assert report.intact and report.entries == 5002


def run_cli(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_cli_import_reports_lines_or_imports_everything(
    uow, database, database_url, database_kind, acme, tmp_path
):
    if database_kind != "sqlite":
        pytest.skip("the CLI edge is database-agnostic; the use case runs on both above")
    bad = tmp_path / "bad.csv"
    # An Excel export: byte-order mark and CRLF line endings.
    bad.write_text(
        "\ufeffemail,name,role\r\nann@acme.example.com,Ann,viewer\r\nbob,Bob,viewer\r\n"
        "cat@acme.example.com,Cat,chief\r\n",
        encoding="utf-8",
    )
    before = await snapshot(database)
    rejected = run_cli(database_url, tmp_path, "member", "import", "acme", str(bad))
    assert rejected.returncode == 1
    assert rejected.stdout == ""
    assert rejected.stderr.splitlines() == [
        "bad.csv:3: That is not a valid email address: An email address must have an @-sign.",
        "bad.csv:4: Unknown role 'chief': choose one of admin, planner, technician, viewer.",
        "error: Import rejected: 2 row(s) have errors; nothing was imported.",
    ]
    assert await snapshot(database) == before

    good = tmp_path / "good.csv"
    good.write_text(
        f"\ufeffemail,name,role\r\nann@acme.example.com,Ann,viewer\r\n{NIA},Nia,planner\r\n",
        encoding="utf-8",
    )
    done = run_cli(database_url, tmp_path, "member", "import", "acme", str(good))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "Imported 2 member(s) into Acme Mining (1 new account(s) without a password).\n"
    )
    log = await entries(database)
    assert [(e.action, e.target, e.context) for e in log[-2:]] == [
        ("user.created", "ann@acme.example.com", {"import": "good.csv"}),
        ("member.invited", NIA, {"import": "good.csv"}),
    ]
    assert (await verify_audit(uow(), "acme")).intact


async def test_an_unreadable_csv_row_is_rejected_with_its_line(uow, database, acme):
    before = await snapshot(database)
    text = (
        HEADER + "a@acme.example.com,A,viewer\n" + f'b@acme.example.com,"{"b" * 200_000}",viewer\n'
    )
    with pytest.raises(ImportRejected) as caught:
        await run_import(uow, text)
    assert [e.line for e in caught.value.errors] == [3]
    assert await snapshot(database) == before


def test_cli_import_of_a_non_utf8_file_is_one_clear_line(sqlite_template, tmp_path):
    url = databases.fresh_sqlite_url(sqlite_template, tmp_path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("email,name,role\nzoe@acme.example.com,Zoë,viewer\n".encode("cp1252"))
    result = run_cli(url, tmp_path, "member", "import", "acme", str(latin))
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "latin.csv" in result.stderr and "UTF-8" in result.stderr
