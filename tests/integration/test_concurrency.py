"""The last-Admin rule under concurrent cross-removals and demotions, on both databases."""

from __future__ import annotations

import asyncio
import random

from handlers.errors import DomainError
from handlers.members import ChangeRole, RemoveMember, change_role, remove_member
from handlers.roles import Role
from handlers.validation import parse
from storage.uow import UnitOfWorkFactory
from tests import seed

ADMINS = 8


async def test_concurrent_cross_removals_and_demotions_never_leave_no_admin(uow: UnitOfWorkFactory):
    emails = [f"admin{i}@acme.example.com" for i in range(ADMINS)]
    actors = await seed.org_with_members(uow, "acme", "Acme Mining", dict.fromkeys(emails, "admin"))
    rng = random.Random(7)

    async def attempt(actor_email: str, target_email: str, demote: bool) -> bool:
        actor = actors[actor_email]
        try:
            if demote:
                await change_role(
                    uow(),
                    actor,
                    parse(ChangeRole, organization="acme", member=target_email, role="viewer"),
                )
            else:
                await remove_member(
                    uow(), actor, parse(RemoveMember, organization="acme", member=target_email)
                )
        except DomainError:
            return False
        return True

    # Every Admin tries to remove or demote every other Admin, all at once, in random order.
    pairs = [(a, t, rng.random() < 0.5) for a in emails for t in emails if a != t]
    rng.shuffle(pairs)
    outcomes = await asyncio.gather(*(attempt(a, t, d) for a, t, d in pairs))
    applied = sum(outcomes)

    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        admins = await u.memberships.count(org.id, Role.ADMIN)
        members = await u.memberships.count(org.id)
        entries = [e async for e in u.audit.stream(org.id)]
    assert admins >= 1
    assert applied >= ADMINS - 1  # everyone but one Admin lost the role one way or another
    assert org.member_count == members
    # Exactly one audit entry per applied change (plus the seeding invites), chain intact.
    changes = [e for e in entries if e.action in ("member.removed", "member.role_changed")]
    assert len(changes) == applied
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    from handlers.audit_queries import verify_audit

    assert (await verify_audit(uow(), "acme")).intact
