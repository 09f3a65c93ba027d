"""Block Kit limits that Slack enforces on the blocks and views an app sends.

slack-sdk's model classes check most of these, but only when the bot builds blocks through
them; a bot writing plain dicts gets no such help, so the fake checks on arrival like Slack.
Problems are reported in Slack's own format: `[ERROR] <what> [json-pointer:/path]`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_BYTES = 250_000
MAX_MESSAGE_TEXT = 40_000
MAX_TEXT_OBJECT = 3_000
MAX_ID = 255  # block_id, action_id, callback_id, external_id
MAX_MODAL_TITLE = 24  # also submit and close
MAX_PRIVATE_METADATA = 3_000


@dataclass(frozen=True)
class Problem:
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"[ERROR] {self.message} [json-pointer:{self.pointer}]"


def view_size(view: Any) -> int:
    """Size of the view as Slack receives it (compact JSON, UTF-8)."""
    return len(json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode())


def check_message_blocks(blocks: Any, pointer: str = "/blocks") -> list[Problem]:
    checker = _Checker()
    checker.blocks(blocks, pointer, limit=MAX_MESSAGE_BLOCKS)
    return checker.problems


def check_view(view: Any, pointer: str = "/view") -> list[Problem]:
    checker = _Checker()
    checker.view(view, pointer)
    return checker.problems


_SELECTS_WITH_OPTIONS = {"static_select", "multi_static_select"}
_OPTION_LISTS = {"overflow": 5, "radio_buttons": 10, "checkboxes": 10}


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(pointer, message))

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            # Slack words its length errors this way ("less than 25" for a 24 limit).
            self.add(pointer, f"must be less than {limit + 1} characters")

    def max_items(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, list) and len(value) > limit:
            self.add(pointer, f"must provide no more than {limit} items")

    # -- text objects -----------------------------------------------------------------------------

    def text(self, obj: Any, pointer: str, *, limit: int = MAX_TEXT_OBJECT, plain: bool = False):
        if obj is None:
            return
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if not isinstance(obj, dict) or obj.get("type") not in allowed:
            self.add(pointer, f"must be a text object of type {' or '.join(allowed)}")
            return
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.add(pointer + "/text", "must be more than 0 characters")
            return
        self.max_len(text, limit, pointer + "/text")

    def required_text(self, obj: Any, pointer: str, *, limit: int, plain: bool = False) -> None:
        if obj is None:
            self.add(pointer, "is required")
            return
        self.text(obj, pointer, limit=limit, plain=plain)

    # -- composition objects ----------------------------------------------------------------------

    def option(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.add(pointer, "must be an option object")
            return
        self.required_text(obj.get("text"), pointer + "/text", limit=75)
        value = obj.get("value")
        if not isinstance(value, str):
            self.add(pointer + "/value", "is required")
        self.max_len(value, 150, pointer + "/value")
        self.text(obj.get("description"), pointer + "/description", limit=75, plain=True)

    def options(self, options: Any, limit: int, pointer: str) -> None:
        if not isinstance(options, list):
            self.add(pointer, "must be an array")
            return
        self.max_items(options, limit, pointer)
        for i, opt in enumerate(options):
            self.option(opt, f"{pointer}/{i}")

    def confirm(self, obj: Any, pointer: str) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict):
            self.add(pointer, "must be a confirmation dialog object")
            return
        self.required_text(obj.get("title"), pointer + "/title", limit=100, plain=True)
        self.required_text(obj.get("text"), pointer + "/text", limit=300)
        self.required_text(obj.get("confirm"), pointer + "/confirm", limit=30, plain=True)
        self.required_text(obj.get("deny"), pointer + "/deny", limit=30, plain=True)
        if obj.get("style") not in (None, "primary", "danger"):
            self.add(pointer + "/style", "must be one of primary, danger")

    # -- elements ---------------------------------------------------------------------------------

    def element(self, el: Any, pointer: str) -> None:
        if not isinstance(el, dict) or not isinstance(el.get("type"), str):
            self.add(pointer, "must be a block element with a type")
            return
        kind = el["type"]
        self.max_len(el.get("action_id"), MAX_ID, pointer + "/action_id")
        if "placeholder" in el:
            self.text(el["placeholder"], pointer + "/placeholder", limit=150, plain=True)
        self.confirm(el.get("confirm"), pointer + "/confirm")
        if kind == "button":
            self.required_text(el.get("text"), pointer + "/text", limit=75, plain=True)
            self.max_len(el.get("value"), 2000, pointer + "/value")
            self.max_len(el.get("url"), 3000, pointer + "/url")
            if el.get("style") not in (None, "primary", "danger"):
                self.add(pointer + "/style", "must be one of primary, danger")
        elif kind in _SELECTS_WITH_OPTIONS:
            self.select_options(el, pointer)
        elif kind in _OPTION_LISTS:
            self.options(el.get("options"), _OPTION_LISTS[kind], pointer + "/options")
        elif kind == "plain_text_input":
            self.max_len(el.get("initial_value"), 3000, pointer + "/initial_value")
            for key in ("min_length", "max_length"):
                bound = el.get(key)
                if isinstance(bound, int) and not 0 <= bound <= 3000:
                    self.add(f"{pointer}/{key}", "must be between 0 and 3000")

    def select_options(self, el: dict[str, Any], pointer: str) -> None:
        has_options, has_groups = "options" in el, "option_groups" in el
        if has_options == has_groups:
            self.add(pointer, "must provide exactly one of options or option_groups")
        if has_options:
            self.options(el["options"], 100, pointer + "/options")
        if has_groups:
            groups = el["option_groups"]
            self.max_items(groups, 100, pointer + "/option_groups")
            for i, group in enumerate(groups if isinstance(groups, list) else []):
                gp = f"{pointer}/option_groups/{i}"
                if not isinstance(group, dict):
                    self.add(gp, "must be an option group object")
                    continue
                self.required_text(group.get("label"), gp + "/label", limit=75, plain=True)
                self.options(group.get("options"), 100, gp + "/options")
        if "initial_option" in el:
            self.option(el["initial_option"], pointer + "/initial_option")

    def elements(self, elements: Any, limit: int, pointer: str) -> None:
        if not isinstance(elements, list):
            self.add(pointer, "must be an array")
            return
        self.max_items(elements, limit, pointer)
        for i, el in enumerate(elements):
            self.element(el, f"{pointer}/{i}")

    # -- blocks -----------------------------------------------------------------------------------

    def blocks(self, blocks: Any, pointer: str, *, limit: int) -> None:
        if not isinstance(blocks, list):
            self.add(pointer, "must be an array")
            return
        self.max_items(blocks, limit, pointer)
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            block_id = block.get("block_id") if isinstance(block, dict) else None
            if isinstance(block_id, str):
                if block_id in seen:
                    self.add(f"{pointer}/{i}/block_id", f"duplicate block_id {block_id!r}")
                seen.add(block_id)
            self.block(block, f"{pointer}/{i}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.add(pointer, "must be a block object with a type")
            return
        self.max_len(block.get("block_id"), MAX_ID, pointer + "/block_id")
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.add(pointer, "must provide text or fields")
            self.text(block.get("text"), pointer + "/text")
            fields = block.get("fields")
            if fields is not None:
                self.max_items(fields, 10, pointer + "/fields")
                for i, field in enumerate(fields if isinstance(fields, list) else []):
                    self.text(field, f"{pointer}/fields/{i}", limit=2000)
            if "accessory" in block:
                self.element(block["accessory"], pointer + "/accessory")
        elif kind == "header":
            self.required_text(block.get("text"), pointer + "/text", limit=150, plain=True)
        elif kind == "actions":
            self.elements(block.get("elements"), 25, pointer + "/elements")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list):
                self.add(pointer + "/elements", "must be an array")
                return
            self.max_items(elements, 10, pointer + "/elements")
            for i, el in enumerate(elements):
                if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                    self.text(el, f"{pointer}/elements/{i}")
        elif kind == "input":
            self.required_text(block.get("label"), pointer + "/label", limit=2000, plain=True)
            self.text(block.get("hint"), pointer + "/hint", limit=2000, plain=True)
            if "element" not in block:
                self.add(pointer + "/element", "is required")
            else:
                self.element(block["element"], pointer + "/element")
        # Other block types (divider, image, rich_text, ...) carry no limit the bot can hit;
        # Slack keeps adding types, so unknown ones are let through rather than guessed at.

    # -- views ------------------------------------------------------------------------------------

    def view(self, view: Any, pointer: str) -> None:
        if not isinstance(view, dict):
            self.add(pointer, "must be a view object")
            return
        kind = view.get("type")
        if kind not in ("modal", "home"):
            self.add(pointer + "/type", "must be one of modal, home")
        if kind == "modal":
            self.required_text(
                view.get("title"), pointer + "/title", limit=MAX_MODAL_TITLE, plain=True
            )
            for key in ("submit", "close"):
                self.text(view.get(key), f"{pointer}/{key}", limit=MAX_MODAL_TITLE, plain=True)
            if view.get("submit") is None and _has_input(view.get("blocks")):
                self.add(pointer + "/submit", "is required when the view has input blocks")
        self.max_len(
            view.get("private_metadata"), MAX_PRIVATE_METADATA, pointer + "/private_metadata"
        )
        self.max_len(view.get("callback_id"), MAX_ID, pointer + "/callback_id")
        self.max_len(view.get("external_id"), MAX_ID, pointer + "/external_id")
        self.blocks(view.get("blocks"), pointer + "/blocks", limit=MAX_VIEW_BLOCKS)


def _has_input(blocks: Any) -> bool:
    items: Iterable[Any] = blocks if isinstance(blocks, list) else []
    return any(isinstance(b, dict) and b.get("type") == "input" for b in items)
