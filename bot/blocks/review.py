"""The Review modal a second Admin opens from a removal request, and the view that closes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.text import MAX_TEXT, mrkdwn, pack_lines, quoted

if TYPE_CHECKING:
    # Type-only: the use-case module imports storage, which bot/ must not pull in.
    from handlers.removals import RemovalRequestView, RemovalResolution

# Ids the view-submission listener reads.
REVIEW_CALLBACK = "review_removal"
DECISION_BLOCK = "decision"
REASON_BLOCK = "reason"
VALUE = "value"
APPROVE = "approve"
REJECT = "reject"

TITLE = "Review removal"
REASON_MAX = 500  # handlers.removals.REASON_MAX
_MAX_EMAIL = 320
_MAX_REASON = 600


def build_review_modal(request: RemovalRequestView) -> dict[str, Any]:
    """Who asks to remove whom from which organization, what it means, and the decision."""
    org = f"*{mrkdwn(request.organization)}*"
    name = mrkdwn(request.name)
    email = mrkdwn(request.email, _MAX_EMAIL)
    asker = mrkdwn(request.requested_by, _MAX_EMAIL)
    role = request.role.label if request.role is not None else "No longer a member"
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=f"*{asker}* asks to remove *{name}* ({email}) from {org}.")
        ),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Organization*\n{mrkdwn(request.organization)}"),
                MarkdownTextObject(text=f"*Member*\n{name}\n{email}"),
                MarkdownTextObject(text=f"*Current role*\n{role}"),
                MarkdownTextObject(text=f"*Asked by*\n{asker}"),
                MarkdownTextObject(text=f"*Asked*\n{_time(request.created_at)}"),
                MarkdownTextObject(text=f"*Expires*\n{_time(request.expires_at)}"),
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Approving removes {name} from {org} now: they lose access at once. "
                    "Their MineSync account is kept, and an Admin can invite them again later. "
                    "Rejecting leaves them as they are. The requester is told either way."
                )
            ]
        ),
    ]
    options = [_option(REJECT, "Reject")]
    if request.role is not None:
        options.insert(0, _option(APPROVE, "Approve removal"))
    else:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":warning: {name} is no longer a member of {org}, so there is nothing "
                    "to remove. Reject the request to close it."
                )
            )
        )
    blocks += [
        InputBlock(
            block_id=DECISION_BLOCK,
            label=PlainTextObject(text="Decision"),
            element=StaticSelectElement(
                action_id=VALUE,
                placeholder=PlainTextObject(text="Approve or reject"),
                options=options,
            ),
        ),
        InputBlock(
            block_id=REASON_BLOCK,
            label=PlainTextObject(text="Reason (required to reject)"),
            optional=True,
            element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=REASON_MAX),
        ),
    ]
    view = View(
        type="modal",
        callback_id=REVIEW_CALLBACK,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Submit"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"request_id": request.id}),
        blocks=blocks,
    )
    return view.to_dict()


def build_review_done_modal(resolution: RemovalResolution) -> dict[str, Any]:
    """The view the Review modal turns into once the decision is recorded."""
    org = f"*{mrkdwn(resolution.organization)}*"
    who = f"*{mrkdwn(resolution.name)}* ({mrkdwn(resolution.email, _MAX_EMAIL)})"
    if resolution.status == "approved":
        was = resolution.change.role_before if resolution.change else None
        role = f" (was {was.label})" if was is not None else ""
        text = (
            f"You approved removing {who} from {org}{role}. They no longer have access; their "
            "account is kept and can be invited again."
        )
    elif resolution.status == "rejected":
        text = (
            f"You rejected removing {who} from {org}; they keep their access.\n"
            f"*Your reason:* {quoted(resolution.reason or '', _MAX_REASON)}"
        )
    else:
        text = f"The request to remove {who} from {org} is {mrkdwn(resolution.status)}."
    text += "\nThe request in the audit channel now shows the outcome, and the requester is told."
    view = View(
        type="modal",
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Done"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=pack_lines([text], 1, MAX_TEXT)[0]))],
    )
    return view.to_dict()


def _option(value: str, text: str) -> Option:
    return Option(value=value, text=PlainTextObject(text=text))


def _time(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
