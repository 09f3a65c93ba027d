"""Settings: sensible defaults, and one line naming the bad setting without echoing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

BAD_BOT_TOKEN = "xoxp-1234-5678-TOPSECRETVALUE"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting leaks in from the developer's shell or a .env in the repository."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_run_on_sqlite_against_the_public_slack_api():
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///minesync.db"
    assert settings.port == 3000
    assert str(settings.slack_api_base_url) == "https://slack.com/api/"
    assert settings.log_level == "INFO"
    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@db/minesync")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.database_url == "postgresql://postgres@db/minesync"
    assert settings.port == 8080
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1-2-abc"
    assert settings.log_level == "DEBUG"


def test_malformed_bot_token_is_named_but_not_echoed(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BAD_BOT_TOKEN)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("SLACK_BOT_TOKEN is invalid")
    assert "xoxb-" in message  # says what a bot token looks like
    assert "TOPSECRETVALUE" not in message
    assert BAD_BOT_TOKEN not in message
    assert "\n" not in message


def test_malformed_app_token_is_named_but_not_echoed(monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-not-an-app-token-SECRET")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("SLACK_APP_TOKEN is invalid")
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize("port", ["0", "65536", "70000"])
def test_port_out_of_range_is_named(monkeypatch, port):
    monkeypatch.setenv("PORT", port)
    with pytest.raises(SettingsError, match=r"^PORT is invalid: ") as caught:
        load_settings()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("port", ["1", "65535"])
def test_port_bounds_are_accepted(monkeypatch, port):
    monkeypatch.setenv("PORT", port)
    assert load_settings().port == int(port)


def test_unknown_log_level_is_named(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError, match="^LOG_LEVEL is invalid: must be DEBUG, INFO"):
        load_settings()


def test_require_names_the_missing_setting():
    settings = load_settings()
    with pytest.raises(SettingsError) as caught:
        settings.require("slack_signing_secret")
    assert str(caught.value) == "SLACK_SIGNING_SECRET is not set (environment or .env)."


def test_require_names_the_first_missing_of_several(monkeypatch):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh")
    settings = load_settings()
    settings.require("slack_signing_secret")  # present: no error
    with pytest.raises(SettingsError, match="^SLACK_BOT_TOKEN is not set"):
        settings.require("slack_signing_secret", "slack_bot_token", "slack_app_token")


def test_dotenv_file_is_read(clean_environment):
    (clean_environment / ".env").write_text(
        "DATABASE_URL=sqlite:///from-dotenv.db\n"
        "PORT=4000\n"
        "SLACK_SIGNING_SECRET=dotenv-secret\n"
        "SLACK_API_BASE_URL=http://127.0.0.1:9999/api/\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.database_url == "sqlite:///from-dotenv.db"
    assert settings.port == 4000
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "dotenv-secret"
    assert str(settings.slack_api_base_url) == "http://127.0.0.1:9999/api/"
    settings.require("slack_signing_secret")


def test_environment_wins_over_dotenv(clean_environment, monkeypatch):
    (clean_environment / ".env").write_text("PORT=4000\n", encoding="utf-8")
    monkeypatch.setenv("PORT", "5000")
    assert load_settings().port == 5000


def test_malformed_token_in_dotenv_is_named_but_not_echoed(clean_environment):
    (clean_environment / ".env").write_text(f"SLACK_BOT_TOKEN={BAD_BOT_TOKEN}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("SLACK_BOT_TOKEN is invalid")
    assert "TOPSECRETVALUE" not in str(caught.value)


def test_overrides_are_validated_too():
    with pytest.raises(SettingsError, match="^PORT is invalid"):
        load_settings(port=0)
    assert load_settings(port=3100).port == 3100


def test_blank_token_in_dotenv_counts_as_unset(clean_environment):
    (clean_environment / ".env").write_text(
        "SLACK_BOT_TOKEN=\nSLACK_APP_TOKEN=\n", encoding="utf-8"
    )
    settings = load_settings()
    assert settings.slack_bot_token is None
    assert settings.slack_app_token is None


def test_blank_signing_secret_is_refused_by_require(monkeypatch):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")
    settings = load_settings()
    with pytest.raises(SettingsError, match="^SLACK_SIGNING_SECRET is not set"):
        settings.require("slack_signing_secret")
