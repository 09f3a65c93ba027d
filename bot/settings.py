"""The one Settings object: environment variables and a .env file, validated at start-up."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///minesync.db"
SLACK_PUBLIC_API = "https://slack.com/api/"


class SettingsError(Exception):
    """A missing or malformed setting, named in one line for the operator."""


class Settings(BaseSettings):
    # A blank `SLACK_BOT_TOKEN=` line (as in a .env template) means "not set", not "malformed".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_base_url: HttpUrl = HttpUrl(SLACK_PUBLIC_API)
    port: Annotated[int, Field(ge=1, le=65535)] = 3000
    host: str = "0.0.0.0"
    log_level: str = "INFO"
    # How often the audit-channel dispatcher looks for due summaries when idle.
    outbox_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    def require(self, *names: str) -> None:
        """Stop with one line naming the first required setting that is missing."""
        for name in names:
            value = getattr(self, name)
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
                raise SettingsError(f"{name.upper()} is not set (environment or .env).")


def load_settings(**overrides: object) -> Settings:
    """Read the settings, or raise SettingsError naming the first bad one."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors(include_input=False, include_url=False)[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "a setting"
        raise SettingsError(
            f"{name} is invalid: {err['msg'].removeprefix('Value error, ')}"
        ) from None
