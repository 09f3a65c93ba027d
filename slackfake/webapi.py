"""The Web API methods the bot uses, as pure functions of (workspace, arguments).

Each handler returns the `{"ok": true, ...}` body or raises ApiError; HTTP concerns (auth,
failure injection, recording) live in server.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from slackfake import blockkit
from slackfake.payloads import new_view_hash, new_view_id
from slackfake.state import (
    MAX_VIEW_STACK,
    ApiError,
    JsonDict,
    User,
    ViewStack,
    Workspace,
    fill_block_ids,
)

EMAIL_SCOPE = "users:read.email"


@dataclass(frozen=True)
class BotIdentity:
    token: str
    team_id: str
    team_name: str
    team_domain: str
    bot_user_id: str
    bot_id: str
    app_id: str
    bot_name: str
    scopes: frozenset[str]


@dataclass
class Context:
    ws: Workspace
    bot: BotIdentity


Handler = Callable[[Context, JsonDict], JsonDict]


# -- argument helpers -----------------------------------------------------------------------------


def _json_field(args: JsonDict, key: str, error: str) -> Any:
    """Blocks and views arrive as objects in JSON bodies but as JSON strings in form bodies."""
    value = args.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ApiError(error, errors=[f"{key} is not valid JSON: {exc}"]) from None
    return value


def _flag(args: JsonDict, key: str) -> bool:
    return args.get(key) in (True, "true", "1", 1)


def _invalid(error: str, problems: Collection[blockkit.Problem]) -> ApiError:
    messages = [str(p) for p in problems]
    return ApiError(error, errors=messages, response_metadata={"messages": messages})


def message_content(args: JsonDict) -> JsonDict:
    """Text/blocks/attachments of a message, checked against Slack's limits."""
    text = args.get("text")
    text = text if isinstance(text, str) else ""
    content: JsonDict = {"text": text}
    blocks = _json_field(args, "blocks", "invalid_blocks_format")
    if blocks is not None:
        problems = blockkit.check_message_blocks(blocks)
        if problems:
            raise _invalid("invalid_blocks", problems)
        content["blocks"] = fill_block_ids(blocks)
    attachments = _json_field(args, "attachments", "invalid_attachments")
    if attachments is not None:
        content["attachments"] = attachments
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    if len(text) > blockkit.MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    return content


def _copy(value: JsonDict) -> JsonDict:
    # Responses are recorded; copying keeps later updates from rewriting history.
    return copy.deepcopy(value)


# -- auth / users / conversations -----------------------------------------------------------------


def auth_test(ctx: Context, args: JsonDict) -> JsonDict:
    bot = ctx.bot
    return {
        "ok": True,
        "url": f"https://{bot.team_domain}.slack.com/",
        "team": bot.team_name,
        "user": bot.bot_name,
        "team_id": bot.team_id,
        "user_id": bot.bot_user_id,
        "bot_id": bot.bot_id,
        "is_enterprise_install": False,
    }


def _user_object(ctx: Context, user: User) -> JsonDict:
    profile: JsonDict = {
        "real_name": user.real_name,
        "display_name": user.name,
        "team": user.team_id,
    }
    # Without users:read.email Slack silently leaves the email out rather than failing.
    if user.email is not None and not user.is_bot and EMAIL_SCOPE in ctx.bot.scopes:
        profile["email"] = user.email
    return {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "deleted": False,
        "real_name": user.real_name,
        "is_bot": user.is_bot,
        "is_admin": False,
        "is_owner": False,
        "is_app_user": False,
        "profile": profile,
    }


def users_info(ctx: Context, args: JsonDict) -> JsonDict:
    return {"ok": True, "user": _user_object(ctx, ctx.ws.user(args.get("user")))}


def users_lookup_by_email(ctx: Context, args: JsonDict) -> JsonDict:
    if EMAIL_SCOPE not in ctx.bot.scopes:
        raise ApiError("missing_scope", needed=EMAIL_SCOPE, provided=",".join(ctx.bot.scopes))
    email = args.get("email")
    if not isinstance(email, str) or not email:
        raise ApiError("invalid_arguments")
    for user in ctx.ws.users.values():
        if user.email is not None and not user.is_bot and user.email.lower() == email.lower():
            return {"ok": True, "user": _user_object(ctx, user)}
    raise ApiError("users_not_found")


