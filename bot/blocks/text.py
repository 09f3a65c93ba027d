"""Escaping and truncation of user text, so every Block Kit builder stays within Slack limits."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from handlers.roles import Role

ELLIPSIS = "…"

# Slack's limits (see /work/shared/slack/PLATFORM.md); slack_sdk validates most of them again.
MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_VIEW_TITLE = 24
MAX_OPTION_TEXT = 75
MAX_BUTTON_TEXT = 75
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_PRIVATE_METADATA = 3000
# How much of a person's or organization's name a line shows; Name allows 100 characters.
MAX_NAME = 100

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """Escape &, < and > so Slack shows user text literally instead of parsing links or mentions."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when it was cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def mrkdwn(text: str, limit: int = MAX_NAME) -> str:
    """Escaped user text for mrkdwn, at most `limit` characters once escaped.

    Truncates before escaping so an entity such as `&amp;` is never cut in half.
    """
    if len(escape(text)) <= limit:
        return escape(text)
    budget = limit - len(ELLIPSIS)
    out: list[str] = []
    used = 0
    for ch in text:
        piece = _ESCAPES.get(ch, ch)
        if used + len(piece) > budget:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + ELLIPSIS


def quoted(text: str, limit: int = MAX_NAME) -> str:
    """User text in typographic quotes, escaped for mrkdwn."""
    return f"“{mrkdwn(text, limit)}”"


def pack_lines(lines: Iterable[str], max_blocks: int, max_chars: int = MAX_TEXT) -> list[str]:
    """Join lines into at most `max_blocks` texts of at most `max_chars` each.

    One line per text while the block budget allows; otherwise consecutive lines share a text,
    and a line too long for its share is cut. Lines must be mrkdwn already; a cut line loses its
    tail, so callers put user text last or keep it short.
    """
    items = list(lines)
    if not items:
        return []
    per_block = -(-len(items) // max_blocks)  # ceiling division
    line_max = (max_chars - (per_block - 1)) // per_block
    texts = []
    for start in range(0, len(items), per_block):
        group = items[start : start + per_block]
        texts.append("\n".join(_cut_line(line, line_max) for line in group))
    return texts


def _cut_line(line: str, limit: int) -> str:
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    # Never leave half an entity (&amp;) or half a Slack reference (<#C123>) at the end.
    for opener, closer in (("&", ";"), ("<", ">")):
        at = cut.rfind(opener)
        if at != -1 and closer not in cut[at:]:
            cut = cut[:at]
    return cut.rstrip() + ELLIPSIS


# -- values from audit entries (before/after states), shown in messages -------------------------

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,30}$")
MAX_VALUE = 200


def plain_value(value: Any, limit: int = MAX_VALUE) -> str:
    """A recorded value as escaped text; None reads as "none"."""
    return "none" if value is None else mrkdwn(str(value), limit)


def role_label(value: Any, limit: int = MAX_VALUE) -> str:
    """ "Planner" for "planner"; anything that is not a role is shown as it is."""
    try:
        return Role(value).label
    except ValueError:
        return plain_value(value, limit)


def channel_ref(value: Any, limit: int = MAX_VALUE) -> str:
    """Only a real channel id becomes a <#C…> reference; anything else is shown literally."""
    if isinstance(value, str) and _CHANNEL_ID.match(value):
        return f"<#{value}>"
    return plain_value(value, limit)
