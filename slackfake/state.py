"""What the fake workspace knows: users, channels, posted messages, open views, trigger ids.

Kept apart from HTTP so the Web API handlers are plain functions over this state.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from slackfake.clock import Clock

JsonDict = dict[str, Any]

TRIGGER_TTL_SECONDS = 3.0
MAX_VIEW_STACK = 3


class ApiError(Exception):
    """A Web API failure, answered as HTTP 200 `{"ok": false, "error": code, **extra}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> JsonDict:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass
class User:
    id: str
    team_id: str
    email: str | None
    name: str
    real_name: str
    is_bot: bool = False


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False


@dataclass
class Trigger:
    issued_at: float
    view_id: str | None  # set when the interaction came from a view (views.push target)
    user_id: str | None = None  # who acted: the modal it opens is theirs alone
    used: bool = False


@dataclass
class ViewStack:
    """Modals stacked by views.push; Slack allows at most three."""

    view_ids: list[str] = field(default_factory=list)


class TsFactory:
    """Message timestamps like Slack's: "<unix seconds>.<6 digits>", strictly increasing."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> str:
        now = int(time.time() * 1_000_000)
        self._last = max(now, self._last + 1)
        return f"{self._last // 1_000_000}.{self._last % 1_000_000:06d}"


class Workspace:
    def __init__(
        self,
        *,
        clock: Clock,
        team_id: str,
        auto_channels: bool,
        trigger_ttl: float = TRIGGER_TTL_SECONDS,
    ) -> None:
        self.clock = clock
        self.team_id = team_id
        self.auto_channels = auto_channels
        self.trigger_ttl = trigger_ttl
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.next_ts = TsFactory()
        self.reset()

    def reset(self) -> None:
        """Forget everything that happened; keep the directory (users, channels)."""
        self.messages: dict[str, list[JsonDict]] = {}
        self.ephemerals: dict[str, list[JsonDict]] = {}
        self.views: dict[str, JsonDict] = {}
        self.home_views: dict[str, JsonDict] = {}
        self.stacks: dict[str, ViewStack] = {}  # root_view_id -> stack
        self.view_owners: dict[str, str | None] = {}  # root_view_id -> the user who sees it
        # Field errors a view_submission answer put on a modal (response_action "errors").
        self.view_errors: dict[str, dict[str, str]] = {}
        self.triggers: dict[str, Trigger] = {}

    # -- directory --------------------------------------------------------------------------------

    def user(self, user_id: Any) -> User:
        if not isinstance(user_id, str) or user_id not in self.users:
            raise ApiError("user_not_found")
        return self.users[user_id]

    def channel(self, channel_ref: Any) -> Channel:
        """Resolve a channel id, "#name", or a user id (which means the DM with that user)."""
        if not isinstance(channel_ref, str) or not channel_ref:
            raise ApiError("channel_not_found")
        if channel_ref in self.channels:
            return self.channels[channel_ref]
        if channel_ref.startswith("#"):
            for channel in self.channels.values():
                if channel.name == channel_ref[1:]:
                    return channel
            raise ApiError("channel_not_found")
        if channel_ref in self.users:
            # Posting to a user id posts in the DM; Slack answers with the D... channel id.
            dm_id = "D" + channel_ref[1:]
            return self.channels.setdefault(dm_id, Channel(dm_id, dm_id.lower(), True, True))
        if self.auto_channels:
            return self.channels.setdefault(channel_ref, Channel(channel_ref, channel_ref.lower()))
        raise ApiError("channel_not_found")

    # -- messages ---------------------------------------------------------------------------------

    def find_message(self, channel_id: str, ts: Any) -> JsonDict:
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise ApiError("message_not_found")

    # -- trigger ids ------------------------------------------------------------------------------

    def new_trigger_id(self, view_id: str | None = None, user_id: str | None = None) -> str:
        trigger_id = (
            f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**11)}.{secrets.token_hex(16)}"
        )
        self.triggers[trigger_id] = Trigger(self.clock(), view_id, user_id)
        return trigger_id

    def use_trigger(self, trigger_id: Any) -> Trigger:
        """Spend a trigger_id: valid for `trigger_ttl` seconds and for one modal only."""
        trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used or self.clock() - trigger.issued_at > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger

    # -- views ------------------------------------------------------------------------------------

    def find_view(self, view_id: Any = None, external_id: Any = None) -> JsonDict:
        if view_id:
            if view_id in self.views:
                return self.views[view_id]
        elif external_id:
            for view in self.views.values():
                if view.get("external_id") == external_id:
                    return view
        raise ApiError("not_found")

    def close_view(self, view_id: str) -> None:
        """Close the whole modal stack the view belongs to (what the user's "Cancel" does)."""
        view = self.views.get(view_id)
        if view is None:
            return
        root_id = view["root_view_id"]
        stack = self.stacks.pop(root_id, ViewStack())
        self.view_owners.pop(root_id, None)
        for vid in stack.view_ids or [view_id]:
            self.views.pop(vid, None)
            self.view_errors.pop(vid, None)

    def pop_view(self, view_id: str) -> None:
        """Close one view of a stack, uncovering the one below (a pushed view's back arrow, or
        an empty answer to its submission); the last one closes the stack."""
        view = self.views.get(view_id)
        if view is None:
            return
        stack = self.stacks.get(view["root_view_id"])
        if stack is None or len(stack.view_ids) <= 1:
            self.close_view(view_id)
            return
        if view_id in stack.view_ids:
            stack.view_ids.remove(view_id)
        self.views.pop(view_id, None)
        self.view_errors.pop(view_id, None)

    def views_of(self, user_id: str) -> list[list[JsonDict]]:
        """The modal stacks open for one user, each from its root to the view on top."""
        return [
            [self.views[vid] for vid in stack.view_ids if vid in self.views]
            for root_id, stack in self.stacks.items()
            if self.view_owners.get(root_id) == user_id
        ]


def fill_block_ids(blocks: Any) -> Any:
    """Slack gives every block the app sent without a block_id one of its own (stable for the
    message or view), so interaction payloads always name a block."""
    if not isinstance(blocks, list):
        return blocks
    filled = []
    for block in blocks:
        if isinstance(block, dict) and not block.get("block_id"):
            block = {**block, "block_id": _random_block_id()}
        filled.append(block)
    return filled


_BLOCK_ID_ALPHABET = string.ascii_letters + string.digits


def _random_block_id() -> str:
    return "".join(secrets.choice(_BLOCK_ID_ALPHABET) for _ in range(5))
