"""Pure builders of what Slack sends to an app (slash commands and interactivity payloads).

Shapes follow /work/shared/slack/PLATFORM.md and Slack's payload reference, including the
fields a handler rarely reads (team domain, api_app_id, hash...), because Bolt and the bot's
own parsing may rely on them and a thinner fake would hide such bugs.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_TEAM_DOMAIN = "minesync"
DEFAULT_API_APP_ID = "A0MINESYNC"
DEFAULT_BOT_ID = "B0MINESYNC"

# Slack still sends the legacy verification token; Bolt ignores it in favour of the signature.
LEGACY_TOKEN = "legacy-verification-token"

JsonDict = dict[str, Any]


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _user(user_id: str, user_name: str | None, team_id: str) -> JsonDict:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str, team_domain: str) -> JsonDict:
    return {"id": team_id, "domain": team_domain}


def plain_text(text: str) -> JsonDict:
    return {"type": "plain_text", "text": text, "emoji": True}


# ---------------------------------------------------------------------------------------------
# Slash commands
# ---------------------------------------------------------------------------------------------


def slash_command_form(
    *,
    team_id: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    text: str,
    command: str = "/minesync",
    response_url: str,
    trigger_id: str,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_API_APP_ID,
    channel_name: str | None = None,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
) -> dict[str, str]:
    """Form fields of a slash command POST (sent as application/x-www-form-urlencoded)."""
    form = {
        "token": LEGACY_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name or channel_id.lower(),
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    # Slack only includes the enterprise fields for Enterprise Grid workspaces.
    if enterprise_id is not None:
        form["enterprise_id"] = enterprise_id
        form["enterprise_name"] = enterprise_name or enterprise_id
    return form


# ---------------------------------------------------------------------------------------------
# State values (view.state.values[block_id][action_id])
# ---------------------------------------------------------------------------------------------


def plain_text_value(value: str | None) -> JsonDict:
    """An untouched input arrives with `"value": null`, not an empty string."""
    return {"type": "plain_text_input", "value": value}


def email_value(value: str | None) -> JsonDict:
    return {"type": "email_text_input", "value": value}


def static_select_value(value: str | None, text: str | None = None) -> JsonDict:
    """`value=None` means nothing chosen: Slack sends `"selected_option": null`."""
    if value is None:
        return {"type": "static_select", "selected_option": None}
    return {
        "type": "static_select",
        "selected_option": {"text": plain_text(text or value), "value": value},
    }


def conversations_select_value(conversation_id: str | None) -> JsonDict:
    return {"type": "conversations_select", "selected_conversation": conversation_id}


def channels_select_value(channel_id: str | None) -> JsonDict:
    return {"type": "channels_select", "selected_channel": channel_id}


def users_select_value(user_id: str | None) -> JsonDict:
    return {"type": "users_select", "selected_user": user_id}


def checkboxes_value(options: Sequence[tuple[str, str]]) -> JsonDict:
    """`options` are (value, text) pairs of the ticked boxes."""
    return {
        "type": "checkboxes",
        "selected_options": [{"text": plain_text(t), "value": v} for v, t in options],
    }


# ---------------------------------------------------------------------------------------------
# block_actions
# ---------------------------------------------------------------------------------------------


def button_action(
    action_id: str, *, block_id: str, value: str | None = None, text: str = "Button"
) -> JsonDict:
    action: JsonDict = {
        "action_id": action_id,
        "block_id": block_id,
        "text": plain_text(text),
        "type": "button",
        "action_ts": _action_ts(),
    }
    # A button without a value has no "value" key at all in Slack's payload.
    if value is not None:
        action["value"] = value
    return action


def static_select_action(
    action_id: str, *, block_id: str, value: str, text: str | None = None
) -> JsonDict:
    return {
        "action_id": action_id,
        "block_id": block_id,
        "type": "static_select",
        "selected_option": {"text": plain_text(text or value), "value": value},
        "placeholder": plain_text("Select an item"),
        "action_ts": _action_ts(),
    }


def block_actions_payload(
    *,
    team_id: str,
    user_id: str,
    actions: Sequence[JsonDict],
    trigger_id: str,
    channel_id: str | None = None,
    message_ts: str | None = None,
    message: JsonDict | None = None,
    response_url: str | None = None,
    is_ephemeral: bool = False,
    view: JsonDict | None = None,
    state_values: Mapping[str, Any] | None = None,
    user_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_API_APP_ID,
) -> JsonDict:
    """A block_actions payload, from a message (give channel_id + message_ts or message, and
    response_url) or from a modal (give view)."""
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": LEGACY_TOKEN,
        "trigger_id": trigger_id,
        "team": _team(team_id, team_domain),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": list(actions),
    }
    values = dict(state_values or {})
    if view is not None:
        full_view = complete_view(view, team_id=team_id, api_app_id=api_app_id)
        if state_values is not None:
            full_view["state"] = {"values": values}
        payload["container"] = {"type": "view", "view_id": full_view["id"]}
        payload["view"] = full_view
        return payload

    if channel_id is None:
        raise ValueError("block_actions needs either a view or a channel_id (message container)")
    ts = message_ts or (message or {}).get("ts")
    if ts is None:
        raise ValueError("block_actions from a message needs message_ts or message['ts']")
    payload["container"] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
    payload["message"] = message if message is not None else {"type": "message", "ts": ts}
    payload["state"] = {"values": values}
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------


def new_view_id() -> str:
    return "V" + secrets.token_hex(5).upper()


def new_view_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def complete_view(
    view: Mapping[str, Any],
    *,
    team_id: str,
    api_app_id: str = DEFAULT_API_APP_ID,
    bot_id: str = DEFAULT_BOT_ID,
) -> JsonDict:
    """Fill in the fields Slack adds to a view it has opened (id, hash, root_view_id...).

    A view taken from FakeSlack.views already has them and keeps its values.
    """
    full: JsonDict = dict(view)
    view_id = full.get("id") or new_view_id()
    defaults: JsonDict = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "callback_id": "",
        "private_metadata": "",
        "blocks": [],
        "state": {"values": {}},
        "hash": new_view_hash(),
        "title": plain_text("Modal"),
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "external_id": "",
        "root_view_id": view_id,
        "previous_view_id": None,
        "app_id": api_app_id,
        "app_installed_team_id": team_id,
        "bot_id": bot_id,
    }
    for key, value in defaults.items():
        full.setdefault(key, value)
    return full


def view_submission_payload(
    *,
    team_id: str,
    user_id: str,
    view: Mapping[str, Any],
    state_values: Mapping[str, Any],
    trigger_id: str,
    user_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_API_APP_ID,
    response_urls: Sequence[JsonDict] = (),
) -> JsonDict:
    """A view_submission payload; `state_values` is {block_id: {action_id: value_dict}}."""
    full_view = complete_view(view, team_id=team_id, api_app_id=api_app_id)
    full_view["state"] = {"values": dict(state_values)}
    return {
        "type": "view_submission",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": LEGACY_TOKEN,
        "trigger_id": trigger_id,
        "view": full_view,
        "response_urls": list(response_urls),
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed_payload(
    *,
    team_id: str,
    user_id: str,
    view: Mapping[str, Any],
    is_cleared: bool = False,
    user_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_API_APP_ID,
) -> JsonDict:
    """Sent only for views opened with notify_on_close; carries no trigger_id."""
    return {
        "type": "view_closed",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": LEGACY_TOKEN,
        "view": complete_view(view, team_id=team_id, api_app_id=api_app_id),
        "is_cleared": is_cleared,
        "is_enterprise_install": False,
        "enterprise": None,
    }


# ---------------------------------------------------------------------------------------------
# What a person's input on an element becomes (for clients that render the app's blocks)
# ---------------------------------------------------------------------------------------------

_TEXT_INPUTS = ("plain_text_input", "email_text_input", "url_text_input", "number_input")
_SELECTED_KEYS = {
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "users_select": "selected_user",
    "datepicker": "selected_date",
}


class UnknownOption(ValueError):
    """A chosen value that is not one of the element's options."""


