"""Opening the forms that a command and a button both lead to (invite, create, remove).

The Admin check runs before a form opens, so a non-Admin is told at once instead of after
filling it in; the submission checks everything again.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.modals import build_create_user_modal, build_invite_modal, build_remove_modal
from bot.services import Services
from handlers.actor import Actor
from handlers.listing import CheckAdmin, GetMember, check_admin, get_member
from handlers.validation import parse as build


async def open_invite_form(
    services: Services, client: AsyncWebClient, trigger_id: str | None, actor: Actor, slug: str
) -> None:
    name = await check_admin(services.uow(), actor, build(CheckAdmin, organization=slug))
    await client.views_open(trigger_id=trigger_id, view=build_invite_modal(slug, name))


async def open_create_form(
    services: Services, client: AsyncWebClient, trigger_id: str | None, actor: Actor, slug: str
) -> None:
    name = await check_admin(services.uow(), actor, build(CheckAdmin, organization=slug))
    await client.views_open(trigger_id=trigger_id, view=build_create_user_modal(slug, name))


async def open_remove_form(
    services: Services,
    client: AsyncWebClient,
    trigger_id: str | None,
    actor: Actor,
    slug: str,
    member: str | int,
) -> None:
    """The confirmation modal: who, their role, and what removal means."""
    detail = await get_member(
        services.uow(), actor, build(GetMember, organization=slug, member=member), to_remove=True
    )
    m = detail.member
    view = build_remove_modal(
        detail.organization_slug,
        detail.organization,
        m.user_id,
        m.name,
        m.email,
        m.role,
        detail.removal_approvals,
    )
    await client.views_open(trigger_id=trigger_id, view=view)
