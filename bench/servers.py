"""The three servers under test, each a separate process started the same way.

- the bot: `python -m cli serve` (what `minesync-bot serve` runs), with the environment an
  operator gives it, pointed at the fake Slack;
- the yardsticks: `python -m bench.yardsticks bolt|raw`.

Optionally under cProfile (`--profile`), which writes a .prof file when the process exits.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """One server process on 127.0.0.1; `url` is its Request URL (…/slack/events)."""

    def __init__(
        self,
        name: str,
        module_args: list[str],
        env: dict[str, str],
        log_path: Path,
        *,
        health_path: str | None = None,
        profile_path: Path | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base_url}/slack/events"
        self.log_path = log_path
        self.profile_path = profile_path
        self._health_path = health_path
        runner = [sys.executable]
        if profile_path is not None:
            runner += ["-m", "cProfile", "-o", str(profile_path)]
        self._argv = [*runner, "-m", *module_args, "--host", "127.0.0.1", "--port", str(self.port)]
        base = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        self._env = base | {"PYTHONUNBUFFERED": "1"} | env
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at: float | None = None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.started_at = time.monotonic()
            self.proc = await asyncio.create_subprocess_exec(
                *self._argv, cwd=ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
                if await self._ready(session):
                    return
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start within {START_TIMEOUT_SECONDS:g}s")

    async def _ready(self, session: aiohttp.ClientSession) -> bool:
        try:
            if self._health_path is not None:
                async with session.get(self.base_url + self._health_path) as resp:
                    return resp.status == 200
            # The yardsticks have no health check: a GET on the POST-only route answers 405
            # as soon as the server accepts requests.
            async with session.get(self.url) as resp:
                return resp.status == 405
        except aiohttp.ClientError:
            return False

    def peak_rss_bytes(self) -> int | None:
        """VmHWM: the process's peak resident set size so far (Linux /proc)."""
        return _proc_status_kib(self.proc.pid, "VmHWM") if self.proc else None

    def rss_bytes(self) -> int | None:
        return _proc_status_kib(self.proc.pid, "VmRSS") if self.proc else None

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _proc_status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def bot(
    database_url: str,
    api_base_url: str,
    token: str,
    log_dir: Path,
    *,
    label: str = "bot",
    profile_dir: Path | None = None,
) -> ServerProcess:
    """The bot as an operator runs it: only its documented environment variables."""
    env = {
        "DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": token,
        "SLACK_API_BASE_URL": api_base_url,
    }
    return ServerProcess(
        label,
        ["cli", "serve"],
        env,
        log_dir / f"{label}.log",
        health_path="/healthz",
        profile_path=profile_dir / f"{label}.prof" if profile_dir else None,
    )


def yardstick(
    kind: str, api_base_url: str, token: str, log_dir: Path, *, profile_dir: Path | None = None
) -> ServerProcess:
    env = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": token,
        "SLACK_API_BASE_URL": api_base_url,
    }
    return ServerProcess(
        kind,
        ["bench.yardsticks", kind],
        env,
        log_dir / f"{kind}.log",
        profile_path=profile_dir / f"{kind}.prof" if profile_dir else None,
    )
