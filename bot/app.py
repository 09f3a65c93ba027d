"""The composition root of the Slack edge: Settings + a unit-of-work factory -> an AsyncApp."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import listeners
from bot.services import Services
from bot.settings import Settings
from handlers.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 10


def slack_session() -> aiohttp.ClientSession:
    """The process's pooled HTTP session for Slack; slack_sdk takes its timeout from here."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS))


def build_client(
    settings: Settings, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """Every Web API call goes to SLACK_API_BASE_URL (Slack, GovSlack, or a test's fake)."""
    settings.require("slack_bot_token")
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=str(settings.slack_api_base_url),
        timeout=SLACK_TIMEOUT_SECONDS,
        # One pooled connection set for the process, instead of one per call.
        session=session,
        # Connection resets are retried once; rate limits are not slept on inside a request
        # (that would miss Slack's 3-second deadline) and the outbox retries on its own clock.
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)],
    )


def build_app(
    settings: Settings,
    uow: UnitOfWorkFactory,
    *,
    client: AsyncWebClient,
    services: Services | None = None,
) -> AsyncApp:
    settings.require("slack_signing_secret")
    assert settings.slack_signing_secret is not None
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # Answer in the HTTP response itself when the work is done in time (bot.deadline).
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    services = services or Services(settings=settings, uow=uow)
    listeners.register(app, services)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Listeners turn every failure into a reply; reaching here is a bug in the edge itself.
        log.exception(
            "unhandled error in a Slack listener (type=%s)", body.get("type"), exc_info=error
        )

    return app
