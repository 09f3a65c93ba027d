"""Finding the organization, locking it, and checking that the actor is one of its Admins.

Every mutating use case starts here, in this order: lock first, then authorize, so the check
sees the roles as they are at the moment the change is made.
"""

from __future__ import annotations

from handlers.actor import Actor
from handlers.errors import (
    AccountNotFound,
    MemberNotFound,
    OrganizationNotFound,
    PermissionDenied,
)
from handlers.roles import Role
from storage.models import Membership, Organization, User
from storage.uow import UnitOfWork


async def find_organization(uow: UnitOfWork, slug: str) -> Organization:
    org = await uow.organizations.get_by_slug(slug.strip().lower())
    if org is None:
        raise _no_such_organization(slug)
    return org


async def lock_organization(uow: UnitOfWork, slug: str) -> Organization:
    """Find the organization and take its lock, in one statement."""
    org = await uow.organizations.lock_by_slug(slug.strip().lower())
    if org is None:
        raise _no_such_organization(slug)
    return org


def _no_such_organization(slug: str) -> OrganizationNotFound:
    return OrganizationNotFound(f"There is no organization {slug!r}.", field="organization")


async def authorize_admin(uow: UnitOfWork, actor: Actor, org: Organization) -> None:
    """Only an Admin of this very organization may act; the operator CLI is trusted."""
    if actor.trusted:
        return
    membership = None
    if actor.user_id is not None:
        membership = await uow.memberships.get(org.id, actor.user_id)
    if membership is None:
        raise PermissionDenied(f"You are not a member of {org.name}, so you cannot manage it.")
    if membership.role != Role.ADMIN:
        raise PermissionDenied(
            f"Sorry, only Admins of {org.name} can do that. "
            f"Your role there is {Role(membership.role).label}."
        )


async def locked_for_admin(uow: UnitOfWork, actor: Actor, slug: str) -> Organization:
    org = await lock_organization(uow, slug)
    await authorize_admin(uow, actor, org)
    return org


async def find_account(uow: UnitOfWork, member: str | int) -> User:
    """An account by email (any case) or by id."""
    user = (
        await uow.users.get(member)
        if isinstance(member, int)
        else await uow.users.get_by_email(member)
    )
    if user is None:
        what = f"user #{member}" if isinstance(member, int) else member
        raise AccountNotFound(f"No MineSync account uses {what}.", field="email")
    return user


async def find_member(
    uow: UnitOfWork, org: Organization, member: str | int
) -> tuple[User, Membership]:
    try:
        user = await find_account(uow, member)
    except AccountNotFound:
        what = f"user #{member}" if isinstance(member, int) else member
        raise MemberNotFound(f"{what} is not a member of {org.name}.", field="member") from None
    membership = await uow.memberships.get(org.id, user.id)
    if membership is None:
        raise MemberNotFound(f"{user.email} is not a member of {org.name}.", field="member")
    return user, membership


def member_state(user: User, role: str) -> dict[str, str]:
    """What the audit log records of a membership, before or after a change."""
    return {"email": user.email, "name": user.name, "role": role}
