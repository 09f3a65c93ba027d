"""Reading outcomes straight from the database, for assertions."""

from __future__ import annotations

from storage.models import AuditEntry
from storage.uow import UnitOfWorkFactory


async def role_of(uow: UnitOfWorkFactory, slug: str, email: str) -> str | None:
    """The member's role in the organization, or None when they are not a member."""
    async with uow() as u:
        org = await u.organizations.get_by_slug(slug)
        user = await u.users.get_by_email(email)
        assert org is not None and user is not None
        membership = await u.memberships.get(org.id, user.id)
        return membership.role if membership else None


async def audit_entries(uow: UnitOfWorkFactory, slug: str) -> list[AuditEntry]:
    async with uow() as u:
        org = await u.organizations.get_by_slug(slug)
        assert org is not None
        return [e async for e in u.audit.stream(org.id)]


async def audit_actions(uow: UnitOfWorkFactory, slug: str) -> list[str]:
    return [e.action for e in await audit_entries(uow, slug)]


async def account_exists(uow: UnitOfWorkFactory, email: str) -> bool:
    async with uow() as u:
        return await u.users.get_by_email(email) is not None
