"""Seed a benchmark database through the product's own paths, and time it.

One large organization (the one measured) and a few smaller ones, each filled by the bulk
import use case (`minesync-bot member import` underneath) from generated CSV text, each with an
audit channel and bound to the benchmark's Slack workspace. Spare accounts without any
membership are created for the invites the benchmark sends.
"""

from __future__ import annotations

import io
import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from handlers.actor import Actor
from handlers.importing import import_members, read_csv
from handlers.organizations import (
    BindWorkspace,
    ConfigureOrganization,
    CreateOrganization,
    bind_workspace,
    configure_organization,
    create_organization,
)
from handlers.validation import parse
from storage.models import utcnow
from storage.uow import UnitOfWorkFactory

TEAM_ID = "T0BENCH"
COMMAND_CHANNEL = "C0BENCHCMD"
BIG_SLUG = "big"
BIG_NAME = "Big Iron Mining"
# The smaller organizations sharing the database (and the Slack workspace) with the big one.
SMALL_SIZES = (2_000, 500, 100, 20)
ACTING_ADMINS = 4
SPARE_BATCH = 2_000


@dataclass(frozen=True)
class SlackAdmin:
    slack_id: str
    email: str
    name: str


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    name: str
    role: str


@dataclass
class Seeded:
    """What the benchmark needs to know about the data it seeded."""

    size: int
    admins: list[SlackAdmin]
    role_pool: list[str]  # technicians of the big organization, toggled to Planner and back
    removal_pool: list[Member]  # Viewers of the big organization, in random order
    spare_accounts: list[str]  # accounts without memberships, for invites
    sql_role_member: str  # a Technician in no pool, for counting a role change's statements
    deep_after: str  # a keyset cursor 90% of the way down the members list
    audit_channels: dict[str, str]  # slug -> channel id
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def big_email(i: int) -> str:
    return f"m{i:06d}@big.example.com"


def big_role(i: int) -> str:
    """Roles of the generated members: 10% Planners, 40% Technicians, ~50% Viewers, a few
    Admins (every 997th) besides the acting ones."""
    if i % 997 == 996:
        return "admin"
    digit = i % 10
    if digit == 0:
        return "planner"
    return "technician" if digit <= 4 else "viewer"


def admin(k: int) -> SlackAdmin:
    return SlackAdmin(f"U0ADMIN{k:02d}", f"admin{k:02d}@big.example.com", f"Acting Admin {k}")


def big_csv(size: int) -> Iterator[str]:
    yield "email,name,role\n"
    for k in range(1, ACTING_ADMINS + 1):
        a = admin(k)
        yield f"{a.email},{a.name},admin\n"
    for i in range(size - ACTING_ADMINS):
        yield f"{big_email(i)},Member {i:06d},{big_role(i)}\n"


def small_csv(slug: str, size: int) -> Iterator[str]:
    yield "email,name,role\n"
    yield f"boss@{slug}.example.com,Boss of {slug},admin\n"
    for i in range(size - 1):
        yield f"p{i:05d}@{slug}.example.com,Person {i:05d},{big_role(i)}\n"


def _first_technician() -> int:
    return next(i for i in itertools.count() if big_role(i) == "technician")


def toggle_targets() -> dict[str, str]:
    """One Technician per organization, kept out of the request pools: the dispatcher
    measurement flips their roles back and forth to queue audit summaries."""
    i = _first_technician()
    targets = {BIG_SLUG: big_email(i)}
    for k in range(1, len(SMALL_SIZES) + 1):
        targets[f"ore{k}"] = f"p{i:05d}@ore{k}.example.com"
    return targets


async def _org(
    uow: UnitOfWorkFactory, slug: str, name: str, channel: str, lines: Iterator[str]
) -> float:
    operator = Actor.operator()
    await create_organization(uow(), parse(CreateOrganization, slug=slug, name=name))
    await configure_organization(
        uow(), operator, parse(ConfigureOrganization, organization=slug, audit_channel=channel)
    )
    await bind_workspace(uow(), parse(BindWorkspace, team_id=TEAM_ID, organization=slug))
    text = "".join(lines)
    started = time.perf_counter()
    await import_members(
        uow(), operator, slug, read_csv(io.StringIO(text, newline="")), source_name=f"{slug}.csv"
    )
    return time.perf_counter() - started


async def _spare_accounts(uow: UnitOfWorkFactory, count: int) -> list[str]:
    """Accounts with no membership anywhere (as `member import` makes them: no password)."""
    emails = [f"spare{i:06d}@pool.example.com" for i in range(count)]
    for start in range(0, count, SPARE_BATCH):
        async with uow() as u:
            await u.users.insert_many(
                [
                    {
                        "email": e,
                        "name": f"Spare {e[5:11]}",
                        "password_hash": None,
                        "created_at": utcnow(),
                    }
                    for e in emails[start : start + SPARE_BATCH]
                ]
            )
            await u.commit()
    return emails


async def seed(
    uow: UnitOfWorkFactory,
    size: int,
    *,
    spare: int,
    role_pool: int,
    removals: int,
    rng_seed: int = 7,
) -> Seeded:
    """Seed the big organization with `size` members (bulk import) and the smaller ones."""
    if size < 100:
        raise ValueError("the big organization needs at least 100 members")
    seconds: dict[str, float] = {}
    channels = {BIG_SLUG: "C0AUDITBIG"}
    seconds[f"import {BIG_SLUG} ({size:,} members)"] = await _org(
        uow, BIG_SLUG, BIG_NAME, channels[BIG_SLUG], big_csv(size)
    )
    for k, small in enumerate(SMALL_SIZES, start=1):
        slug = f"ore{k}"
        channels[slug] = f"C0AUDITORE{k}"
        seconds[f"import {slug} ({small:,} members)"] = await _org(
            uow, slug, f"Ore Works {k}", channels[slug], small_csv(slug, small)
        )
    started = time.perf_counter()
    spare_accounts = await _spare_accounts(uow, spare)
    seconds[f"{spare:,} spare accounts"] = time.perf_counter() - started

    generated = size - ACTING_ADMINS
    rng = random.Random(rng_seed)
    reserved = _first_technician()
    technicians = [i for i in range(generated) if big_role(i) == "technician" and i != reserved]
    viewers = [i for i in range(generated) if big_role(i) == "viewer"]
    if len(viewers) < removals:
        raise ValueError(
            f"{size:,} members leave {len(viewers):,} Viewers to remove, {removals:,} are needed: "
            "ask for fewer requests or more members"
        )
    # Up to `role_pool` Technicians take turns; small organizations have fewer.
    role_pool = min(role_pool, len(technicians) - 1)
    sampled = rng.sample(technicians, role_pool + 1)
    pool = [big_email(i) for i in sampled[:role_pool]]
    chosen = rng.sample(viewers, removals)
    async with uow() as u:
        found = await u.users.find_by_emails([big_email(i) for i in chosen])
    removal_pool = [
        Member(found[big_email(i)].id, big_email(i), found[big_email(i)].name, "viewer")
        for i in chosen
    ]
    return Seeded(
        size=size,
        admins=[admin(k) for k in range(1, ACTING_ADMINS + 1)],
        role_pool=pool,
        removal_pool=removal_pool,
        spare_accounts=spare_accounts,
        sql_role_member=big_email(sampled[-1]),
        deep_after=big_email(int(generated * 0.9)),
        audit_channels=channels,
        seconds=seconds,
    )
