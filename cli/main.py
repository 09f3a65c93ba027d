"""`minesync-bot`: the operator's command line, a second edge beside the Slack bot.

The operator is trusted (no Admin check, audited as "cli"), but the same use cases run
underneath, so every invariant holds here too.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr

from bot.settings import Settings, SettingsError, load_settings
from handlers.accounts import CreateAccount, create_account
from handlers.actor import Actor
from handlers.audit_queries import export_audit, verify_audit
from handlers.errors import DomainError
from handlers.importing import ImportRejected, import_members, read_csv
from handlers.listing import all_members
from handlers.members import (
    ChangeRole,
    InviteMember,
    RemoveMember,
    change_role,
    invite_member,
    remove_member,
)
from handlers.organizations import (
    BindWorkspace,
    ConfigureOrganization,
    CreateOrganization,
    bind_workspace,
    configure_organization,
    create_organization,
)
from handlers.passwords import generate_password
from handlers.validation import parse
from storage.database import Database
from storage.migrate import pending_upgrade, upgrade
from storage.uow import UnitOfWorkFactory, unit_of_work_factory

Runner = Callable[[argparse.Namespace, UnitOfWorkFactory, Database], Awaitable[int]]


def _out(line: str = "") -> None:
    print(line, flush=True)


async def _db_upgrade(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    await upgrade(db)
    _out("Database is at the latest schema.")
    return 0


async def _org_create(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    org = await create_organization(
        uow(), parse(CreateOrganization, slug=args.slug, name=args.name)
    )
    _out(f"Created organization {org.slug} ({org.name}).")
    return 0


async def _org_set(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    if args.audit_channel is None and args.removal_approvals is None:
        raise _Usage("org set: give --audit-channel CHANNEL_ID and/or --removal-approvals 1|2")
    org = await configure_organization(
        uow(),
        Actor.operator(),
        parse(
            ConfigureOrganization,
            organization=args.org,
            audit_channel=args.audit_channel,
            removal_approvals=args.removal_approvals,
        ),
    )
    _out(
        f"{org.name}: audit channel {org.audit_channel_id or '(none)'}, "
        f"removal approvals {org.removal_approvals}."
    )
    return 0


async def _user_create(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    if args.password_stdin:
        password = SecretStr(sys.stdin.readline().rstrip("\r\n"))
        generated = False
    else:
        password, generated = generate_password(), True
    account = await create_account(
        uow(), parse(CreateAccount, email=args.email, name=args.name, password=password)
    )
    _out(f"Created account {account.email} ({account.name}).")
    if generated:
        # The one place a password is ever printed: generated here, shown once, never stored.
        _out(f"Password (shown once, store it now): {password.get_secret_value()}")
    return 0


async def _member_add(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    change = await invite_member(
        uow(),
        Actor.operator(),
        parse(InviteMember, organization=args.org, email=args.email, role=args.role),
    )
    assert change.role_after is not None
    _out(f"Added {change.email} to {change.organization} as {change.role_after.label}.")
    return 0


async def _member_role(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    change = await change_role(
        uow(),
        Actor.operator(),
        parse(ChangeRole, organization=args.org, member=args.email, role=args.role),
    )
    assert change.role_before is not None and change.role_after is not None
    _out(
        f"{change.email} in {change.organization}: "
        f"{change.role_before.label} -> {change.role_after.label}."
    )
    return 0


async def _member_remove(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    change = await remove_member(
        uow(), Actor.operator(), parse(RemoveMember, organization=args.org, member=args.email)
    )
    _out(f"Removed {change.email} from {change.organization}; the account is kept.")
    return 0


async def _member_list(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    count = 0
    async for m in all_members(uow(), Actor.operator(), args.org):
        count += 1
        if args.json:
            sys.stdout.write(
                json.dumps(
                    {"email": m.email, "name": m.name, "role": m.role.value, "user_id": m.user_id}
                )
                + "\n"
            )
        else:
            sys.stdout.write(f"{m.email:<40} {m.role.label:<11} {m.name}\n")
    if not args.json:
        _out(f"{count} member(s).")
    return 0


class _ProgressBar:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total == 0:
            return
        width = 30
        filled = width * done // total
        self.stream.write(
            f"\r{stage:<12} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


async def _member_import(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    path = Path(args.file)
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except OSError as exc:
        raise _Usage(f"member import: cannot read {args.file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _Usage(
            f'member import: {path.name} is not UTF-8 text; save it as "CSV UTF-8".'
        ) from None
    try:
        result = await import_members(
            uow(),
            Actor.operator(),
            args.org,
            read_csv(io.StringIO(text, newline="")),
            source_name=path.name,
            progress=_ProgressBar(sys.stderr),
        )
    except ImportRejected as rejected:
        for err in rejected.errors:
            print(f"{path.name}:{err.line}: {err.message}", file=sys.stderr)
        if rejected.total_errors > len(rejected.errors):
            more = rejected.total_errors - len(rejected.errors)
            print(f"... and {more} more.", file=sys.stderr)
        raise
    _out(
        f"Imported {result.memberships_added:,} member(s) into {result.organization} "
        f"({result.accounts_created:,} new account(s) without a password)."
    )
    return 0


async def _workspace_bind(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    created = await bind_workspace(
        uow(), parse(BindWorkspace, team_id=args.team_id, organization=args.org)
    )
    state = "is now bound to" if created else "was already bound to"
    _out(f"Slack workspace {args.team_id.upper()} {state} {args.org}.")
    return 0


async def _audit_export(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    out = sys.stdout
    writer = None
    async for record in export_audit(uow(), args.org):
        row = record.as_json()
        if args.format == "jsonl":
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            continue
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row))
            writer.writeheader()
        writer.writerow(
            {
                k: json.dumps(v) if isinstance(v, dict | list) or v is None else v
                for k, v in row.items()
            }
        )
    return 0


async def _audit_verify(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    report = await verify_audit(uow(), args.org)
    if report.intact:
        _out(f"Audit log of {args.org} is intact ({report.entries} entries).")
        return 0
    print(f"Audit log of {args.org} was TAMPERED WITH: {report.problem}.", file=sys.stderr)
    return 1


async def _serve(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    needed = ["slack_signing_secret", "slack_bot_token"]
    if args.socket_mode:
        needed.append("slack_app_token")
    args.settings.require(*needed)
    if await pending_upgrade(db):
        raise _Usage("the database schema is not up to date: run `minesync-bot db upgrade`")
    from bot.server import serve  # the Slack edge loads only when serving

    return await serve(args, uow, db)


async def _sandbox(args: argparse.Namespace, uow: UnitOfWorkFactory, db: Database) -> int:
    # The sandbox (and the Slack edge it runs) loads only when asked for.
    from sandbox.runtime import SandboxError, run

    try:
        return await run(port=args.port, keep=args.keep)
    except SandboxError as exc:
        raise _Usage(str(exc)) from None


class _Usage(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minesync-bot",
        description="MineSync Admin Bot: operator commands and the Slack bot server.",
    )
    parser.add_argument("--database-url", help="overrides DATABASE_URL (default: SQLite file)")
    sub = parser.add_subparsers(dest="area", required=True, metavar="COMMAND")

    def command(area: Any, name: str, run: Runner, help_text: str) -> argparse.ArgumentParser:
        p = area.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(run=run)
        return p

    db = sub.add_parser("db", help="database schema").add_subparsers(
        required=True, metavar="ACTION"
    )
    command(db, "upgrade", _db_upgrade, "apply migrations (safe to run twice)")

    org = sub.add_parser("org", help="organizations").add_subparsers(
        required=True, metavar="ACTION"
    )
    p = command(org, "create", _org_create, "create an organization")
    p.add_argument("slug")
    p.add_argument("--name", required=True)
    p = command(org, "set", _org_set, "configure an organization (audited)")
    p.add_argument("org")
    p.add_argument("--audit-channel", metavar="CHANNEL_ID")
    p.add_argument("--removal-approvals", type=int, choices=(1, 2))

    user = sub.add_parser("user", help="accounts").add_subparsers(required=True, metavar="ACTION")
    p = command(
        user,
        "create",
        _user_create,
        "create an account (prints a generated password once unless --password-stdin)",
    )
    p.add_argument("email")
    p.add_argument("--name", required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    member = sub.add_parser("member", help="memberships").add_subparsers(
        required=True, metavar="ACTION"
    )
    p = command(member, "add", _member_add, "add an existing account to an organization")
    p.add_argument("org")
    p.add_argument("email")
    p.add_argument("role")
    p = command(member, "role", _member_role, "change a member's role")
    p.add_argument("org")
    p.add_argument("email")
    p.add_argument("role")
    p = command(member, "remove", _member_remove, "remove a member (the account is kept)")
    p.add_argument("org")
    p.add_argument("email")
    p = command(member, "list", _member_list, "list members ordered by email")
    p.add_argument("org")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = command(
        member,
        "import",
        _member_import,
        "import members from CSV (email,name,role); all rows or none",
    )
    p.add_argument("org")
    p.add_argument("file")

    ws = sub.add_parser("workspace", help="Slack workspaces").add_subparsers(
        required=True, metavar="ACTION"
    )
    p = command(ws, "bind", _workspace_bind, "let a Slack workspace manage an organization")
    p.add_argument("team_id")
    p.add_argument("org")

    audit = sub.add_parser("audit", help="audit log").add_subparsers(
        required=True, metavar="ACTION"
    )
    p = command(audit, "export", _audit_export, "export the audit log in chain order")
    p.add_argument("org")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p = command(audit, "verify", _audit_verify, "check the audit hash chain")
    p.add_argument("org")

    p = command(sub, "serve", _serve, "run the Slack bot (HTTP, or Socket Mode)")
    p.add_argument("--port", type=int)
    p.add_argument("--host")
    p.add_argument("--socket-mode", action="store_true")

    p = command(
        sub,
        "sandbox",
        _sandbox,
        "try the bot without Slack: a local page that plays Slack in front of the real bot",
    )
    p.add_argument("--port", type=int, default=8765, help="the page's port (default 8765)")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the sandbox database (minesync-sandbox.db) from the last run",
    )
    return parser


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(args.database_url or settings.database_url)
    try:
        return await args.run(args, unit_of_work_factory(database), database)
    finally:
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        args.settings = settings
        return asyncio.run(_run(args, settings))
    except (DomainError, SettingsError, _Usage) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, _Usage | SettingsError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