def find_option(element: Mapping[str, Any], value: str) -> JsonDict:
    """The element's option (from options or option_groups) whose value is `value`."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if isinstance(option, dict) and option.get("value") == value:
            return dict(option)
    raise UnknownOption(f"{value!r} is not an option of {element.get('action_id')!r}")


def state_value(element: Mapping[str, Any], raw: Any) -> JsonDict:
    """The view.state.values entry Slack sends for an input `element` holding `raw`: the text
    typed (text inputs), the chosen option's value (selects), an id (conversation, channel or
    user selects), a list of values (checkboxes, multi selects). Empty means untouched."""
    kind = str(element.get("type"))
    empty = raw is None or raw == "" or raw == []
    if kind in _TEXT_INPUTS:
        return {"type": kind, "value": None if empty else str(raw)}
    if kind in ("static_select", "radio_buttons"):
        option = None if empty else find_option(element, str(raw))
        return {"type": kind, "selected_option": option}
    if kind in ("checkboxes", "multi_static_select"):
        values = [] if empty else [raw] if isinstance(raw, str) else list(raw)
        return {"type": kind, "selected_options": [find_option(element, str(v)) for v in values]}
    if kind in _SELECTED_KEYS:
        return {"type": kind, _SELECTED_KEYS[kind]: None if empty else str(raw)}
    return {"type": kind, "value": None if empty else raw}


def element_action(
    element: Mapping[str, Any], *, block_id: str, selected: str | None = None
) -> JsonDict:
    """The `actions[0]` of a block_actions payload when a person uses `element`: a button's
    click, or the choice `selected` (an option value, or an id for conversation selects)."""
    kind = str(element.get("type"))
    action: JsonDict = {
        "action_id": element.get("action_id") or "",
        "block_id": block_id,
        "type": kind,
        "action_ts": _action_ts(),
    }
    if kind == "button":
        action["text"] = element.get("text") or plain_text("Button")
        if "value" in element:
            action["value"] = element["value"]
        return action
    if selected is None:
        raise ValueError(f"a {kind} action needs the value chosen")
    if kind in ("static_select", "overflow", "radio_buttons"):
        action["selected_option"] = find_option(element, selected)
        if element.get("placeholder"):
            action["placeholder"] = element["placeholder"]
    elif kind in _SELECTED_KEYS:
        action[_SELECTED_KEYS[kind]] = selected
    else:
        action["value"] = selected
    return action
