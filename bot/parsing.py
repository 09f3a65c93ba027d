"""Turn the text after `/minesync` into a subcommand and its arguments.

Slack rewrites what people type (with the command's should_escape): emails arrive as
`<mailto:a@b.com|a@b.com>`, people as `<@U123|name>` or `<@U123>`, channels as `<#C123|name>`.
Every form is accepted here, so nothing downstream ever sees Slack's markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"<[^>]*>|\S+")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_LINK = re.compile(r"^<([^|>]+)\|([^>]*)>$")

ALIASES = {"users": "members", "member": "members", "?": "help"}
SUBCOMMANDS = (
    "help",
    "members",
    "invite",
    "create",
    "role",
    "remove",
    "audit",
    "orgs",
    "org",
    "config",
)


class UsageError(Exception):
    """Bad arguments for `subcommand`; the reply shows that subcommand's usage line."""

    def __init__(self, subcommand: str | None, problem: str) -> None:
        super().__init__(problem)
        self.subcommand = subcommand
        self.problem = problem


@dataclass(frozen=True)
class MemberRef:
    """A member named by email, or by Slack user id (from an @mention)."""

    email: str | None = None
    slack_user_id: str | None = None


@dataclass(frozen=True)
class Parsed:
    subcommand: str
    args: list[str] = field(default_factory=list)
    org: str | None = None


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def parse(text: str) -> Parsed:
    words = tokens(text)
    org: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.lower() == "--org":
            if i + 1 >= len(words):
                raise UsageError(None, "`--org` needs an organization slug after it.")
            org = words[i + 1].lower()
            i += 2
            continue
        if word.lower().startswith("--org="):
            org = word.split("=", 1)[1].lower()
        else:
            rest.append(word)
        i += 1
    if not rest:
        return Parsed("help", [], org)
    name = rest[0].lower()
    name = ALIASES.get(name, name)
    if name not in SUBCOMMANDS:
        raise UsageError(None, f"I don't know the command `{_plain(rest[0])}`.")
    return Parsed(name, rest[1:], org)


def member_ref(word: str) -> MemberRef:
    """An email (plain or mailto-escaped) or an @mention."""
    if match := _USER.match(word):
        return MemberRef(slack_user_id=match.group(1))
    return MemberRef(email=email_text(word))


def email_text(word: str) -> str:
    if match := _MAILTO.match(word):
        return match.group(1)
    if match := _LINK.match(word):
        return match.group(2)
    return word


def channel_id(word: str) -> str | None:
    if match := _CHANNEL.match(word):
        return match.group(1)
    plain = word.strip()
    return plain if re.fullmatch(r"[CG][A-Z0-9]{2,30}", plain) else None


def _plain(word: str) -> str:
    return word.replace("`", "'")[:40]
