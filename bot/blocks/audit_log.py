"""The newest audit log entries of an organization, as a message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.text import (
    MAX_HEADER,
    MAX_MESSAGE_BLOCKS,
    channel_ref,
    mrkdwn,
    pack_lines,
    plain_value,
    role_label,
    truncate,
)

if TYPE_CHECKING:
    # Type-only: the use-case module imports storage, which bot/ must not pull in.
    from handlers.audit_queries import AuditRecord, RecentAudit

_MAX_VALUE = 320  # the audit list has room for longer values than a channel summary

# What each action is called in the log; unknown actions show their code.
_ACTIONS = {
    "member.invited": "invited",
    "user.created": "created account",
    "member.role_changed": "changed role",
    "member.removed": "removed",
    "org.audit_channel_changed": "set audit channel",
    "org.removal_approvals_changed": "set removal approvals",
}


def build_audit_message(recent: RecentAudit) -> dict[str, Any]:
    """Entries newest first, one section each, sharing sections when there are too many."""
    org = recent.organization
    blocks: list[Block] = [HeaderBlock(text=truncate(f"Audit log of {org}", MAX_HEADER))]
    if not recent.entries:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"{mrkdwn(org)} has no audit log entries yet.")
            )
        )
    else:
        count = len(recent.entries)
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{count} {'entry' if count == 1 else 'entries'}, newest first."
                    )
                ]
            )
        )
        budget = MAX_MESSAGE_BLOCKS - len(blocks)
        for text in pack_lines((entry_line(e) for e in recent.entries), budget):
            blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    fallback = f"Audit log of {mrkdwn(org)}: {len(recent.entries)} entries."
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}


def entry_line(entry: AuditRecord) -> str:
    """`#seq · time · *actor* · action · target · before → after`, escaped for mrkdwn."""
    parts = [
        f"*#{entry.seq}*",
        _time(entry.at),
        f"*{mrkdwn(entry.actor, _MAX_VALUE)}*",
        _ACTIONS.get(entry.action, mrkdwn(entry.action)),
    ]
    if entry.target:
        parts.append(mrkdwn(entry.target, _MAX_VALUE))
    change = _change(entry)
    if change:
        parts.append(change)
    return " · ".join(parts)


def _time(at: datetime) -> str:
    # SQLite hands back naive datetimes; the log stores UTC.
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _change(entry: AuditRecord) -> str:
    before, after = entry.before or {}, entry.after or {}
    if entry.action in ("member.invited", "user.created"):
        return f"as {role(after.get('role'))}"
    if entry.action == "member.role_changed":
        return f"{role(before.get('role'))} → {role(after.get('role'))}"
    if entry.action == "member.removed":
        return f"was {role(before.get('role'))}"
    if entry.action == "org.audit_channel_changed":
        return f"{channel(before.get('audit_channel'))} → {channel(after.get('audit_channel'))}"
    if entry.action == "org.removal_approvals_changed":
        return f"{plain(before.get('removal_approvals'))} → {plain(after.get('removal_approvals'))}"
    return ", ".join(
        f"{mrkdwn(str(key))}: {plain(old)} → {plain(new)}"
        for key, (old, new) in sorted(entry.diff.items())
    )


def plain(value: Any) -> str:
    return plain_value(value, _MAX_VALUE)


def role(value: Any) -> str:
    return role_label(value, _MAX_VALUE)


def channel(value: Any) -> str:
    return channel_ref(value, _MAX_VALUE)
