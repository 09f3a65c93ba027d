"""`minesync-bot serve`: the Slack app over HTTP (aiohttp) or Socket Mode, plus the dispatcher."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.app import build_app, build_client, slack_session
from bot.dispatcher import OutboxDispatcher
from bot.services import Services
from bot.settings import Settings
from handlers.health import check_database
from handlers.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)


def build_web_app(app: AsyncApp, uow: UnitOfWorkFactory) -> web.Application:
    """POST /slack/events for commands and interactivity, GET /healthz for load balancers."""

    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        try:
            await check_database(uow())
        except Exception:
            log.warning("health check: database did not answer", exc_info=True)
            return web.json_response({"ok": False, "database": "unavailable"}, status=503)
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    return web_app


class RunningBot:
    """The Slack app, its outbox dispatcher and (once listening) its HTTP server."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        services: Services,
        app: AsyncApp,
        dispatcher: OutboxDispatcher,
    ) -> None:
        self.app = app
        self._session = session
        self._services = services
        self._dispatcher = dispatcher
        self._runner: web.AppRunner | None = None
        self.host: str | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """Where Slack must send requests (the app's Request URL)."""
        return f"http://{self.host}:{self.port}/slack/events"

    async def listen(self, host: str, port: int) -> None:
        """Serve /slack/events and /healthz; port 0 picks a free port (see `port`)."""
        runner = web.AppRunner(build_web_app(self.app, self._services.uow), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.host, self.port = host, int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop taking requests, then let the dispatcher and overrunning replies finish."""
        try:
            if self._runner is not None:
                runner, self._runner = self._runner, None
                await runner.cleanup()
        finally:
            try:
                await self._dispatcher.stop()
                await self._services.background.drain()
            finally:
                await self._session.close()


async def assemble_bot(settings: Settings, uow: UnitOfWorkFactory) -> RunningBot:
    """Build the Slack app from Settings and start its outbox dispatcher (not yet listening)."""
    session = slack_session()
    try:
        client = build_client(settings, session)
        services = Services(settings=settings, uow=uow)
        app = build_app(settings, uow, client=client, services=services)
        dispatcher = OutboxDispatcher(uow, client, poll_seconds=settings.outbox_poll_seconds)
    except BaseException:
        await session.close()
        raise
    dispatcher.start()
    return RunningBot(session, services, app, dispatcher)


async def start_bot(
    settings: Settings, uow: UnitOfWorkFactory, *, host: str, port: int
) -> RunningBot:
    """The bot as `serve` runs it over HTTP: app, dispatcher and listener; `await bot.stop()`."""
    bot = await assemble_bot(settings, uow)
    try:
        await bot.listen(host, port)
    except BaseException:
        await bot.stop()
        raise
    return bot


async def serve(args: argparse.Namespace, uow: UnitOfWorkFactory, database: object) -> int:
    settings: Settings = args.settings
    logging.getLogger().setLevel(settings.log_level)
    port = args.port or settings.port
    host = args.host or settings.host
    await check_database(uow())

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.socket_mode:
        bot = await assemble_bot(settings, uow)
        try:
            await _socket_mode(bot.app, settings, stop)
        finally:
            await bot.stop()
        return 0
    bot = await start_bot(settings, uow, host=host, port=port)
    try:
        print(f"MineSync Admin Bot listening on http://{host}:{port}/slack/events", flush=True)
        await stop.wait()
    finally:
        await bot.stop()
    return 0


async def _socket_mode(app: AsyncApp, settings: Settings, stop: asyncio.Event) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    settings.require("slack_app_token")
    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()
    print("MineSync Admin Bot connected over Socket Mode", flush=True)
    with contextlib.suppress(asyncio.CancelledError):
        await stop.wait()
    await handler.close_async()
