"""Usage of /minesync, showing each caller only the commands they may run."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.text import mrkdwn
from handlers.roles import Role

COMMAND = "/minesync"
_ROLES = ", ".join(r.value for r in Role)
_ROLE_CHOICES = "admin, planner, technician or viewer"

# One line per subcommand; the parser shows the matching one for bad arguments.
USAGE: dict[str, str] = {
    "help": f"{COMMAND} help — show what you can do",
    "orgs": f"{COMMAND} orgs — your organizations, your role in each and your default",
    "org": f"{COMMAND} org use SLUG — make SLUG your default organization",
    "members": f"{COMMAND} members [QUERY] — list members, filtered by name or email "
    "(alias: users)",
    "invite": f"{COMMAND} invite EMAIL ROLE — add an existing account; ROLE is {_ROLE_CHOICES} "
    f"(or {COMMAND} invite alone, for a form)",
    "create": f"{COMMAND} create — open a form to create an account and add it as a member",
    "role": f"{COMMAND} role MEMBER ROLE — MEMBER is an email or @mention; ROLE is {_ROLE_CHOICES}",
    "remove": f"{COMMAND} remove MEMBER — MEMBER is an email or @mention; "
    "the account is kept and can be re-invited",
    "audit": f"{COMMAND} audit [N] — the last N audit log entries (default 10, at most 50)",
    "config": f"{COMMAND} config audit-channel #CHANNEL or {COMMAND} config removal-approvals 1|2 "
    "— where audit summaries are posted; how many Admins must approve a removal",
}

# What help shows: (command, what it does), per audience.
_EVERYONE = [
    (f"{COMMAND} help", "this help"),
    (f"{COMMAND} orgs", "your organizations and your role in each"),
    (f"{COMMAND} org use SLUG", "make SLUG your default organization"),
]
_ADMIN = [
    (f"{COMMAND} members [QUERY]", "list members, filtered by name or email (alias: `users`)"),
    (f"{COMMAND} invite EMAIL ROLE", "add an existing account with a role"),
    (f"{COMMAND} invite", "the same, in a form"),
    (f"{COMMAND} create", "create an account and add it, in a form"),
    (f"{COMMAND} role MEMBER ROLE", "change a member's role; MEMBER is an email or @mention"),
    (f"{COMMAND} remove MEMBER", "remove a member; the account is kept and can be re-invited"),
    (f"{COMMAND} audit [N]", "the last N audit log entries (default 10, at most 50)"),
]
_CONFIG = [
    (f"{COMMAND} config audit-channel #CHANNEL", "where audit summaries are posted"),
    (f"{COMMAND} config removal-approvals 1|2", "how many Admins must approve a removal"),
]


def build_help_message(
    *, is_admin: bool, org_name: str | None, can_configure: bool | None = None
) -> dict[str, Any]:
    """Help for the caller: everyone's commands, plus the Admin ones when they are an Admin.

    `can_configure` defaults to `is_admin` and decides whether the `config` lines are shown.
    """
    show_config = is_admin if can_configure is None else can_configure
    admin = (_ADMIN if is_admin else []) + (_CONFIG if show_config else [])
    if org_name:
        where = f"Your organization here: *{mrkdwn(org_name)}*."
    else:
        where = f"No default organization yet: choose one with `{COMMAND} org use SLUG`."
    blocks: list[Block] = [
        HeaderBlock(text="MineSync commands"),
        ContextBlock(elements=[MarkdownTextObject(text=where)]),
        _section("Everyone", _EVERYONE),
    ]
    if admin:
        blocks.append(_section("Admins", admin))
        note = f"Any command takes `--org SLUG` to act on another organization. Roles: {_ROLES}."
    else:
        note = f"Roles: {_ROLES}. An Admin of your organization manages its members and roles."
    blocks.append(DividerBlock())
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    commands = ", ".join(command for command, _ in _EVERYONE + admin)
    return {"text": f"MineSync commands: {commands}", "blocks": [b.to_dict() for b in blocks]}


def _section(title: str, entries: list[tuple[str, str]]) -> SectionBlock:
    lines = [f"*{title}*"] + [f"• `{command}` — {what}" for command, what in entries]
    return SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))
