"""SlackUI: what the Slack client does for a person, in front of a real bot.

A person types a slash command, clicks a button or picks an option in a message, fills in and
submits a modal, or closes it. The client turns each into what Slack sends the app (a signed
request with a fresh trigger_id and response_url, see SlackRequester), and shows the app's
answer as Slack would (FakeSlack.show_command_reply, FakeSlack.answer_view_submission). The
app's own Web API calls and response_url posts land in the FakeSlack as usual.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from slackfake import payloads
from slackfake.client import ACK_DEADLINE_SECONDS, BotReply, SlackRequester
from slackfake.escaping import escape_command_text
from slackfake.server import FakeSlack
from slackfake.state import ApiError, JsonDict

REQUIRED = "Please complete this required field."
# What Slack shows in a modal when the app fails or is late to answer its submission.
TROUBLE = "We had some trouble connecting. Try again?"

_INPUT_TYPES = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "static_select",
        "multi_static_select",
        "conversations_select",
        "channels_select",
        "users_select",
        "checkboxes",
        "radio_buttons",
        "datepicker",
    }
)


class NotFound(LookupError):
    """The message, view or element a person acted on is not (or no longer) there for them."""


@dataclass(frozen=True)
class Outcome:
    """What the person saw. `shown`: for commands "message" or "nothing"; for clicks "sent";
    for submissions what FakeSlack.answer_view_submission returned, or "required" when the
    client itself refused an incomplete form. `problem`: what Slack tells the person when
    the app failed or was late (None when all went well)."""

    shown: str
    problem: str | None = None
    reply: BotReply | None = None


class SlackUI:
    def __init__(
        self, fake: FakeSlack, requester: SlackRequester, *, command: str = "/minesync"
    ) -> None:
        self.fake = fake
        self.requester = requester
        self.command_name = command

    # -- slash commands ---------------------------------------------------------------------------

    async def command(self, user_id: str, channel_id: str, text: str) -> Outcome:
        """Type `/command text` in a channel."""
        escaped = escape_command_text(text, self.fake.users, self.fake.channels)
        response_url = self.fake.response_url(channel_id=channel_id, user_id=user_id)
        reply = await self._send(
            self.requester.command(
                escaped,
                user_id=user_id,
                user_name=self._user_name(user_id),
                channel_id=channel_id,
                command=self.command_name,
                response_url=response_url,
                trigger_id=self.fake.new_trigger_id(user_id=user_id),
            )
        )
        shown = self.fake.show_command_reply(
            response_url,
            reply.body,
            command=self.command_name,
            elapsed=reply.elapsed,
            status=reply.status,
        )
        late = not _answered_in_time(reply)
        return Outcome(
            "message" if shown else "nothing",
            problem=shown["text"] if late and shown else None,
            reply=reply,
        )

    # -- block_actions ----------------------------------------------------------------------------

    async def click(
        self,
        user_id: str,
        *,
        block_id: str,
        action_id: str,
        selected: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Click a button, or choose `selected` in a select or overflow menu, in a message
        (channel_id + message_ts) or in a modal (view_id, with the form's current `values`)."""
        if view_id is not None:
            view = self._view(user_id, view_id)
            element = _element(view.get("blocks"), block_id, action_id)
            view = copy.deepcopy(view)
            view["state"] = {"values": _state(view, values or {})}
            payload = payloads.block_actions_payload(
                team_id=self.requester.team_id,
                user_id=user_id,
                user_name=self._user_name(user_id),
                actions=[payloads.element_action(element, block_id=block_id, selected=selected)],
                trigger_id=self.fake.new_trigger_id(view_id=view_id, user_id=user_id),
                view=view,
            )
        else:
            if channel_id is None or message_ts is None:
                raise ValueError("click needs channel_id and message_ts, or view_id")
            message, ephemeral = self._message(user_id, channel_id, message_ts)
            element = _element(message.get("blocks"), block_id, action_id)
            message.pop("recipient", None)
            payload = payloads.block_actions_payload(
                team_id=self.requester.team_id,
                user_id=user_id,
                user_name=self._user_name(user_id),
                actions=[payloads.element_action(element, block_id=block_id, selected=selected)],
                trigger_id=self.fake.new_trigger_id(user_id=user_id),
                channel_id=channel_id,
                message_ts=message_ts,
                # Slack sends the message along, except for ephemeral ones.
                message=None if ephemeral else message,
                response_url=self.fake.response_url(
                    channel_id=channel_id, message_ts=message_ts, user_id=user_id
                ),
                is_ephemeral=ephemeral,
            )
        reply = await self._send(self.requester.block_actions(payload))
        problem = None
        # Slack marks the element with a warning icon and a tooltip like these.
        if reply.status == 0 or reply.elapsed > ACK_DEADLINE_SECONDS:
            problem = "The app didn't respond in time. Try again?"
        elif reply.status != 200:
            problem = f"The app could not handle that (HTTP {reply.status}). Try again?"
        return Outcome("sent", problem=problem, reply=reply)

    # -- modals -----------------------------------------------------------------------------------

    async def submit(self, user_id: str, view_id: str, values: Mapping[str, Any]) -> Outcome:
        """Submit the modal with `values` as {block_id: what was typed or chosen}."""
        view = self._view(user_id, view_id)
        missing = {
            block["block_id"]: REQUIRED
            for block in _inputs(view)
            if not block.get("optional") and _is_empty(values.get(block["block_id"]))
        }
        if missing:
            # The client refuses an incomplete form itself; the app never hears of it.
            self.fake.show_view_errors(view_id, missing)
            return Outcome("required")
        payload = payloads.view_submission_payload(
            team_id=self.requester.team_id,
            user_id=user_id,
            user_name=self._user_name(user_id),
            view=view,
            state_values=_state(view, values),
            trigger_id=self.fake.new_trigger_id(view_id=view_id, user_id=user_id),
        )
        reply = await self._send(self.requester.view_submission(payload))
        if not _answered_in_time(reply):
            return Outcome("failed", problem=TROUBLE, reply=reply)
        try:
            shown = self.fake.answer_view_submission(view_id, reply.body)
        except ApiError as exc:
            return Outcome("failed", problem=f"{TROUBLE} ({exc.error})", reply=reply)
        return Outcome(shown, reply=reply)

    async def close(self, user_id: str, view_id: str) -> Outcome:
        """Cancel (or X) the modal: the whole stack closes; the app hears of it only when the
        view asked for notify_on_close."""
        view = self._view(user_id, view_id)
        reply = None
        if view.get("notify_on_close"):
            payload = payloads.view_closed_payload(
                team_id=self.requester.team_id,
                user_id=user_id,
                user_name=self._user_name(user_id),
                view=view,
                is_cleared=len(self.fake.views_of(user_id)) > 1,
            )
            reply = await self._send(self.requester.view_closed(payload))
        self.fake.close_view(view_id)
        return Outcome("closed", reply=reply)

    async def back(self, user_id: str, view_id: str) -> Outcome:
        """The back arrow of a pushed view: only that view closes."""
        self._view(user_id, view_id)
        self.fake.back_view(view_id)
        return Outcome("closed")

    # -- helpers ----------------------------------------------------------------------------------

    async def _send(self, request: Any) -> BotReply:
        """Send; a connection failure or a bot that never answers is a failed delivery."""
        started = asyncio.get_running_loop().time()
        try:
            return await request
        except (aiohttp.ClientError, TimeoutError) as exc:
            elapsed = asyncio.get_running_loop().time() - started
            return BotReply(status=0, body=str(exc), elapsed=elapsed, headers={})

    def _user_name(self, user_id: str) -> str:
        for user in self.fake.users:
            if user.id == user_id:
                return user.name
        return user_id.lower()

    def _view(self, user_id: str, view_id: str) -> JsonDict:
        for view in self.fake.views_of(user_id):
            if view["id"] == view_id:
                return view
        raise NotFound(f"no open modal {view_id} for {user_id}")

    def _message(self, user_id: str, channel_id: str, ts: str) -> tuple[JsonDict, bool]:
        for message in self.fake.messages(channel_id):
            if message["ts"] == ts:
                return message, False
        for message in self.fake.ephemerals(channel_id):
            if message["ts"] == ts and message.get("recipient") == user_id:
                return message, True
        raise NotFound(f"no message {ts} in {channel_id} for {user_id}")


def _answered_in_time(reply: BotReply) -> bool:
    return reply.status == 200 and reply.elapsed <= ACK_DEADLINE_SECONDS


def _element(blocks: Any, block_id: str, action_id: str) -> JsonDict:
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict) or block.get("block_id") != block_id:
            continue
        candidates = [block.get("accessory"), block.get("element"), *block.get("elements", [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    raise NotFound(f"no element {action_id!r} in block {block_id!r}")


def _inputs(view: JsonDict) -> list[JsonDict]:
    return [
        b
        for b in view.get("blocks") or []
        if isinstance(b, dict)
        and b.get("type") == "input"
        and isinstance(b.get("element"), dict)
        and b["element"].get("type") in _INPUT_TYPES
    ]


def _state(view: JsonDict, values: Mapping[str, Any]) -> JsonDict:
    """view.state.values: every input block of the view, touched or not, as Slack sends it."""
    state: JsonDict = {}
    for block in _inputs(view):
        element = block["element"]
        raw = values.get(block["block_id"])
        state[block["block_id"]] = {
            element.get("action_id") or "": payloads.state_value(element, raw)
        }
    return state


def _is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []
