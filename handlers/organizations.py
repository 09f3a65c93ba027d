"""Organization use cases: create one, configure it, bind it to a Slack workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import StringConstraints

from handlers import audit_log
from handlers.access import find_organization, locked_for_admin
from handlers.actor import Actor
from handlers.errors import AlreadyExists, InvalidInput, NoChange
from handlers.validation import Command, Name, Slug, UpperId
from storage.errors import ConflictError
from storage.models import Organization
from storage.uow import UnitOfWork

ChannelId = Annotated[str, UpperId, StringConstraints(pattern=r"^[CG][A-Z0-9]{2,30}$")]
TeamId = Annotated[str, UpperId, StringConstraints(pattern=r"^[TE][A-Z0-9]{2,30}$")]


class CreateOrganization(Command):
    slug: Slug
    name: Name


class ConfigureOrganization(Command):
    organization: Slug
    audit_channel: ChannelId | None = None
    removal_approvals: int | None = None


class BindWorkspace(Command):
    team_id: TeamId
    organization: Slug


@dataclass(frozen=True)
class OrganizationView:
    id: int
    slug: str
    name: str
    audit_channel_id: str | None
    removal_approvals: int
    member_count: int

    @classmethod
    def of(cls, org: Organization) -> OrganizationView:
        return cls(
            org.id,
            org.slug,
            org.name,
            org.audit_channel_id,
            org.removal_approvals,
            org.member_count,
        )


async def create_organization(uow: UnitOfWork, cmd: CreateOrganization) -> OrganizationView:
    """Operator only: organizations are provisioned outside Slack."""
    async with uow:
        if await uow.organizations.get_by_slug(cmd.slug) is not None:
            raise AlreadyExists(
                f"An organization with slug {cmd.slug!r} already exists.", field="slug"
            )
        org = Organization(
            slug=cmd.slug, name=cmd.name, removal_approvals=1, member_count=0, audit_seq=0
        )
        uow.organizations.add(org)
        try:
            await uow.commit()
        except ConflictError:
            raise AlreadyExists(
                f"An organization with slug {cmd.slug!r} already exists.", field="slug"
            ) from None
        return OrganizationView.of(org)


async def configure_organization(
    uow: UnitOfWork, actor: Actor, cmd: ConfigureOrganization
) -> OrganizationView:
    """Set the audit channel and/or the number of approvals a removal needs. Admin only, audited."""
    if cmd.removal_approvals is not None and cmd.removal_approvals not in (1, 2):
        raise InvalidInput({"removal_approvals": "Removal approvals must be 1 or 2."})
    async with uow:
        org = await locked_for_admin(uow, actor, cmd.organization)
        changes = 0
        if cmd.audit_channel is not None and cmd.audit_channel != org.audit_channel_id:
            before = {"audit_channel": org.audit_channel_id}
            org.audit_channel_id = cmd.audit_channel
            audit_log.record(
                uow,
                org,
                actor,
                "org.audit_channel_changed",
                target=org.slug,
                before=before,
                after={"audit_channel": cmd.audit_channel},
            )
            changes += 1
        if cmd.removal_approvals is not None and cmd.removal_approvals != org.removal_approvals:
            before = {"removal_approvals": org.removal_approvals}
            org.removal_approvals = cmd.removal_approvals
            audit_log.record(
                uow,
                org,
                actor,
                "org.removal_approvals_changed",
                target=org.slug,
                before=before,
                after={"removal_approvals": cmd.removal_approvals},
            )
            changes += 1
        if not changes:
            raise NoChange(f"{org.name} already has those settings.")
        await uow.commit()
        return OrganizationView.of(org)


async def bind_workspace(uow: UnitOfWork, cmd: BindWorkspace) -> bool:
    """Operator only: let a Slack workspace act on an organization. False if already bound."""
    async with uow:
        org = await find_organization(uow, cmd.organization)
        created = await uow.slack.bind(cmd.team_id, org.id)
        await uow.commit()
        return created


async def get_organization(uow: UnitOfWork, slug: str) -> OrganizationView:
    async with uow:
        return OrganizationView.of(await find_organization(uow, slug))
