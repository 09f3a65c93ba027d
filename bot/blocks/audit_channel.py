"""Messages the outbox dispatcher posts: audit summaries, removal requests and their outcomes.

`render_outbox_message(kind, payload)` turns one outbox row into chat.postMessage (or
chat.update) arguments. Payloads come from the use cases (handlers.audit_log.summary_payload,
handlers.removals); every value in them is user text and is escaped here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.text import (
    MAX_HEADER,
    MAX_TEXT,
    MAX_VALUE,
    channel_ref,
    mrkdwn,
    pack_lines,
    plain_value,
    quoted,
    role_label,
    truncate,
)

# Outbox kinds (the strings handlers.audit_log and handlers.removals write).
AUDIT_SUMMARY = "audit_summary"
REMOVAL_REQUEST = "removal_request"
REMOVAL_RESOLVED = "removal_resolved"
DIRECT_NOTICE = "direct_notice"

# The Review button the action listener matches on; its value is the request id.
REVIEW_ACTION = "removal_review"
REQUEST_BLOCK = "removal_request"

# Emails are at most 254 characters; the cap guards a malformed row. Reasons allow 500.
_MAX_EMAIL = 320
_MAX_REASON = 600
# The fallback `text` shows in notifications; one screenful is plenty.
_MAX_FALLBACK = MAX_TEXT

# Actors that are not people: the operator's CLI and MineSync's own housekeeping.
_NON_PERSON_ACTORS = {"cli": "An operator", "system": "MineSync"}

Message = tuple[str, list[Block]]


def render_outbox_message(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """{"text": fallback, "blocks": [...]} for one outbox row; ValueError for an unknown kind."""
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"There is no message layout for outbox kind {kind!r}.")
    text, blocks = builder(payload)
    return {"text": _fit(text, _MAX_FALLBACK), "blocks": [b.to_dict() for b in blocks]}


# --- audit summaries -----------------------------------------------------------------------


def _audit_summary(payload: dict[str, Any]) -> Message:
    action = str(payload.get("action") or "")
    line = _fit(_summary_line(action, payload), MAX_TEXT)
    details = [f"Audit entry #{plain_value(payload.get('seq'))}"]
    if payload.get("at"):
        details.append(_time(payload["at"]))
    return line, [
        SectionBlock(text=MarkdownTextObject(text=line)),
        ContextBlock(elements=[MarkdownTextObject(text=" · ".join(details))]),
    ]


def _summary_line(action: str, payload: dict[str, Any]) -> str:
    actor = _actor(payload.get("actor"))
    target = _email(payload.get("target"))
    org = _org(payload.get("organization"))
    before: dict[str, Any] = payload.get("before") or {}
    after: dict[str, Any] = payload.get("after") or {}
    request = f"request #{plain_value(after.get('request_id') or before.get('request_id'))}"
    asked_by = _email(after.get("requested_by") or before.get("requested_by"))

    if action == "member.invited":
        return f"{actor} invited {target} to {org} as {role_label(after.get('role'))}."
    if action == "user.created":
        name = mrkdwn(str(after.get("name") or ""), MAX_VALUE)
        role = role_label(after.get("role"))
        return f"{actor} created the account {target} ({name}) in {org} as {role}."
    if action == "member.role_changed":
        return (
            f"{actor} changed {target}'s role in {org}: "
            f"{role_label(before.get('role'))} → {role_label(after.get('role'))}."
        )
    if action == "member.removed":
        return (
            f"{actor} removed {target} from {org} (was {role_label(before.get('role'))}). "
            "The account is kept."
        )
    if action == "org.audit_channel_changed":
        line = (
            f"{actor} set the audit channel of {org} to {channel_ref(after.get('audit_channel'))}"
        )
        if before.get("audit_channel"):
            line += f" (was {channel_ref(before['audit_channel'])})"
        return line + "."
    if action == "org.removal_approvals_changed":
        count = after.get("removal_approvals")
        meaning = (
            "a second Admin must now approve each removal"
            if count == 2
            else "Admins now remove members directly"
        )
        return f"{actor} set removal approvals in {org} to {plain_value(count)}: {meaning}."
    if action == "members.imported":
        return _import_line(actor, org, payload.get("target"), after)
    if action == "member.removal_requested":
        return (
            f"{actor} asked to remove {target} ({role_label(before.get('role'))}) from {org}. "
            f"A second Admin must approve ({request})."
        )
    if action == "member.removal_approved":
        return f"{actor} approved removing {target} from {org} ({request}, asked by {asked_by})."
    if action == "member.removal_rejected":
        return (
            f"{actor} rejected removing {target} from {org} ({request}, asked by {asked_by}). "
            f"Reason: {quoted(str(after.get('reason') or ''), _MAX_REASON)}"
        )
    if action == "member.removal_expired":
        return (
            f"The {request} by {asked_by} to remove {target} from {org} expired without a "
            f"second Admin's review; {target} keeps their access."
        )
    return _generic_line(actor, action, target, org, before, after)


def _import_line(actor: str, org: str, source: Any, after: dict[str, Any]) -> str:
    members = after.get("members", 0)
    created = after.get("accounts_created", 0)
    by_role = ", ".join(
        f"{plain_value(label)} {plain_value(count)}"
        for label, count in after.items()
        if label not in ("members", "accounts_created")
    )
    line = f"{actor} imported {_count(members, 'member')} into {org}"
    if source:
        line += f" from {mrkdwn(str(source), MAX_VALUE)}"
    line += f" ({_count(created, 'new account')}"
    return line + (f"; {by_role})." if by_role else ").")


def _generic_line(
    actor: str,
    action: str,
    target: str,
    org: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> str:
    line = f"{actor}: {mrkdwn(action or 'unknown action', MAX_VALUE)}"
    if target != "none":
        line += f" on {target}"
    line += f" in {org}"
    changes = [
        f"{mrkdwn(str(key), MAX_VALUE)}: "
        f"{plain_value(before.get(key))} → {plain_value(after.get(key))}"
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]
    return line + (f" ({', '.join(changes)})." if changes else ".")


# --- removal requests ----------------------------------------------------------------------


def _removal_request(payload: dict[str, Any]) -> Message:
    request_id = int(payload["request_id"])
    org = _org(payload.get("organization"))
    name, email = _name(payload.get("name")), _email(payload.get("email"))
    asker = _actor(payload.get("requested_by"))
    ask = (
        f"{asker} asks to remove *{name}* ({email}) from {org}. "
        f"Their role there: {role_label(payload.get('role'))}."
    )
    rule = (
        f"Removals from {org} need a second Admin: another Admin, not the requester or the "
        "member, must approve or reject. Removing takes their access away at once; the "
        "account is kept."
    )
    details = f"Request #{request_id}"
    if payload.get("expires_at"):
        details += f" · expires {_time(payload['expires_at'])}"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_header(payload, "Removal request"))),
        SectionBlock(text=MarkdownTextObject(text=_fit(ask, MAX_TEXT))),
        ContextBlock(elements=[MarkdownTextObject(text=_fit(rule, MAX_TEXT))]),
        ContextBlock(elements=[MarkdownTextObject(text=details)]),
        ActionsBlock(
            block_id=REQUEST_BLOCK,
            elements=[
                ButtonElement(
                    text=PlainTextObject(text="Review"),
                    action_id=REVIEW_ACTION,
                    value=str(request_id),
                    style="primary",
                )
            ],
        ),
    ]
    return f"{ask} A second Admin must approve it.", blocks


def _removal_resolved(payload: dict[str, Any]) -> Message:
    request_id = int(payload["request_id"])
    status = str(payload.get("status") or "")
    org = _org(payload.get("organization"))
    name, email = _name(payload.get("name")), _email(payload.get("email"))
    who = f"*{name}* ({email})"
    by = _actor(payload.get("resolved_by"))
    asker = _actor(payload.get("requested_by"))
    role = payload.get("role")
    keeps = (
        f"{name} keeps their access as {role_label(role)}."
        if role
        else f"{name} is no longer a member of {org} anyway."
    )
    if status == "approved":
        title = "Removal approved"
        line = (
            f"{by} approved removing {who} from {org}, as {asker} asked. "
            "They no longer have access; their account is kept and can be invited again."
        )
    elif status == "rejected":
        title = "Removal rejected"
        line = (
            f"{by} rejected removing {who} from {org}, which {asker} asked for. {keeps}\n"
            f"*Reason:* {quoted(str(payload.get('reason') or ''), _MAX_REASON)}"
        )
    elif status == "expired":
        title = "Removal request expired"
        line = (
            f"The request by {asker} to remove {who} from {org} expired without a second "
            f"Admin's review. {keeps}"
        )
    else:
        title = "Removal request closed"
        line = f"The request by {asker} to remove {who} from {org} is {plain_value(status)}."
    details = f"Request #{request_id}"
    if payload.get("resolved_at"):
        details += f" · {mrkdwn(status, MAX_VALUE)} {_time(payload['resolved_at'])}"
    line = _fit(line, MAX_TEXT)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_header(payload, title))),
        SectionBlock(text=MarkdownTextObject(text=line)),
        ContextBlock(elements=[MarkdownTextObject(text=details)]),
    ]
    return line, blocks


def _direct_notice(payload: dict[str, Any]) -> Message:
    text = mrkdwn(str(payload.get("text") or ""), MAX_TEXT)
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


_BUILDERS: dict[str, Callable[[dict[str, Any]], Message]] = {
    AUDIT_SUMMARY: _audit_summary,
    REMOVAL_REQUEST: _removal_request,
    REMOVAL_RESOLVED: _removal_resolved,
    DIRECT_NOTICE: _direct_notice,
}


# --- values --------------------------------------------------------------------------------


def _header(payload: dict[str, Any], title: str) -> str:
    # Plain text: Slack shows it literally, so it is cut but not escaped.
    org = str(payload.get("organization") or "")
    return truncate(f"{title} · {org}" if org else title, MAX_HEADER)


def _actor(label: Any) -> str:
    if isinstance(label, str) and label in _NON_PERSON_ACTORS:
        return _NON_PERSON_ACTORS[label]
    return f"*{_email(label)}*"


def _org(name: Any) -> str:
    return f"*{mrkdwn(str(name or 'their organization'))}*"


def _name(name: Any) -> str:
    return mrkdwn(str(name or "someone"))


def _email(value: Any) -> str:
    return "none" if value is None else mrkdwn(str(value), _MAX_EMAIL)


def _count(value: Any, noun: str) -> str:
    return f"{plain_value(value)} {noun}{'' if value == 1 else 's'}"


def _time(value: Any) -> str:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return plain_value(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fit(text: str, limit: int) -> str:
    """Cut escaped mrkdwn to `limit` without splitting an entity or a <#C…> reference."""
    return pack_lines([text], 1, limit)[0]
