"""Reading the audit log: the last entries for Admins, export and verification for operators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from handlers.access import authorize_admin, find_organization
from handlers.actor import Actor
from handlers.audit_log import ChainReport, verify_chain
from handlers.validation import Command, Slug
from storage.models import AuditEntry
from storage.uow import UnitOfWork

MAX_RECENT = 50


class ReadAudit(Command):
    organization: Slug
    limit: int = Field(default=10, ge=1, le=MAX_RECENT)


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: datetime
    action: str
    actor: str
    target: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    diff: dict[str, Any]
    source: str
    context: dict[str, Any]
    prev_hash: str | None
    hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditRecord:
        return cls(
            e.seq,
            e.at,
            e.action,
            e.actor,
            e.target,
            e.before,
            e.after,
            e.diff,
            e.source,
            e.context,
            e.prev_hash,
            e.hash,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "action": self.action,
            "actor": self.actor,
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "diff": self.diff,
            "source": self.source,
            "context": self.context,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class RecentAudit:
    organization: str
    entries: list[AuditRecord]


async def read_audit(uow: UnitOfWork, actor: Actor, cmd: ReadAudit) -> RecentAudit:
    """The organization's newest entries, newest first. Admin only."""
    async with uow:
        org = await find_organization(uow, cmd.organization)
        await authorize_admin(uow, actor, org)
        rows = await uow.audit.latest(org.id, cmd.limit)
        return RecentAudit(org.name, [AuditRecord.of(r) for r in rows])


async def export_audit(uow: UnitOfWork, slug: str) -> AsyncIterator[AuditRecord]:
    """Every entry in chain order, streamed; operator only."""
    async with uow:
        org = await find_organization(uow, slug)
        async for entry in uow.audit.stream(org.id):
            yield AuditRecord.of(entry)


async def verify_audit(uow: UnitOfWork, slug: str) -> ChainReport:
    async with uow:
        org = await find_organization(uow, slug)
        return await verify_chain(uow, org)
