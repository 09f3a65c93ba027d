"""Modals for inviting, creating and removing members, and the view shown after a submit."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    EmailInputElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.text import MAX_OPTION_TEXT, MAX_TEXT, MAX_VIEW_TITLE, mrkdwn, truncate
from handlers.roles import Role

# Ids the view_submission listeners match on; every input element's action_id is VALUE.
INVITE_CALLBACK = "invite_member"
CREATE_CALLBACK = "create_user"
REMOVE_CALLBACK = "remove_member"
VALUE = "value"

PASSWORD_HINT = "At least 8 characters. It is never shown again."

_MAX_EMAIL = 320


def build_invite_modal(org_slug: str, org_name: str) -> dict[str, Any]:
    """Add an existing MineSync account to the organization with a role."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Add an existing MineSync account to *{mrkdwn(org_name)}*."
            )
        ),
        InputBlock(
            block_id="email",
            label="Email",
            element=EmailInputElement(action_id=VALUE, placeholder="name@example.com"),
        ),
        _role_input(),
    ]
    return _modal(
        INVITE_CALLBACK, "Invite member", blocks, submit="Invite", metadata={"org": org_slug}
    )


def build_create_user_modal(org_slug: str, org_name: str) -> dict[str, Any]:
    """Create an account and add it to the organization with a role."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Create a MineSync account and add it to *{mrkdwn(org_name)}*."
            )
        ),
        InputBlock(
            block_id="name",
            label="Name",
            element=PlainTextInputElement(action_id=VALUE, max_length=100),
        ),
        InputBlock(
            block_id="email",
            label="Email",
            element=EmailInputElement(action_id=VALUE, placeholder="name@example.com"),
        ),
        # No min_length: Slack's own check would hide our message naming the rule.
        InputBlock(
            block_id="password",
            label="Password",
            hint=PASSWORD_HINT,
            element=PlainTextInputElement(action_id=VALUE),
        ),
        _role_input(),
    ]
    return _modal(
        CREATE_CALLBACK, "Create user", blocks, submit="Create", metadata={"org": org_slug}
    )


def build_remove_modal(
    org_slug: str,
    org_name: str,
    user_id: int,
    name: str,
    email: str,
    role: Role,
    approvals_needed: int,
) -> dict[str, Any]:
    """Confirm a removal; with two approvals needed the submit only requests it."""
    org = mrkdwn(org_name)
    who = mrkdwn(name)
    blocks: list[Block] = [
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Member*\n{who}"),
                MarkdownTextObject(text=f"*Email*\n{mrkdwn(email, _MAX_EMAIL)}"),
                MarkdownTextObject(text=f"*Current role*\n{role.label}"),
                MarkdownTextObject(text=f"*Organization*\n{org}"),
            ]
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{who}* loses access to *{org}* at once; "
                "the account is kept and can be re-invited."
            )
        ),
    ]
    two_step = approvals_needed >= 2
    if two_step:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{org} needs two approvals for a removal: a second Admin must "
                        "approve it in the audit channel before it takes effect."
                    )
                ]
            )
        )
    return _modal(
        REMOVE_CALLBACK,
        "Remove member",
        blocks,
        submit="Request removal" if two_step else "Remove",
        metadata={"org": org_slug, "user_id": user_id},
    )


def build_result_modal(title: str, text: str, *, is_mrkdwn: bool = False) -> dict[str, Any]:
    """A closing view with one message, for response_action "update" after a submit.

    `text` is escaped unless `is_mrkdwn` says it is mrkdwn already escaped (such as the text of
    build_change_message).
    """
    body = truncate(text, MAX_TEXT) if is_mrkdwn else mrkdwn(text, MAX_TEXT)
    view = View(
        type="modal",
        title=PlainTextObject(text=truncate(title, MAX_VIEW_TITLE)),
        close=PlainTextObject(text="Done"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=body))],
    )
    return view.to_dict()


def role_options() -> list[Option]:
    """The four roles, valued by role name and described by what each grants."""
    return [
        Option(
            value=role.value,
            text=role.label,
            description=truncate(role.grants, MAX_OPTION_TEXT),
        )
        for role in Role
    ]


def _role_input() -> InputBlock:
    return InputBlock(
        block_id="role",
        label="Role",
        element=StaticSelectElement(
            action_id=VALUE, placeholder="Choose a role", options=role_options()
        ),
    )


def _modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    *,
    submit: str,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    )
    return view.to_dict()
