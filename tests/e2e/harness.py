"""End-to-end harness: the real bot server process, a fake Slack over HTTP, signed requests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from slackfake import FakeSlack, SlackRequester, payloads
from slackfake.client import BotReply

ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"
TEAM = "T0MINESYNC"
CHANNEL = "C0GENERAL"
AUDIT_CHANNEL = "C0AUDIT"
# How long a test waits for the bot to reach the fake Slack before failing.
WAIT_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """`minesync-bot serve` as a child process, as an operator would run it."""

    def __init__(
        self,
        database_url: str,
        fake: FakeSlack,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env.update(
            DATABASE_URL=database_url,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_BOT_TOKEN=fake.token,
            SLACK_API_BASE_URL=fake.api_base_url,
            OUTBOX_POLL_SECONDS="0.1",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env or {})
        self._env = env
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"bot exited early:\n{self.log()}")
                try:
                    async with session.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"bot did not become healthy:\n{self.log()}")

    async def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                await asyncio.to_thread(self.proc.wait, 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class SlackUser:
    slack_id: str
    email: str
    name: str


@dataclass
class Workspace:
    """What a test drives: the fake Slack, the bot, and people who type commands."""

    fake: FakeSlack
    bot: BotProcess
    sender: SlackRequester
    users: dict[str, SlackUser] = field(default_factory=dict)

    def person(self, key: str, email: str, name: str, slack_id: str | None = None) -> SlackUser:
        slack_id = slack_id or f"U{len(self.users) + 1:03d}{key.upper()[:6]}"
        user = SlackUser(slack_id, email, name)
        self.fake.add_user(slack_id, team_id=TEAM, email=email, name=name)
        self.users[key] = user
        return user

    async def command(self, who: str, text: str, **kwargs: Any) -> BotReply:
        user = self.users[who]
        return await self.sender.command(text, user_id=user.slack_id, channel_id=CHANNEL, **kwargs)

    async def action(self, who: str, action: dict[str, Any], **kwargs: Any) -> BotReply:
        user = self.users[who]
        payload = payloads.block_actions_payload(
            team_id=TEAM,
            user_id=user.slack_id,
            actions=[action],
            trigger_id=self.fake.new_trigger_id(),
            channel_id=CHANNEL,
            message_ts="1700000000.000100",
            response_url=self.fake.response_url(channel_id=CHANNEL, user_id=user.slack_id),
            is_ephemeral=True,
            **kwargs,
        )
        return await self.sender.block_actions(payload)

    async def submit(self, who: str, view: dict[str, Any], values: dict[str, Any]) -> BotReply:
        """Submit a modal the bot opened, with `values` as {block_id: element state}."""
        user = self.users[who]
        state = {block_id: {"value": value} for block_id, value in values.items()}
        payload = payloads.view_submission_payload(
            team_id=TEAM,
            user_id=user.slack_id,
            view=view,
            state_values=state,
            trigger_id=self.fake.new_trigger_id(),
        )
        return await self.sender.view_submission(payload)

    async def wait_for(self, what: Any, *, count: int = 1, seconds: float = WAIT_SECONDS) -> list:
        """The fake's wait_for with a patient default: CI machines are small and shared."""
        return await self.fake.wait_for(what, count=count, timeout=seconds)

    async def opened_view(self, callback_id: str) -> dict[str, Any]:
        calls = await self.wait_for(
            lambda c: (
                c.method == "views.open"
                and c.args.get("view", {}).get("callback_id") == callback_id
                and c.ok
            )
        )
        view_id = calls[-1].response["view"]["id"]
        return self.fake.views[view_id]

    async def responses(self, count: int = 1) -> list[dict[str, Any]]:
        calls = await self.wait_for("response_url", count=count)
        return [c.args for c in calls]


def reply_text(reply: BotReply | dict[str, Any]) -> str:
    """All human-readable text of a reply: its text and every text inside its blocks."""
    body = reply.body if isinstance(reply, BotReply) else reply
    if not isinstance(body, dict):
        return str(body)
    parts: list[str] = [str(body.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body.get("blocks", []))
    walk(body.get("view", {}))
    return "\n".join(parts)
