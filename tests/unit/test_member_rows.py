"""The members list's rows are built as plain dicts for speed; they must be exactly what the
slack_sdk models render (which also validates them against Slack's limits)."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.blocks.members import _member_blocks
from bot.blocks.text import MAX_CONFIRM_TITLE, MAX_NAME, mrkdwn, truncate
from handlers.listing import MemberView
from handlers.roles import Role


def modelled(slug: str, org: str, member: MemberView) -> list[dict]:
    """The same rows through slack_sdk's models: the reference."""
    options = [
        Option(value=f"{slug}|{member.user_id}|{role.value}", text=role.label) for role in Role
    ]
    current = next(o for o in options if o.value.endswith(f"|{member.role.value}"))
    line = f"*{mrkdwn(member.name)}*  {mrkdwn(member.email, 320)}  ·  {member.role.label}"
    name = truncate(member.name, MAX_NAME)
    org_name = truncate(org, MAX_NAME)
    remove = ButtonElement(
        text="Remove",
        action_id="member_remove",
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
    blocks = [
        SectionBlock(
            block_id=f"member:{member.user_id}",
            text=MarkdownTextObject(text=line),
            accessory=StaticSelectElement(
                action_id="member_role",
                placeholder="Change role",
                options=options,
                initial_option=current,
            ),
        ),
        ActionsBlock(elements=[remove]),
    ]
    return [b.to_dict() for b in blocks]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("name", "email", "org"),
    [
        ("Pat Planner", "pat@acme.example.com", "Acme Mining"),
        ("<!channel> & co", "a&b@x.example", "R&D <Ops>"),
        ("Ö&<" * 100, "long" * 60 + "@example.com", "O" * 300),
        ("Ólafur Ævarsson", "olafur@dæmi.is", "Námur"),
    ],
)
def test_member_rows_match_the_slack_sdk_models(role: Role, name: str, email: str, org: str):
    member = MemberView(user_id=123456789, email=email, name=name, role=role)
    assert _member_blocks("acme-mining", org, member) == modelled("acme-mining", org, member)
