"""Browser tests: the sandbox page in real Chromium (Debian's), driven by Playwright.

Each test gets a fresh sandbox (its own SQLite database, FakeSlack and bot server) running in
a background thread, and a new browser page. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from sandbox.chromium import CHROMIUM, CHROMIUM_FLAGS
from sandbox.runtime import Sandbox

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
REQUIRE_ENV = "MINESYNC_REQUIRE_BROWSER"
VIEWPORT = {"width": 1440, "height": 900}


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason}, and {REQUIRE_ENV} is set", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def playwright_api() -> Any:
    """playwright.sync_api, or a skip (a failure under MINESYNC_REQUIRE_BROWSER) naming why."""
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("browser tests need Playwright for Python (pip install -e '.[test]')")
    return sync_api


# Module scope, not session: sync Playwright keeps an event loop running in this thread while it
# is open, and pytest-asyncio cannot run the async tests of later modules beside it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = playwright_api().sync_playwright
    if not CHROMIUM.is_file():
        _unavailable(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class SandboxThread:
    """A sandbox on its own event loop in a background thread, so the synchronous Playwright
    API can drive the page from the test while the bot answers."""

    def __init__(self, database_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sandbox = Sandbox(port=0, database_path=database_path)

    def start(self) -> SandboxThread:
        self._thread.start()
        self.run(self.sandbox.start())
        return self

    def stop(self) -> None:
        try:
            self.run(self.sandbox.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    @property
    def url(self) -> str:
        return self.sandbox.url


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxThread]:
    running = SandboxThread(tmp_path / "sandbox.db").start()
    try:
        yield running
    finally:
        running.stop()


class Shots:
    """Numbered screenshots of a test's steps, e.g. test-artifacts/browser/main-03-modal.png."""

    def __init__(self, page: Any, prefix: str) -> None:
        self.page = page
        self.prefix = prefix
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{prefix}-*.png"):
            old.unlink()

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.prefix}-{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def page(browser: Any, sandbox: SandboxThread, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(10_000)
    page.goto(sandbox.url)
    page.wait_for_selector("body[data-version]", state="attached")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shots(page: Any, request: pytest.FixtureRequest) -> Shots:
    words = request.node.name.removeprefix("test_").split("_")
    return Shots(page, "-".join(words[:3]))
