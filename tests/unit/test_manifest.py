"""manifest.yml declares what the bot serves and exactly the scopes it uses.

(Validation against Slack's published schema runs in .ci/run, from ../shared.)
"""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def load() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_slash_command_points_at_the_events_endpoint():
    commands = load()["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/minesync"]
    assert commands[0]["url"].endswith("/slack/events")
    assert commands[0]["should_escape"] is True  # the parser expects Slack's escaped forms
    assert "invite" in commands[0]["usage_hint"]


def test_interactivity_uses_the_same_endpoint():
    interactivity = load()["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith("/slack/events")


def test_bot_scopes_are_exactly_the_ones_used():
    assert sorted(load()["oauth_config"]["scopes"]["bot"]) == [
        "chat:write",
        "commands",
        "users:read",
        "users:read.email",
    ]
