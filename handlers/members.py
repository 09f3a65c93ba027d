"""Membership use cases: invite, create user, change role, remove.

Each one: validate, lock the organization, authorize the actor, apply the rules, then write the
change, its audit entry and its outbox summary in one transaction, and commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers import audit_log
from handlers.access import find_member, locked_for_admin, member_state
from handlers.actor import Actor
from handlers.errors import AccountNotFound, AlreadyExists, LastAdmin, NoChange, SelfChange
from handlers.passwords import hash_password
from handlers.roles import Role
from handlers.validation import Command, Email, Name, Password, RoleName, Slug
from storage.errors import ConflictError
from storage.models import AuditEntry, Membership, Organization, User
from storage.uow import UnitOfWork


class InviteMember(Command):
    organization: Slug
    email: Email
    role: RoleName


class CreateUser(Command):
    organization: Slug
    name: Name
    email: Email
    password: Password
    role: RoleName


class ChangeRole(Command):
    organization: Slug
    member: Email | int
    role: RoleName


class RemoveMember(Command):
    organization: Slug
    member: Email | int


@dataclass(frozen=True)
class MemberChange:
    """What a use case did, for the edge to report."""

    organization: str
    organization_slug: str
    user_id: int
    email: str
    name: str
    role_before: Role | None
    role_after: Role | None
    audit_seq: int


def member_change(
    org: Organization, user: User, before: str | None, after: str | None, seq: int
) -> MemberChange:
    """What a membership change did: roles before and after (None: not a member)."""
    return MemberChange(
        organization=org.name,
        organization_slug=org.slug,
        user_id=user.id,
        email=user.email,
        name=user.name,
        role_before=Role(before) if before else None,
        role_after=Role(after) if after else None,
        audit_seq=seq,
    )


def _add_member(
    uow: UnitOfWork, org: Organization, actor: Actor, user: User, role: Role, action: str
) -> AuditEntry:
    """The membership and its audit entry, in the caller's locked transaction."""
    uow.memberships.add(
        org, Membership(org_id=org.id, user_id=user.id, role=role, email=user.email)
    )
    return audit_log.record(
        uow,
        org,
        actor,
        action,
        target=user.email,
        target_user_id=user.id,
        before=None,
        after=member_state(user, role),
    )


async def invite_member(uow: UnitOfWork, actor: Actor, cmd: InviteMember) -> MemberChange:
    """Add an existing account to the organization with a role."""
    async with uow:
        org = await locked_for_admin(uow, actor, cmd.organization)
        user = await uow.users.get_by_email(cmd.email)
        if user is None:
            raise AccountNotFound(
                f"No MineSync account uses {cmd.email}. Create the user instead.",
                field="email",
            )
        existing = await uow.memberships.get(org.id, user.id)
        if existing is not None:
            raise AlreadyExists(
                f"{user.email} is already a member of {org.name} ({Role(existing.role).label}).",
                field="email",
            )
        entry = _add_member(uow, org, actor, user, cmd.role, "member.invited")
        await uow.commit()
        return member_change(org, user, None, cmd.role, entry.seq)


async def create_user(uow: UnitOfWork, actor: Actor, cmd: CreateUser) -> MemberChange:
    """Create an account and its membership together: both exist afterwards, or neither."""
    # Hash before taking the lock: Argon2 is deliberately slow and must not hold others up.
    password_hash = await hash_password(cmd.password)
    async with uow:
        org = await locked_for_admin(uow, actor, cmd.organization)
        taken = AlreadyExists(
            f"An account already uses {cmd.email}. Invite it instead.", field="email"
        )
        if await uow.users.get_by_email(cmd.email) is not None:
            raise taken
        user = User(email=cmd.email, name=cmd.name, password_hash=password_hash)
        uow.users.add(user)
        try:
            await uow.flush()  # the account's id, for its membership
            entry = _add_member(uow, org, actor, user, cmd.role, "user.created")
            await uow.commit()
        except ConflictError:
            # Someone created the same email in another organization at the same moment.
            raise taken from None
        return member_change(org, user, None, cmd.role, entry.seq)


async def change_role(uow: UnitOfWork, actor: Actor, cmd: ChangeRole) -> MemberChange:
    async with uow:
        org = await locked_for_admin(uow, actor, cmd.organization)
        user, membership = await find_member(uow, org, cmd.member)
        if actor.user_id == user.id:
            raise SelfChange(
                f"You cannot change your own role in {org.name}. Ask another Admin.",
                field="member",
            )
        before = membership.role
        if before == cmd.role:
            raise NoChange(
                f"{user.email} is already {_article(cmd.role)} in {org.name}.", field="role"
            )
        if before == Role.ADMIN and not await uow.memberships.has_other_with_role(
            org.id, Role.ADMIN, user.id
        ):
            raise LastAdmin(
                f"You cannot demote the last Admin of {org.name}. Make someone else an Admin "
                "first.",
                field="role",
            )
        uow.memberships.set_role(membership, cmd.role)
        entry = audit_log.record(
            uow,
            org,
            actor,
            "member.role_changed",
            target=user.email,
            target_user_id=user.id,
            before=member_state(user, before),
            after=member_state(user, cmd.role),
        )
        await uow.commit()
        return member_change(org, user, before, cmd.role, entry.seq)


async def remove_member(uow: UnitOfWork, actor: Actor, cmd: RemoveMember) -> MemberChange:
    """Delete the membership only; the account stays and can be invited again."""
    async with uow:
        org = await locked_for_admin(uow, actor, cmd.organization)
        entry_seq, user, before = await apply_removal(uow, org, actor, cmd.member)
        await uow.commit()
        return member_change(org, user, before, None, entry_seq)


async def apply_removal(
    uow: UnitOfWork, org: Organization, actor: Actor, member: str | int
) -> tuple[int, User, str]:
    """The removal rules and write, inside a transaction that holds `org`'s lock."""
    user, membership = await find_member(uow, org, member)
    await check_removal_allowed(uow, org, actor, user, membership)
    before = membership.role
    await uow.memberships.delete(org, membership)
    entry = audit_log.record(
        uow,
        org,
        actor,
        "member.removed",
        target=user.email,
        target_user_id=user.id,
        before=member_state(user, before),
        after=None,
    )
    return entry.seq, user, before


async def check_removal_allowed(
    uow: UnitOfWork, org: Organization, actor: Actor, user: User, membership: Membership
) -> None:
    """The rules of every removal: not yourself, and never the last Admin."""
    if actor.user_id == user.id:
        raise SelfChange(
            f"You cannot remove yourself from {org.name}. Ask another Admin.", field="member"
        )
    await check_removable(uow, org, user, membership)


async def check_removable(
    uow: UnitOfWork, org: Organization, user: User, membership: Membership
) -> None:
    if membership.role == Role.ADMIN and not await uow.memberships.has_other_with_role(
        org.id, Role.ADMIN, user.id
    ):
        raise LastAdmin(f"You cannot remove the last Admin of {org.name}.", field="member")


def _article(role: str) -> str:
    label = Role(role).label
    return f"an {label}" if label[0] in "AEIOU" else f"a {label}"
