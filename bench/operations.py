"""The operations the benchmark drives, each as Slack sends it, each doing real work.

An operation prepares signed-ready request bodies (the same bytes go to the bot and to both
yardsticks) and says how to tell that the bot's answer is the success an Admin expects:

- role: `/minesync role <mailto:...> planner|technician`, toggling a pool of Technicians, so
  every request changes a role (transaction, audit entry, outbox row);
- invite: `/minesync invite <mailto:...> viewer` with accounts that are no member yet;
- members: `/minesync members`, the first page;
- members_deep: the members list's Next button with a keyset cursor 90% of the way down
  (answered through response_url, so timed until that post reaches the fake Slack);
- remove: the remove confirmation modal submitted, each time for another member;
- help: `/minesync help`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench.fake import TimedFakeSlack
from bench.seeding import BIG_NAME, BIG_SLUG, COMMAND_CHANNEL, TEAM_ID, Seeded, SlackAdmin
from bot.blocks.modals import build_remove_modal
from handlers.roles import Role
from slackfake import payloads


@dataclass(frozen=True)
class Prepared:
    """One request: its form body, and the response_url whose post carries the reply (if the
    HTTP answer does not)."""

    body: bytes
    replies_via: str | None = None


@dataclass
class Operation:
    name: str
    label: str
    mutating: bool
    answered_by: str  # "http" or "response_url"

    def prepare(self) -> Prepared:
        raise NotImplementedError

    def succeeded(self, status: int, answer: Any, posted: Any) -> bool:
        """Whether the bot's answer (HTTP body, or what it posted) is the expected success."""
        raise NotImplementedError


def _text(answer: Any) -> str:
    return str(answer.get("text", "")) if isinstance(answer, dict) else ""


class _Source:
    """Shared by the operations: the fake Slack for trigger_ids/response_urls, and the admins
    taking turns."""

    def __init__(self, fake: TimedFakeSlack, admins: list[SlackAdmin]) -> None:
        self.fake = fake
        self._admins: Iterator[SlackAdmin] = itertools.cycle(admins)

    def admin(self) -> SlackAdmin:
        return next(self._admins)

    def command(self, text: str) -> Prepared:
        who = self.admin()
        response_url = self.fake.response_url(channel_id=COMMAND_CHANNEL, user_id=who.slack_id)
        form = payloads.slash_command_form(
            team_id=TEAM_ID,
            user_id=who.slack_id,
            user_name=who.email.split("@")[0],
            channel_id=COMMAND_CHANNEL,
            text=text,
            response_url=response_url,
            trigger_id=self.fake.new_trigger_id(),
        )
        return Prepared(urlencode(form).encode())

    def interaction(self, payload: dict[str, Any], replies_via: str | None = None) -> Prepared:
        return Prepared(urlencode({"payload": json.dumps(payload)}).encode(), replies_via)


def _mailto(email: str) -> str:
    # What Slack sends for a typed email when the command has should_escape: true.
    return f"<mailto:{email}|{email}>"


class RoleChange(Operation):
    def __init__(self, source: _Source, pool: list[str]) -> None:
        super().__init__("role", "/minesync role", True, "http")
        self._source = source
        self._roles = dict.fromkeys(pool, "technician")
        self._next = itertools.cycle(pool)

    def prepare(self) -> Prepared:
        email = next(self._next)
        role = "planner" if self._roles[email] == "technician" else "technician"
        self._roles[email] = role
        return self._source.command(f"role {_mailto(email)} {role}")

    def succeeded(self, status: int, answer: Any, posted: Any) -> bool:
        return status == 200 and _text(answer).startswith("Changed role of")


class Invite(Operation):
    def __init__(self, source: _Source, accounts: list[str]) -> None:
        super().__init__("invite", "/minesync invite", True, "http")
        self._source = source
        self._accounts = iter(accounts)

    def prepare(self) -> Prepared:
        email = next(self._accounts, None)
        if email is None:
            raise RuntimeError("out of spare accounts to invite")
        return self._source.command(f"invite {_mailto(email)} viewer")

    def succeeded(self, status: int, answer: Any, posted: Any) -> bool:
        return status == 200 and _text(answer).startswith("Invited ")


class MembersFirstPage(Operation):
    def __init__(self, source: _Source) -> None:
        super().__init__("members", "/minesync members (page 1)", False, "http")
        self._source = source

    def prepare(self) -> Prepared:
        return self._source.command("members")

    def succeeded(self, status: int, answer: Any, posted: Any) -> bool:
        return status == 200 and _text(answer).startswith("Members of")


class MembersDeepPage(Operation):
    def __init__(self, source: _Source, after: str) -> None:
        super().__init__("members_deep", "members Next → (90% deep)", False, "response_url")
        self._source = source
        self._value = json.dumps({"org": BIG_SLUG, "q": None, "after": after})

    def prepare(self) -> Prepared:
        who = self._source.admin()
        fake = self._source.fake
        response_url = fake.response_url(channel_id=COMMAND_CHANNEL, user_id=who.slack_id)
        payload = payloads.block_actions_payload(
            team_id=TEAM_ID,
            user_id=who.slack_id,
            actions=[
                payloads.button_action(
                    "members_next", block_id="members_nav", value=self._value, text="Next →"
                )
            ],
            trigger_id=fake.new_trigger_id(),
            channel_id=COMMAND_CHANNEL,
            message_ts="1700000000.000100",
            response_url=response_url,
            is_ephemeral=True,
        )
        return self._source.interaction(payload, replies_via=response_url)

    def succeeded(self, status: int, answer: Any, posted: Any) -> bool:
        return status == 200 and _text(posted).startswith("Members of")


class RemoveSubmit(Operation):
    def __init__(self, source: _Source, seeded: Seeded) -> None:
        super().__init__("remove", "remove modal submit", True, "http")
        self._source = source
        self._members = iter(seeded.removal_pool)

    def prepare(self) -> Prepared:
        member = next(self._members, None)
        if member is None:
            raise RuntimeError("out of members to remove")
        who = self._source.admin()
        view = build_remove_modal(
            BIG_SLUG, BIG_NAME, member.user_id, member.name, member.email, Role(member.role), 1
        )
        payload = payloads.view_submission_payload(
            team_id=TEAM_ID,
            user_id=who.slack_id,
            view=view,
            state_values={},
            trigger_id=self._source.fake.new_trigger_id(),
        )
        return self._source.interaction(payload)

    def succeeded(self, status: int, answer: Any, posted: Any) -> bool:
        if status != 200 or not isinstance(answer, dict):
            return False
        title = (answer.get("view") or {}).get("title", {}).get("text")
        return answer.get("response_action") == "update" and title == "Member removed"


class Help(Operation):
    def __init__(self, source: _Source) -> None:
        super().__init__("help", "/minesync help", False, "http")
        self._source = source

    def prepare(self) -> Prepared:
        return self._source.command("help")

    def succeeded(self, status: int, answer: Any, posted: Any) -> bool:
        return status == 200 and bool(_text(answer)) and "blocks" in answer


def all_operations(fake: TimedFakeSlack, seeded: Seeded) -> list[Operation]:
    source = _Source(fake, seeded.admins)
    return [
        RoleChange(source, seeded.role_pool),
        Invite(source, seeded.spare_accounts),
        MembersFirstPage(source),
        MembersDeepPage(source, seeded.deep_after),
        RemoveSubmit(source, seeded),
        Help(source),
    ]


OPERATION_NAMES = ("role", "invite", "members", "members_deep", "remove", "help")
MUTATING = frozenset({"role", "invite", "remove"})