def conversations_info(ctx: Context, args: JsonDict) -> JsonDict:
    channel = ctx.ws.channel(args.get("channel"))
    return {
        "ok": True,
        "channel": {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": not channel.is_private and not channel.is_im,
            "is_group": channel.is_private and not channel.is_im,
            "is_im": channel.is_im,
            "is_private": channel.is_private,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
        },
    }


# -- chat -----------------------------------------------------------------------------------------


def chat_post_message(ctx: Context, args: JsonDict) -> JsonDict:
    channel = ctx.ws.channel(args.get("channel"))
    content = message_content(args)
    ts = ctx.ws.next_ts()
    message: JsonDict = {
        "type": "message",
        "user": ctx.bot.bot_user_id,
        "bot_id": ctx.bot.bot_id,
        "app_id": ctx.bot.app_id,
        "team": ctx.bot.team_id,
        "ts": ts,
        **content,
    }
    if args.get("thread_ts"):
        message["thread_ts"] = str(args["thread_ts"])
    ctx.ws.messages.setdefault(channel.id, []).append(message)
    return {"ok": True, "channel": channel.id, "ts": ts, "message": _copy(message)}


def chat_post_ephemeral(ctx: Context, args: JsonDict) -> JsonDict:
    channel = ctx.ws.channel(args.get("channel"))
    user = ctx.ws.user(args.get("user"))
    content = message_content(args)
    ts = ctx.ws.next_ts()
    # "recipient" is the fake's own bookkeeping: who alone sees this message.
    message: JsonDict = {"type": "message", "ts": ts, "recipient": user.id, **content}
    ctx.ws.ephemerals.setdefault(channel.id, []).append(message)
    return {"ok": True, "message_ts": ts}


def chat_update(ctx: Context, args: JsonDict) -> JsonDict:
    channel = ctx.ws.channel(args.get("channel"))
    message = ctx.ws.find_message(channel.id, args.get("ts"))
    content = message_content(args)
    message["text"] = content["text"]
    for key in ("blocks", "attachments"):
        if key in content:
            message[key] = content[key]
    message["edited"] = {"user": ctx.bot.bot_user_id, "ts": ctx.ws.next_ts()}
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message["ts"],
        "text": message["text"],
        "message": _copy(message),
    }


def chat_delete(ctx: Context, args: JsonDict) -> JsonDict:
    channel = ctx.ws.channel(args.get("channel"))
    message = ctx.ws.find_message(channel.id, args.get("ts"))
    ctx.ws.messages[channel.id].remove(message)
    return {"ok": True, "channel": channel.id, "ts": message["ts"]}


# -- views ----------------------------------------------------------------------------------------


def _submitted_view(args: JsonDict) -> JsonDict:
    view = _json_field(args, "view", "invalid_arguments")
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", errors=["[ERROR] missing required field: view"])
    if blockkit.view_size(view) > blockkit.MAX_VIEW_BYTES:
        raise ApiError("view_too_large")
    problems = blockkit.check_view(view)
    if problems:
        raise _invalid("invalid_arguments", problems)
    return view


def _build_view(
    ctx: Context, submitted: JsonDict, *, view_id: str, root_view_id: str, previous: str | None
) -> JsonDict:
    """The view as Slack stores and returns it: the app's fields plus Slack's own."""
    return {
        "id": view_id,
        "team_id": ctx.bot.team_id,
        "type": submitted.get("type", "modal"),
        "blocks": fill_block_ids(submitted.get("blocks", [])),
        "private_metadata": submitted.get("private_metadata", ""),
        "callback_id": submitted.get("callback_id", ""),
        "state": {"values": {}},
        "hash": new_view_hash(),
        "title": submitted.get("title"),
        "clear_on_close": bool(submitted.get("clear_on_close", False)),
        "notify_on_close": bool(submitted.get("notify_on_close", False)),
        "close": submitted.get("close"),
        "submit": submitted.get("submit"),
        "previous_view_id": previous,
        "root_view_id": root_view_id,
        "app_id": ctx.bot.app_id,
        "external_id": submitted.get("external_id", ""),
        "app_installed_team_id": ctx.bot.team_id,
        "bot_id": ctx.bot.bot_id,
    }


def _check_external_id(ctx: Context, submitted: JsonDict, own_id: str | None = None) -> None:
    external_id = submitted.get("external_id")
    if not external_id:
        return
    for view in ctx.ws.views.values():
        if view["id"] != own_id and view.get("external_id") == external_id:
            raise ApiError("duplicate_external_id")


