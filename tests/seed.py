"""Seeding through the real use cases (as the operator would), so tests start from real states."""

from __future__ import annotations

from pydantic import SecretStr

from handlers.accounts import CreateAccount, create_account
from handlers.actor import Actor
from handlers.members import InviteMember, invite_member
from handlers.organizations import CreateOrganization, create_organization
from handlers.validation import parse
from storage.uow import UnitOfWorkFactory

PASSWORD = SecretStr("correct horse battery")


async def org_with_members(
    uow: UnitOfWorkFactory, slug: str, name: str, members: dict[str, str]
) -> dict[str, Actor]:
    """Create an organization and its members; returns an Actor per email, acting via Slack."""
    await create_organization(uow(), parse(CreateOrganization, slug=slug, name=name))
    actors = {}
    for email, role in members.items():
        actors[email] = await member(uow, slug, email, role)
    return actors


async def account(uow: UnitOfWorkFactory, email: str, name: str | None = None) -> int:
    view = await create_account(
        uow(),
        parse(
            CreateAccount, email=email, name=name or email.split("@")[0].title(), password=PASSWORD
        ),
    )
    return view.id


async def member(uow: UnitOfWorkFactory, slug: str, email: str, role: str) -> Actor:
    async with uow() as u:
        existing = await u.users.get_by_email(email)
    user_id = existing.id if existing else await account(uow, email)
    await invite_member(
        uow(), Actor.operator(), parse(InviteMember, organization=slug, email=email, role=role)
    )
    return Actor.member(user_id, email, source="slack", context={"team_id": "T1"})
