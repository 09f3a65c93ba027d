"""Bulk import of members from CSV rows: all rows apply, or none do.

Accounts that do not exist yet are created without a usable password (they must set one in
MineSync before logging in). Each row is audited like a single invite or creation; the audit
channel gets one summary for the whole import rather than 100,000 messages.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, ValidationError

from handlers import audit_log
from handlers.access import locked_for_admin, member_state
from handlers.actor import Actor
from handlers.errors import DomainError
from handlers.roles import Role
from handlers.validation import Email, Name, RoleName, field_errors
from storage.models import OutboxMessage, utcnow
from storage.uow import UnitOfWork

EXPECTED_HEADER = ["email", "name", "role"]
BATCH = 2000

Progress = Callable[[str, int, int], None]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)
    email: Email
    name: Name
    role: RoleName


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class ImportRejected(DomainError):
    """Nothing was imported; `errors` says which rows to fix (line numbers count the header)."""

    code = "import_rejected"

    def __init__(self, errors: list[RowError], total_errors: int) -> None:
        self.errors = errors
        self.total_errors = total_errors
        super().__init__(
            f"Import rejected: {total_errors} row(s) have errors; nothing was imported."
        )


@dataclass
class ImportResult:
    organization: str
    rows: int = 0
    accounts_created: int = 0
    memberships_added: int = 0
    by_role: dict[str, int] = field(default_factory=dict)


MAX_REPORTED_ERRORS = 100


def read_csv(lines: Iterable[str]) -> Iterable[tuple[int, dict[str, str]]]:
    """Yield (line number, row) pairs; raises ImportRejected for a wrong header."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if header != EXPECTED_HEADER:
            raise ImportRejected([RowError(1, "The header must be exactly: email,name,role")], 1)
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            row = dict(zip(EXPECTED_HEADER, values, strict=False)) | {"_n": str(len(values))}
            yield reader.line_num, row
    except csv.Error as exc:
        raise ImportRejected([RowError(reader.line_num, f"Unreadable CSV: {exc}.")], 1) from None


def _validate(
    rows: Iterable[tuple[int, dict[str, str]]],
) -> tuple[list[tuple[int, _Row]], list[RowError]]:
    valid: list[tuple[int, _Row]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, raw in rows:
        if raw.pop("_n") != "3":
            errors.append(RowError(line, "Expected 3 columns: email,name,role."))
            continue
        try:
            row = _Row(**raw)
        except ValidationError as exc:
            errors.append(RowError(line, " ".join(field_errors(exc).values())))
            continue
        if row.email in seen:
            errors.append(RowError(line, f"{row.email} also appears on line {seen[row.email]}."))
            continue
        seen[row.email] = line
        valid.append((line, row))
    return valid, errors


async def import_members(
    uow: UnitOfWork,
    actor: Actor,
    organization: str,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source_name: str = "csv",
    progress: Progress | None = None,
) -> ImportResult:
    valid, errors = _validate(rows)
    async with uow:
        org = await locked_for_admin(uow, actor, organization)
        accounts = await uow.users.find_by_emails([row.email for _, row in valid])
        existing_members = await uow.memberships.existing_user_ids(
            org.id, [u.id for u in accounts.values()]
        )
        for line, row in valid:
            account = accounts.get(row.email)
            if account is not None and account.id in existing_members:
                errors.append(RowError(line, f"{row.email} is already a member of {org.name}."))
        if errors:
            errors.sort(key=lambda e: e.line)
            raise ImportRejected(errors[:MAX_REPORTED_ERRORS], len(errors))

        result = ImportResult(organization=org.name, rows=len(valid))
        to_create = [row for _, row in valid if row.email not in accounts]
        for start in range(0, len(to_create), BATCH):
            chunk = to_create[start : start + BATCH]
            created = await uow.users.insert_many(
                [
                    {
                        "email": r.email,
                        "name": r.name,
                        "password_hash": None,
                        "created_at": utcnow(),
                    }
                    for r in chunk
                ]
            )
            for user in created:
                accounts[user.email] = user
            result.accounts_created += len(chunk)
            if progress:
                progress("accounts", result.accounts_created, len(to_create))

        new_emails = {r.email for r in to_create}
        context = dict(actor.context) | {"import": source_name}
        row_actor = Actor(actor.label, actor.source, actor.user_id, actor.trusted, context)
        for start in range(0, len(valid), BATCH):
            chunk = [row for _, row in valid[start : start + BATCH]]
            now = utcnow()
            await uow.memberships.bulk_insert(
                org,
                [
                    {
                        "org_id": org.id,
                        "user_id": accounts[r.email].id,
                        "role": r.role.value,
                        "email": r.email,
                        "created_at": now,
                    }
                    for r in chunk
                ],
            )
            entries = [
                audit_log.build_entry(
                    org,
                    row_actor,
                    "user.created" if r.email in new_emails else "member.invited",
                    target=r.email,
                    target_user_id=accounts[r.email].id,
                    before=None,
                    after=member_state(accounts[r.email], r.role),
                )
                for r in chunk
            ]
            await uow.audit.insert_many(entries)
            for r in chunk:
                result.by_role[r.role.value] = result.by_role.get(r.role.value, 0) + 1
            result.memberships_added += len(chunk)
            if progress:
                progress("memberships", result.memberships_added, len(valid))

        if org.audit_channel_id and valid:
            uow.outbox.add(
                OutboxMessage(
                    org_id=org.id,
                    kind=audit_log.AUDIT_SUMMARY,
                    channel_id=org.audit_channel_id,
                    payload={
                        "organization": org.name,
                        "seq": org.audit_seq,
                        "at": utcnow().isoformat(),
                        "action": "members.imported",
                        "actor": actor.label,
                        "target": source_name,
                        "before": None,
                        "after": {
                            "members": result.memberships_added,
                            "accounts_created": result.accounts_created,
                        }
                        | {Role(k).label: v for k, v in sorted(result.by_role.items())},
                    },
                )
            )
        await uow.commit()
        return result
