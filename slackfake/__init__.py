"""A fake Slack served over real HTTP, for end-to-end tests, benchmarks and a local sandbox.

- FakeSlack: the Web API (point slack_sdk's AsyncWebClient at `api_base_url`) and
  response_urls, with recording, Block Kit limit checks and failure injection.
- SlackRequester: signed commands and interactions sent to the bot, like Slack sends them.
- payloads: builders of those requests' bodies; signing: v0 request signatures.
"""

from slackfake import payloads
from slackfake.client import BotReply, SlackRequester
from slackfake.clock import ManualClock
from slackfake.recording import Call
from slackfake.server import DEFAULT_SCOPES, DEFAULT_TOKEN, FakeSlack
from slackfake.signing import sign, verify

__all__ = [
    "DEFAULT_SCOPES",
    "DEFAULT_TOKEN",
    "BotReply",
    "Call",
    "FakeSlack",
    "ManualClock",
    "SlackRequester",
    "payloads",
    "sign",
    "verify",
]
