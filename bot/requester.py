"""Resolve who is asking from a Slack request, through the identity use cases."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.parsing import MemberRef
from bot.services import Services
from handlers import identity
from handlers.errors import DomainError, MemberNotFound
from handlers.identity import RequestContext

log = logging.getLogger(__name__)


class SlackUnavailable(DomainError):
    code = "slack_unavailable"


async def profile_email(client: AsyncWebClient, user_id: str) -> str | None:
    """The verified email on a Slack profile (users.info; needs users:read.email)."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        if error in ("user_not_found", "users_not_found"):
            return None
        log.warning("users.info failed: %s", error)
        raise SlackUnavailable(
            f"Slack did not answer my question about who you are ({error}). "
            "Nothing was changed; please try again in a moment."
        ) from None
    profile = (response.get("user") or {}).get("profile") or {}
    return profile.get("email")


async def resolve(
    services: Services,
    client: AsyncWebClient,
    team_id: str,
    user_id: str,
    *,
    org: str | None = None,
    need_org: bool = True,
) -> RequestContext:
    async def lookup() -> str | None:
        return await profile_email(client, user_id)

    return await identity.resolve_request(
        services.uow(),
        team_id,
        user_id,
        email_lookup=lookup,
        requested_org=org,
        need_org=need_org,
    )


async def member_key(
    services: Services, client: AsyncWebClient, team_id: str, ref: MemberRef
) -> str | int:
    """An email, or the account id behind an @mention (stored link first, then profile email)."""
    if ref.email is not None:
        return ref.email
    assert ref.slack_user_id is not None
    linked = await identity.find_linked_account(services.uow(), team_id, ref.slack_user_id)
    if linked is not None:
        return linked.user_id
    email = await profile_email(client, ref.slack_user_id)
    if email is None:
        raise MemberNotFound(
            f"I can't find a MineSync account for <@{ref.slack_user_id}>: their Slack profile "
            "shows no email I can match. Use their email address instead.",
            field="member",
        )
    return email
