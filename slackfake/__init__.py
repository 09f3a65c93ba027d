"""A fake Slack served over real HTTP, for end-to-end tests, benchmarks and a local sandbox.

- FakeSlack: the Web API (point slack_sdk's AsyncWebClient at `api_base_url`) and
  response_urls, with recording, Block Kit limit checks and failure injection.
- SlackRequester: signed commands and interactions sent to the bot, like Slack sends them.
- SlackUI: a person's commands, clicks and modal submissions, sent and shown as Slack's
  client does (the sandbox's page drives the bot through it).
- payloads: builders of those requests' bodies; signing: v0 request signatures.
"""

from slackfake import payloads
from slackfake.client import BotReply, SlackRequester
from slackfake.clock import ManualClock
from slackfake.recording import Call, Change
from slackfake.server import DEFAULT_SCOPES, DEFAULT_TOKEN, FakeSlack
from slackfake.signing import sign, verify
from slackfake.ui import Outcome, SlackUI

__all__ = [
    "DEFAULT_SCOPES",
    "DEFAULT_TOKEN",
    "BotReply",
    "Call",
    "Change",
    "FakeSlack",
    "ManualClock",
    "Outcome",
    "SlackRequester",
    "SlackUI",
    "payloads",
    "sign",
    "verify",
]
