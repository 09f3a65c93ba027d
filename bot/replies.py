"""The one place domain errors become what a Slack user sees."""

from __future__ import annotations

import logging
from typing import Any

from bot.blocks.help import USAGE
from bot.blocks.orgs import build_choose_org_message
from bot.parsing import UsageError
from handlers.errors import DomainError, InvalidInput
from handlers.identity import ChooseOrganization

log = logging.getLogger(__name__)

UNEXPECTED = (
    "Something went wrong on my side and I could not finish. Check `/minesync audit` to see "
    "whether the change was made before trying again."
)


def ephemeral(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if blocks:
        reply["blocks"] = blocks
    return reply


def message(built: dict[str, Any]) -> dict[str, Any]:
    """A builder's {"text", "blocks"} as an ephemeral reply."""
    return ephemeral(built["text"], built.get("blocks"))


def for_error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, UsageError):
        return ephemeral(usage_text(exc))
    if isinstance(exc, ChooseOrganization):
        return message(build_choose_org_message(exc.options))
    if isinstance(exc, InvalidInput):
        return ephemeral(" ".join(exc.errors.values()))
    if isinstance(exc, DomainError):
        return ephemeral(exc.message)
    log.exception("unexpected error while handling a Slack request", exc_info=exc)
    return ephemeral(UNEXPECTED)


def usage_text(exc: UsageError) -> str:
    if exc.subcommand and exc.subcommand in USAGE:
        return f"{exc.problem}\nUsage: `{USAGE[exc.subcommand]}`"
    return f"{exc.problem} Try `/minesync help`."


def modal_response(exc: BaseException, input_blocks: set[str]) -> dict[str, Any] | None:
    """Field errors shown inside the modal, when the error is about one of its inputs."""
    if isinstance(exc, InvalidInput):
        errors = {f: m for f, m in exc.errors.items() if f in input_blocks}
        if errors:
            return {"response_action": "errors", "errors": errors}
    elif isinstance(exc, DomainError) and exc.field in input_blocks:
        return {"response_action": "errors", "errors": {exc.field: exc.message}}
    return None
