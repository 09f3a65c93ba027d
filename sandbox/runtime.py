"""Start everything the sandbox needs, in one process: a fresh SQLite database with Demo Mine,
a FakeSlack playing the workspace, the real bot server (configured only through Settings, as
`serve` is), and the page in front of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from pathlib import Path
from types import TracebackType

from aiohttp import web
from pydantic import SecretStr

from bot.server import RunningBot, start_bot
from bot.settings import Settings
from sandbox import demo
from sandbox.server import build_page_app
from slackfake import FakeSlack, SlackRequester, SlackUI
from storage.database import Database
from storage.migrate import upgrade
from storage.uow import unit_of_work_factory

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
DEFAULT_DATABASE = Path("minesync-sandbox.db")
LOCALHOST = "127.0.0.1"
# Summaries reach the audit pane within a quarter second; `serve` defaults to one second.
OUTBOX_POLL_SECONDS = 0.25


class Sandbox:
    """`async with Sandbox(port=0) as sandbox:` serves the page at `sandbox.url`."""

    def __init__(
        self,
        *,
        port: int = DEFAULT_PORT,
        database_path: Path = DEFAULT_DATABASE,
        keep: bool = False,
        host: str = LOCALHOST,
    ) -> None:
        self.requested_port = port
        self.database_path = database_path
        self.keep = keep
        self.host = host
        self.seeded = False
        self.port: int | None = None
        self._database: Database | None = None
        self._fake: FakeSlack | None = None
        self._bot: RunningBot | None = None
        self._requester: SlackRequester | None = None
        self._page: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def fake(self) -> FakeSlack:
        assert self._fake is not None, "the sandbox is not started"
        return self._fake

    async def start(self) -> Sandbox:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _start(self) -> None:
        if not self.keep:
            _remove_database(self.database_path)
        database = self._database = Database(f"sqlite+aiosqlite:///{self.database_path}")
        await upgrade(database)
        uow = unit_of_work_factory(database)
        self.seeded = await demo.seed(uow)

        fake = self._fake = FakeSlack(
            token=f"xoxb-sandbox-{secrets.token_hex(12)}",
            team_id=demo.TEAM_ID,
            team_name=demo.TEAM_NAME,
            team_domain=demo.TEAM_DOMAIN,
        )
        await fake.start()
        for channel_id, name in (demo.GENERAL_CHANNEL, demo.AUDIT_CHANNEL):
            fake.add_channel(channel_id, name)
        for person in demo.PEOPLE:
            fake.add_user(
                person.slack_id,
                email=person.email,
                name=person.handle,
                real_name=person.name,
            )

        signing_secret = secrets.token_hex(16)
        settings = Settings(
            database_url=database.url,
            slack_signing_secret=SecretStr(signing_secret),
            slack_bot_token=SecretStr(fake.token),
            slack_api_base_url=fake.api_base_url,
            outbox_poll_seconds=OUTBOX_POLL_SECONDS,
        )
        self._bot = await start_bot(settings, uow, host=LOCALHOST, port=0)
        self._requester = SlackRequester(
            self._bot.url,
            signing_secret,
            source=fake,
            team_id=demo.TEAM_ID,
            team_domain=demo.TEAM_DOMAIN,
        )
        ui = SlackUI(fake, self._requester)

        page = build_page_app(fake, ui, uow, bot_url=self._bot.url)
        runner = web.AppRunner(page, access_log=None, shutdown_timeout=1)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.requested_port).start()
        except OSError as exc:
            await runner.cleanup()
            raise SandboxError(
                f"cannot listen on {self.host}:{self.requested_port} ({exc.strerror}); "
                "pick another with --port"
            ) from None
        self._page = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop the page, then the bot (it finishes what it started), then Slack and the DB."""
        if self._page is not None:
            page, self._page = self._page, None
            await page.cleanup()
        if self._requester is not None:
            await self._requester.close()
            self._requester = None
        if self._bot is not None:
            bot, self._bot = self._bot, None
            await bot.stop()
        if self._fake is not None:
            await self._fake.stop()
        if self._database is not None:
            database, self._database = self._database, None
            await database.dispose()

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class SandboxError(Exception):
    """The sandbox cannot start; the message says why in one line."""


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


async def run(*, port: int, keep: bool) -> int:
    """`minesync-bot sandbox`: start, print the address, stop cleanly on Ctrl-C."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not available on Windows
            loop.add_signal_handler(sig, stop.set)
    sandbox = await Sandbox(port=port, keep=keep).start()
    try:
        state = "a fresh" if sandbox.seeded else "the kept"
        print(
            f"MineSync sandbox: {demo.ORG_NAME} on {state} database {sandbox.database_path}, "
            "the real bot behind a stand-in Slack.",
            flush=True,
        )
        print(f"Open {sandbox.url} in a browser. Ctrl-C stops it.", flush=True)
        await stop.wait()
    finally:
        await sandbox.stop()
    print("Sandbox stopped.", flush=True)
    return 0
