"""`minesync-bot serve` refuses to start on a missing or malformed setting, naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.harness import ROOT


def serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--port", "0", *args],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def db_env(tmp_path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1", "PORT": "99999"}, "PORT"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(db_env, env, named):
    result = serve(db_env | env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert "not-a-token" not in result.stderr


def test_socket_mode_needs_an_app_token(db_env):
    result = serve(
        db_env | {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"}, "--socket-mode"
    )
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN" in result.stderr.strip().splitlines()[-1]


def test_serve_on_an_unmigrated_database_says_to_upgrade(db_env):
    result = serve(db_env | {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"})
    assert result.returncode == 2
    assert "minesync-bot db upgrade" in result.stderr