def views_open(ctx: Context, args: JsonDict) -> JsonDict:
    if not args.get("trigger_id"):
        raise ApiError("invalid_arguments", errors=["[ERROR] missing required field: trigger_id"])
    submitted = _submitted_view(args)
    _check_external_id(ctx, submitted)
    trigger = ctx.ws.use_trigger(args["trigger_id"])
    view_id = new_view_id()
    view = _build_view(ctx, submitted, view_id=view_id, root_view_id=view_id, previous=None)
    ctx.ws.views[view_id] = view
    ctx.ws.stacks[view_id] = ViewStack([view_id])
    ctx.ws.view_owners[view_id] = trigger.user_id
    return {"ok": True, "view": _copy(view)}


def views_push(ctx: Context, args: JsonDict) -> JsonDict:
    if not args.get("trigger_id"):
        raise ApiError("invalid_arguments", errors=["[ERROR] missing required field: trigger_id"])
    submitted = _submitted_view(args)
    _check_external_id(ctx, submitted)
    trigger = ctx.ws.use_trigger(args["trigger_id"])
    # Push onto the stack the interaction came from; a trigger_id not tied to a view (the
    # usual case in tests) means the most recently opened modal.
    if trigger.view_id is not None and trigger.view_id in ctx.ws.views:
        root_id = ctx.ws.views[trigger.view_id]["root_view_id"]
    elif ctx.ws.stacks:
        root_id = next(reversed(ctx.ws.stacks))
    else:
        raise ApiError("not_found")
    return {"ok": True, "view": _copy(_push(ctx, root_id, submitted))}


def push_view(ctx: Context, root_id: str, args: JsonDict) -> JsonDict:
    """Push `args["view"]` onto the stack rooted at `root_id` (response_action "push")."""
    submitted = _submitted_view(args)
    _check_external_id(ctx, submitted)
    return _push(ctx, root_id, submitted)


def _push(ctx: Context, root_id: str, submitted: JsonDict) -> JsonDict:
    stack = ctx.ws.stacks[root_id]
    if len(stack.view_ids) >= MAX_VIEW_STACK:
        raise ApiError("push_limit_reached")
    view_id = new_view_id()
    view = _build_view(
        ctx, submitted, view_id=view_id, root_view_id=root_id, previous=stack.view_ids[-1]
    )
    ctx.ws.views[view_id] = view
    stack.view_ids.append(view_id)
    return view


def views_update(ctx: Context, args: JsonDict) -> JsonDict:
    if not args.get("view_id") and not args.get("external_id"):
        raise ApiError("invalid_arguments", errors=["[ERROR] view_id or external_id required"])
    current = ctx.ws.find_view(args.get("view_id"), args.get("external_id"))
    # The hash makes concurrent updates safe: an update based on a stale view is refused.
    if args.get("hash") and args["hash"] != current["hash"]:
        raise ApiError("hash_conflict")
    return {"ok": True, "view": _copy(replace_view(ctx, current, args))}


def replace_view(ctx: Context, current: JsonDict, args: JsonDict) -> JsonDict:
    """Replace `current` with `args["view"]`, keeping its id and place in the stack
    (views.update, and response_action "update")."""
    submitted = _submitted_view(args)
    _check_external_id(ctx, submitted, own_id=current["id"])
    view = _build_view(
        ctx,
        submitted,
        view_id=current["id"],
        root_view_id=current["root_view_id"],
        previous=current["previous_view_id"],
    )
    view["state"] = current["state"]
    if not submitted.get("external_id"):
        view["external_id"] = current.get("external_id", "")
    ctx.ws.views[view["id"]] = view
    ctx.ws.view_errors.pop(view["id"], None)
    return view


def views_publish(ctx: Context, args: JsonDict) -> JsonDict:
    user = ctx.ws.user(args.get("user_id"))
    submitted = _submitted_view(args)
    if submitted.get("type") != "home":
        raise ApiError("invalid_arguments", errors=["[ERROR] view type must be home"])
    current = ctx.ws.home_views.get(user.id)
    if current is not None and args.get("hash") and args["hash"] != current["hash"]:
        raise ApiError("hash_conflict")
    view_id = current["id"] if current else new_view_id()
    view = _build_view(ctx, submitted, view_id=view_id, root_view_id=view_id, previous=None)
    ctx.ws.home_views[user.id] = view
    return {"ok": True, "view": _copy(view)}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "conversations.info": conversations_info,
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
