"""Two bot replicas on one PostgreSQL database, driven at once: the rules and the audit hold.

Several replicas share one database in production (README, "Running several replicas"). Here
two real server processes receive, interleaved, concurrent removals and demotions of the same
organization's Admins and a burst of role changes, while both run the outbox dispatcher.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.blocks.modals import build_remove_modal
from handlers.actor import Actor
from handlers.members import ChangeRole, change_role
from handlers.organizations import (
    BindWorkspace,
    ConfigureOrganization,
    bind_workspace,
    configure_organization,
)
from handlers.outbox import pending_count
from handlers.roles import Role
from handlers.validation import parse
from slackfake import FakeSlack, SlackRequester, payloads
from slackfake.client import BotReply
from storage.uow import UnitOfWorkFactory
from tests import seed
from tests.e2e.harness import CHANNEL, SIGNING_SECRET, TEAM, BotProcess
from tests.state import audit_entries, role_of

# Acme: six Admins who remove and demote each other, and Technicians for a burst of changes.
ADMINS = [f"admin{i}@acme.example.com" for i in range(1, 7)]
TECHNICIANS = [f"tech{i:02d}@acme.example.com" for i in range(1, 25)]
# Duel: exactly two Admins, who demote each other at the same moment, round after round.
DUELISTS = ["duke@duel.example.com", "dora@duel.example.com"]
DUEL_ROUNDS = 5
CHANNELS = {"acme": "C0AUDITACME", "duel": "C0AUDITDUEL"}
SEQ = re.compile(r"Audit entry #(\d+)\b")

Outcome = tuple[str, str, str, bool, BotReply]  # org, action, target, applied, reply


def slack_id(email: str) -> str:
    return "U" + re.sub(r"[^A-Z0-9]", "", email.split("@")[0].upper())


def _text(reply: BotReply) -> str:
    return json.dumps(reply.body, ensure_ascii=False)


async def _organization(uow: UnitOfWorkFactory, slug: str, members: dict[str, str]) -> None:
    await seed.org_with_members(uow, slug, slug.title(), members)
    await bind_workspace(uow(), parse(BindWorkspace, team_id=TEAM, organization=slug))
    await configure_organization(
        uow(),
        Actor.operator(),
        parse(ConfigureOrganization, organization=slug, audit_channel=CHANNELS[slug]),
    )


async def _user_id(uow: UnitOfWorkFactory, email: str) -> int:
    async with uow() as u:
        user = await u.users.get_by_email(email)
        assert user is not None
        return user.id


async def _remove(
    via: SlackRequester, fake: FakeSlack, org: str, actor: str, target: str, uid: int
) -> Outcome:
    view = build_remove_modal(org, org.title(), uid, target, target, Role.ADMIN, 1)
    payload = payloads.view_submission_payload(
        team_id=TEAM,
        user_id=slack_id(actor),
        view=view,
        state_values={},
        trigger_id=fake.new_trigger_id(),
    )
    reply = await via.view_submission(payload)
    applied = (reply.body.get("view") or {}).get("title", {}).get("text") == "Member removed"
    return (org, "member.removed", target, applied, reply)


async def _role(via: SlackRequester, org: str, actor: str, target: str, role: str) -> Outcome:
    reply = await via.command(
        f"role <mailto:{target}|{target}> {role}", user_id=slack_id(actor), channel_id=CHANNEL
    )
    applied = str(reply.body.get("text", "")).startswith("Changed role of")
    return (org, "member.role_changed", target, applied, reply)


async def _admins(uow: UnitOfWorkFactory, org: str, emails: list[str]) -> list[str]:
    return [e for e in emails if await role_of(uow, org, e) == "admin"]


async def _all_delivered(uow: UnitOfWorkFactory) -> None:
    async with asyncio.timeout(60):
        left = await pending_count(uow())
        while left:
            await asyncio.sleep(0.2)
            left = await pending_count(uow())


async def _storm(
    uow: UnitOfWorkFactory, fake: FakeSlack, via: Iterator[SlackRequester]
) -> list[Outcome]:
    """Every Acme Admin removes the next one and demotes the one after, while a burst of role
    changes goes on, all at once through alternating replicas."""
    work = []
    for i, actor in enumerate(ADMINS):
        removed = ADMINS[(i + 1) % len(ADMINS)]
        demoted = ADMINS[(i + 2) % len(ADMINS)]
        uid = await _user_id(uow, removed)
        work.append(_remove(next(via), fake, "acme", actor, removed, uid))
        work.append(_role(next(via), "acme", actor, demoted, "viewer"))
    for i, tech in enumerate(TECHNICIANS):
        work.append(_role(next(via), "acme", ADMINS[i % len(ADMINS)], tech, "planner"))
    return list(await asyncio.gather(*work))


async def _duel(uow: UnitOfWorkFactory, senders: list[SlackRequester]) -> list[Outcome]:
    """The two Duel Admins demote each other at the same moment, one replica each; the loser
    is made Admin again by the operator for the next round."""
    outcomes: list[Outcome] = []
    for _ in range(DUEL_ROUNDS):
        duke, dora = DUELISTS
        both = await asyncio.gather(
            _role(senders[0], "duel", duke, dora, "viewer"),
            _role(senders[1], "duel", dora, duke, "viewer"),
        )
        outcomes.extend(both)
        assert [o[3] for o in both].count(True) == 1, [_text(o[4]) for o in both]
        assert len(await _admins(uow, "duel", DUELISTS)) == 1
        demoted = next(o[2] for o in both if o[3])
        await change_role(
            uow(),
            Actor.operator(),
            parse(ChangeRole, organization="duel", member=demoted, role="admin"),
        )
    return outcomes


@pytest.mark.parametrize("database_kind", ["postgresql"])
async def test_two_replicas_keep_an_admin_audit_each_change_once_and_post_it_once(
    database_url: str, uow: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await _organization(
        uow, "acme", dict.fromkeys(ADMINS, "admin") | dict.fromkeys(TECHNICIANS, "technician")
    )
    await _organization(uow, "duel", dict.fromkeys(DUELISTS, "admin"))
    # Each organization's last entry so far is its audit channel's: summaries start there.
    baseline = {org: (await audit_entries(uow, org))[-1].seq for org in CHANNELS}

    fake = FakeSlack(team_id=TEAM)
    await fake.start()
    fake.add_channel(CHANNEL, "general")
    for org, channel in CHANNELS.items():
        fake.add_channel(channel, f"{org}-audit")
    for email in ADMINS + DUELISTS:
        fake.add_user(slack_id(email), team_id=TEAM, email=email, name=email.split("@")[0])
    bots = [BotProcess(database_url, fake, tmp_path / f"bot-{n}.log") for n in "ab"]
    senders: list[SlackRequester] = []
    try:
        await asyncio.gather(*(bot.start() for bot in bots))
        senders = [
            SlackRequester(f"{bot.url}/slack/events", SIGNING_SECRET, source=fake, team_id=TEAM)
            for bot in bots
        ]

        # First contact: each Admin's first command reaches both replicas at the same moment,
        # so both link the Slack user to the account at once; both must answer normally.
        first = await asyncio.gather(
            *(
                via.command("help", user_id=slack_id(email), channel_id=CHANNEL)
                for email in ADMINS + DUELISTS
                for via in senders
            )
        )
        assert all(r.status == 200 and "went wrong" not in _text(r) for r in first)

        outcomes = await _storm(uow, fake, itertools.cycle(senders))
        outcomes += await _duel(uow, senders)

        assert all(o[4].status == 200 and "went wrong" not in _text(o[4]) for o in outcomes)
        assert await _admins(uow, "acme", ADMINS), "Acme lost its last Admin"
        assert len(await _admins(uow, "duel", DUELISTS)) == 2

        # Exactly one audit entry per change that was applied, none for a refused one (the
        # operator's re-promotions in the duel are changes too).
        applied = Counter((org, action, target) for org, action, target, ok, _ in outcomes if ok)
        applied.update(
            ("duel", "member.role_changed", o[2]) for o in outcomes if o[0] == "duel" and o[3]
        )
        entries = {
            org: [e for e in await audit_entries(uow, org) if e.seq > baseline[org]]
            for org in CHANNELS
        }
        recorded = Counter(
            (org, e.action, e.target) for org, org_entries in entries.items() for e in org_entries
        )
        assert recorded == applied
        # What the database says matches the replies: refused requests changed nothing.
        for email in ADMINS:
            role = await role_of(uow, "acme", email)
            if applied[("acme", "member.removed", email)]:
                assert role is None
            elif applied[("acme", "member.role_changed", email)]:
                assert role == "viewer"
            else:
                assert role == "admin"

        # Every summary reaches Slack exactly once, though both replicas dispatch.
        await _all_delivered(uow)
        for org, channel in CHANNELS.items():
            posted = [
                int(n)
                for c in fake.calls_to("chat.postMessage")
                if c.ok and c.args.get("channel") == channel
                for n in SEQ.findall(json.dumps(c.args.get("blocks")))
            ]
            expected = list(range(baseline[org], baseline[org] + len(entries[org]) + 1))
            assert sorted(posted) == expected, (org, Counter(posted) - Counter(expected))
    finally:
        for via in senders:
            await via.close()
        await asyncio.gather(*(bot.stop() for bot in bots))
        await fake.stop()
