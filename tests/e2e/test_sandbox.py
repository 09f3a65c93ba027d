"""`minesync-bot sandbox` as a new user runs it, and the small API its page uses."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.runtime import Sandbox
from tests.e2e.harness import ROOT, free_port

ADA, PAT = "U0ADA", "U0PAT"
GENERAL, AUDIT = "C0GENERAL", "C0MINEAUDIT"


class SandboxCommand:
    """The command itself, in its own working directory (where it keeps its database)."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE"))}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "sandbox", "--port", str(self.port), *args],
            cwd=cwd,
            env={**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []

    def wait_ready(self, timeout: float = 30) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("Open "):
                return
        raise AssertionError(f"the sandbox did not start:\n{''.join(self.lines)}")

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C, as a person stops it; returns the exit code and the rest of its output."""
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        return self.proc.returncode, "".join(self.lines) + out


async def fetch(session: aiohttp.ClientSession, url: str, body: Any = None) -> Any:
    method = session.post(url, json=body) if body is not None else session.get(url)
    async with method as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def test_sandbox_command_serves_the_page_and_stops_cleanly_on_ctrl_c(tmp_path: Path):
    command = SandboxCommand(tmp_path)
    try:
        await asyncio.to_thread(command.wait_ready)
        async with aiohttp.ClientSession() as session:
            status, html = await fetch(session, command.url)
            assert status == 200 and "/static/app.js" in html
            for asset in ("app.js", "style.css"):
                status, _ = await fetch(session, f"{command.url}static/{asset}")
                assert status == 200
            status, state = await fetch(session, f"{command.url}api/state")
            assert status == 200 and state["organization"] == "Demo Mine"
            assert [p["role"] for p in state["people"]] == [
                "Admin", "Admin", "Planner", "Technician", "Viewer", None
            ]  # fmt: skip
    finally:
        code, output = await asyncio.to_thread(command.interrupt)
    assert code == 0, output
    assert f"Open {command.url} in a browser" in output
    assert output.rstrip().endswith("Sandbox stopped.")
    assert (tmp_path / "minesync-sandbox.db").is_file()


async def test_sandbox_starts_fresh_unless_told_to_keep(tmp_path: Path):
    async def change_pat_and_read_roles(command: SandboxCommand, change: bool) -> dict:
        await asyncio.to_thread(command.wait_ready)
        async with aiohttp.ClientSession() as session:
            if change:
                text = "/minesync role pat@demo-mine.example.com viewer"
                await fetch(
                    session,
                    f"{command.url}api/command",
                    {"as": ADA, "channel": GENERAL, "text": text},
                )
            _, state = await fetch(session, f"{command.url}api/state")
        return {p["handle"]: p["role"] for p in state["people"]}

    for args, change, expected, output in (
        ((), True, "Viewer", "a fresh database"),
        (("--keep",), False, "Viewer", "the kept database"),
        ((), False, "Planner", "a fresh database"),
    ):
        command = SandboxCommand(tmp_path, *args)
        try:
            roles = await change_pat_and_read_roles(command, change)
        finally:
            code, printed = await asyncio.to_thread(command.interrupt)
        assert code == 0 and output in printed
        assert roles["pat"] == expected


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, aiohttp.ClientSession]]:
    async with Sandbox(port=0, database_path=tmp_path / "sandbox.db") as running:
        async with aiohttp.ClientSession() as session:
            yield running, session


async def test_the_page_api_drives_the_real_bot(sandbox):
    running, session = sandbox
    status, reply = await fetch(
        session,
        f"{running.url}api/command",
        {"as": ADA, "channel": GENERAL, "text": "/minesync members"},
    )
    assert status == 200 and reply["shown"] == "message" and reply["problem"] is None
    _, state = await fetch(session, f"{running.url}api/state?as={ADA}")
    typed, members = state["conversations"][GENERAL]
    assert typed == {"ts": typed["ts"], "typed": True, "user": ADA, "text": "/minesync members"}
    assert members["ephemeral"] and members["text"].startswith("Members of Demo Mine")
    _, pats_view = await fetch(session, f"{running.url}api/state?as={PAT}")
    assert pats_view["conversations"][GENERAL] == []  # only Ada sees her replies

    row = next(b for b in members["blocks"] if "Bo Driller" in str(b.get("text")))
    option = next(o for o in row["accessory"]["options"] if o["value"].endswith("|viewer"))
    status, reply = await fetch(
        session,
        f"{running.url}api/click",
        {
            "as": ADA,
            "channel": GENERAL,
            "ts": members["ts"],
            "block_id": row["block_id"],
            "action_id": "member_role",
            "selected": option["value"],
        },
    )
    assert status == 200 and reply["shown"] == "sent"
    summary = await running.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and "bo@demo-mine" in str(c.args.get("text"))
    )
    assert summary[0].args["channel"] == AUDIT


async def test_the_page_api_refuses_what_a_person_could_not_do(sandbox):
    running, session = sandbox
    api = f"{running.url}api/"
    stale = {"block_id": "b", "action_id": "a"}
    cases = [
        ("command", {"as": "U0NOBODY", "channel": GENERAL, "text": "/minesync help"}, 400),
        ("command", {"as": ADA, "channel": "C0SECRET", "text": "/minesync help"}, 400),
        ("command", {"as": ADA, "channel": GENERAL, "text": "hello"}, 400),
        ("click", {"as": ADA, "channel": GENERAL, "ts": "1.2", **stale}, 409),
        ("submit", {"as": ADA, "view_id": "VNOPE", "values": {}}, 409),
        ("close", {"as": ADA, "view_id": "VNOPE"}, 409),
    ]  # fmt: skip
    for path, body, expected in cases:
        status, reply = await fetch(session, api + path, body)
        assert (status, reply["ok"]) == (expected, False), (path, body, reply)
    # Nothing reached the bot: it would have asked Slack who is acting.
    assert not running.fake.calls_to("users.info")
