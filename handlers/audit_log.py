"""The tamper-evident audit log: append (with its outbox summary) and verify.

Each organization's entries form a hash chain: an entry's hash is SHA-256 over its canonical
content, which includes the previous entry's hash. The organization row keeps the chain head,
so appending is O(1), and deleting the newest entries shows as a head mismatch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from handlers.actor import Actor
from storage.models import AuditEntry, Organization, OutboxMessage, utcnow
from storage.uow import UnitOfWork

AUDIT_SUMMARY = "audit_summary"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Fields that changed, each as [old, new]."""
    before, after = before or {}, after or {}
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    }


def content_hash(entry: AuditEntry) -> str:
    canonical = {
        "org_id": entry.org_id,
        "seq": entry.seq,
        "at": _iso(entry.at),
        "action": entry.action,
        "actor": entry.actor,
        "actor_user_id": entry.actor_user_id,
        "target": entry.target,
        "target_user_id": entry.target_user_id,
        "before": entry.before,
        "after": entry.after,
        "diff": entry.diff,
        "source": entry.source,
        "context": entry.context,
        "prev_hash": entry.prev_hash,
    }
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def build_entry(
    org: Organization,
    actor: Actor,
    action: str,
    *,
    target: str | None,
    target_user_id: int | None = None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """The next entry of `org`'s chain; advances the chain head kept on the organization row.

    The caller must hold the organization's lock (OrganizationRepository.lock) and write the
    entry in the same transaction.
    """
    entry = AuditEntry(
        org_id=org.id,
        seq=org.audit_seq + 1,
        at=utcnow(),
        action=action,
        actor=actor.label,
        actor_user_id=actor.user_id,
        target=target,
        target_user_id=target_user_id,
        before=before,
        after=after,
        diff=diff(before, after),
        source=actor.source,
        context=actor.context,
        prev_hash=org.audit_head_hash,
    )
    entry.hash = content_hash(entry)
    org.audit_seq = entry.seq
    org.audit_head_hash = entry.hash
    return entry


def record(
    uow: UnitOfWork,
    org: Organization,
    actor: Actor,
    action: str,
    *,
    target: str | None,
    target_user_id: int | None = None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """Append an entry and queue its channel summary, in the caller's (locked) transaction."""
    entry = build_entry(
        org, actor, action, target=target, target_user_id=target_user_id, before=before, after=after
    )
    uow.audit.add(entry)
    if org.audit_channel_id:
        uow.outbox.add(
            OutboxMessage(
                org_id=org.id,
                kind=AUDIT_SUMMARY,
                channel_id=org.audit_channel_id,
                payload=summary_payload(org, entry),
            )
        )
    return entry


def summary_payload(org: Organization, entry: AuditEntry) -> dict[str, Any]:
    """What the audit channel is told of an entry; rendered into a message by the Slack edge."""
    return {
        "organization": org.name,
        "seq": entry.seq,
        "at": _iso(entry.at),
        "action": entry.action,
        "actor": entry.actor,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
    }


@dataclass(frozen=True)
class ChainReport:
    entries: int
    intact: bool
    problem: str | None = None
    first_bad_seq: int | None = None


async def verify_chain(uow: UnitOfWork, org: Organization) -> ChainReport:
    """Walk the chain in order; name the first entry that was altered, inserted or deleted."""
    expected_seq = 1
    prev_hash: str | None = None
    count = 0
    async for entry in uow.audit.stream(org.id):
        count += 1
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                problem = f"entry #{expected_seq} was deleted (the chain jumps to #{entry.seq})"
                return ChainReport(count, False, problem, expected_seq)
            return ChainReport(count, False, f"entry #{entry.seq} was inserted", entry.seq)
        if entry.seq > org.audit_seq:
            problem = f"entry #{entry.seq} was inserted after the chain head #{org.audit_seq}"
            return ChainReport(count, False, problem, entry.seq)
        if entry.prev_hash != prev_hash:
            problem = (
                f"entry #{entry.seq} does not link to the entry before it "
                "(an entry was inserted or deleted before it)"
            )
            return ChainReport(count, False, problem, entry.seq)
        if content_hash(entry) != entry.hash:
            return ChainReport(count, False, f"entry #{entry.seq} was altered", entry.seq)
        prev_hash = entry.hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if last_seq < org.audit_seq:
        problem = f"entry #{last_seq + 1} was deleted (the chain head is #{org.audit_seq})"
        return ChainReport(count, False, problem, last_seq + 1)
    if last_seq > org.audit_seq or prev_hash != org.audit_head_hash:
        problem = f"entry #{org.audit_seq + 1} was inserted after the chain head"
        if last_seq == org.audit_seq:
            problem = f"entry #{last_seq} was altered or replaced (it is not the recorded head)"
        return ChainReport(count, False, problem, min(last_seq, org.audit_seq + 1))
    return ChainReport(count, True)
