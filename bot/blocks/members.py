"""The members list with its role and remove controls, and the confirmation of a member change."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.blocks.text import (
    MAX_CONFIRM_TITLE,
    MAX_HEADER,
    MAX_NAME,
    mrkdwn,
    quoted,
    truncate,
)
from handlers.roles import Role

if TYPE_CHECKING:
    # Type-only: the use-case modules import storage, which bot/ must not pull in.
    from handlers.listing import MembersPage, MemberView
    from handlers.members import MemberChange

# Ids the listeners match on.
ROLE_ACTION = "member_role"
REMOVE_ACTION = "member_remove"
PREVIOUS_ACTION = "members_prev"
NEXT_ACTION = "members_next"
INVITE_ACTION = "open_invite"
CREATE_ACTION = "open_create"
NAV_BLOCK = "members_nav"

CHANGE_VERBS = ("invited", "created", "role_changed", "removed")

# Emails are at most 254 characters (RFC 5321); the cap only guards a malformed row.
_MAX_EMAIL = 320


def build_members_message(page: MembersPage) -> dict[str, Any]:
    """One page of an organization's members: role select and Remove per member, then paging."""
    org = page.organization
    shown = len(page.members)
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Members of {org}", MAX_HEADER)),
        ContextBlock(elements=[MarkdownTextObject(text=_summary(page))]),
    ]
    if page.members:
        for member in page.members:
            blocks.extend(_member_blocks(page.organization_slug, org, member))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_nobody(page))))
    blocks.append(DividerBlock())
    blocks.append(ActionsBlock(block_id=NAV_BLOCK, elements=_nav_buttons(page)))
    fallback = f"Members of {mrkdwn(org)}: {page.total} members, {shown} shown."
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}


def build_change_message(change: MemberChange, verb: str) -> dict[str, Any]:
    """A short confirmation of what a member use case did; `verb` is one of CHANGE_VERBS."""
    who = f"*{mrkdwn(change.name)}* ({mrkdwn(change.email, _MAX_EMAIL)})"
    org = mrkdwn(change.organization)
    after = change.role_after.label if change.role_after else "no role"
    before = change.role_before.label if change.role_before else "no role"
    if verb == "invited":
        text = f"Invited {who} to {org} as {after}."
    elif verb == "created":
        text = f"Created the account {who} and added them to {org} as {after}."
    elif verb == "role_changed":
        text = f"Changed role of {who} in {org}: {before} → {after}."
    elif verb == "removed":
        text = (
            f"Removed {who} from {org} (was {before}). The account is kept and can be re-invited."
        )
    else:
        raise ValueError(f"Unknown change {verb!r}: expected one of {', '.join(CHANGE_VERBS)}.")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ContextBlock(elements=[MarkdownTextObject(text=f"Audit entry #{change.audit_seq}")]),
    ]
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def _summary(page: MembersPage) -> str:
    parts = [f"{page.total} {'member' if page.total == 1 else 'members'}"]
    if page.query:
        parts.append(f"matching {quoted(page.query)}")
    if page.members:
        if page.has_previous:
            # Keyset pages know their first and last email, not their position in the list.
            first = mrkdwn(page.members[0].email, _MAX_EMAIL)
            last = mrkdwn(page.members[-1].email, _MAX_EMAIL)
            parts.append(f"showing {first} – {last}")
        else:
            parts.append(f"showing 1–{len(page.members)}")
    return " · ".join(parts)


def _nobody(page: MembersPage) -> str:
    if page.query:
        return f"No members of {mrkdwn(page.organization)} match {quoted(page.query)}."
    return f"No members of {mrkdwn(page.organization)} to show."


def _member_blocks(slug: str, org: str, member: MemberView) -> list[Block]:
    options = [
        Option(value=f"{slug}|{member.user_id}|{role.value}", text=role.label) for role in Role
    ]
    current = next(o for o in options if o.value.endswith(f"|{member.role.value}"))
    line = f"*{mrkdwn(member.name)}*  {mrkdwn(member.email, _MAX_EMAIL)}  ·  {member.role.label}"
    name = truncate(member.name, MAX_NAME)
    org_name = truncate(org, MAX_NAME)
    remove = ButtonElement(
        text="Remove",
        action_id=REMOVE_ACTION,
        value=f"{slug}|{member.user_id}",
        style="danger",
        confirm=ConfirmObject(
            title=PlainTextObject(
                text=f"Remove {truncate(name, MAX_CONFIRM_TITLE - len('Remove ?'))}?"
            ),
            text=PlainTextObject(
                text=f"{name} loses access to {org_name} at once. "
                "The account is kept and can be re-invited."
            ),
            confirm="Continue",
            deny="Cancel",
            style="danger",
        ),
    )
    return [
        SectionBlock(
            block_id=f"member:{member.user_id}",
            text=MarkdownTextObject(text=line),
            accessory=StaticSelectElement(
                action_id=ROLE_ACTION,
                placeholder="Change role",
                options=options,
                initial_option=current,
            ),
        ),
        ActionsBlock(elements=[remove]),
    ]


def _nav_buttons(page: MembersPage) -> list[ButtonElement]:
    slug = page.organization_slug
    buttons = []
    if page.has_previous:
        value = {"org": slug, "q": page.query, "before": page.previous_cursor}
        buttons.append(
            ButtonElement(text="← Previous", action_id=PREVIOUS_ACTION, value=json.dumps(value))
        )
    if page.has_next:
        value = {"org": slug, "q": page.query, "after": page.next_cursor}
        buttons.append(ButtonElement(text="Next →", action_id=NEXT_ACTION, value=json.dumps(value)))
    buttons.append(
        ButtonElement(text="Invite Member", action_id=INVITE_ACTION, value=slug, style="primary")
    )
    buttons.append(ButtonElement(text="Create User", action_id=CREATE_ACTION, value=slug))
    return buttons
