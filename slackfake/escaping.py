"""What Slack does to a slash command's text when the command has `should_escape: true`.

People type `@pat`, `#minesync-audit` or `nia@example.com`; the app receives `<@U0PAT|pat>`,
`<#C0AUDIT|minesync-audit>` and `<mailto:nia@example.com|nia@example.com>`, with `&`, `<` and
`>` in plain text turned into `&amp;`, `&lt;` and `&gt;`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from slackfake.state import Channel, User

_WORD = re.compile(r"\S+|\s+")
_EMAIL = re.compile(r"^[^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+$")
_URL = re.compile(r"^https?://[^\s<>|]+$")
# Punctuation that ends a sentence is not part of a mention ("ask @pat.").
_TRAILING = ".,;:!?)"


def escape_command_text(text: str, users: Iterable[User], channels: Iterable[Channel]) -> str:
    by_name = {u.name.lower(): u for u in users if not u.is_bot}
    by_channel = {c.name.lower(): c for c in channels if not c.is_im}
    return "".join(
        _escape_word(part, by_name, by_channel) if not part.isspace() else part
        for part in _WORD.findall(text)
    )


def _escape_word(word: str, users: dict[str, User], channels: dict[str, Channel]) -> str:
    core = word.rstrip(_TRAILING)
    tail = _amp(word[len(core) :])
    if core.startswith("@") and core[1:].lower() in users:
        user = users[core[1:].lower()]
        return f"<@{user.id}|{user.name}>{tail}"
    if core.startswith("#") and core[1:].lower() in channels:
        channel = channels[core[1:].lower()]
        return f"<#{channel.id}|{channel.name}>{tail}"
    if _EMAIL.match(core):
        return f"<mailto:{core}|{core}>{tail}"
    if _URL.match(core):
        return f"<{core}>{tail}"
    return _amp(word)


def _amp(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
