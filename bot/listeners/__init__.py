"""Slack listeners, one module per kind of request; each wires itself with `register(app, ...)`."""

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, views
from bot.services import Services


def register(app: AsyncApp, services: Services) -> None:
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
