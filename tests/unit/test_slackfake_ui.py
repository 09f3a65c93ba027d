"""What the fake Slack does on the person's side: escaping typed commands, showing the app's
answers, modal stacks per person, and SlackUI sending real signed requests to a stand-in bot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from slackfake import Change, FakeSlack, SlackRequester, SlackUI, payloads
from slackfake.escaping import escape_command_text
from slackfake.ui import REQUIRED

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"
CHANNEL = "C0GENERAL"
ADA, BEN = "U0ADA", "U0BEN"


def modal(title: str = "Invite member", **extra: object) -> dict[str, object]:
    return {
        "type": "modal",
        "callback_id": "invite_member",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Invite"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Add someone"}},
            {
                "type": "input",
                "block_id": "email",
                "label": {"type": "plain_text", "text": "Email"},
                "element": {"type": "email_text_input", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "role",
                "label": {"type": "plain_text", "text": "Role"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Admin"}, "value": "admin"},
                        {"text": {"type": "plain_text", "text": "Viewer"}, "value": "viewer"},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            },
        ],
        **extra,
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN) as slack:
        slack.add_channel(CHANNEL, "general")
        slack.add_channel("C0AUDIT", "minesync-audit")
        slack.add_user(ADA, email="ada@example.com", name="ada", real_name="Ada Admin")
        slack.add_user(BEN, email="ben@example.com", name="ben", real_name="Ben Planner")
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_base_url)


# -- escaping -------------------------------------------------------------------------------------


def test_typed_mentions_channels_and_emails_arrive_escaped_like_slack_sends_them(
    fake: FakeSlack,
) -> None:
    text = "role @ben admin, then #minesync-audit: nia@example.com & <b> @nobody"

    escaped = escape_command_text(text, fake.users, fake.channels)

    assert escaped == (
        "role <@U0BEN|ben> admin, then <#C0AUDIT|minesync-audit>: "
        "<mailto:nia@example.com|nia@example.com> &amp; &lt;b&gt; @nobody"
    )


# -- state values and actions ---------------------------------------------------------------------


def test_state_values_and_actions_take_slack_shapes() -> None:
    blocks = modal()["blocks"]
    role = blocks[2]["element"]  # type: ignore[index]

    assert payloads.state_value(role, "viewer") == {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "Viewer"}, "value": "viewer"},
    }
    assert payloads.state_value(role, None) == {"type": "static_select", "selected_option": None}
    assert payloads.state_value({"type": "plain_text_input"}, "") == {
        "type": "plain_text_input",
        "value": None,
    }
    assert payloads.state_value({"type": "conversations_select"}, "C1") == {
        "type": "conversations_select",
        "selected_conversation": "C1",
    }
    with pytest.raises(payloads.UnknownOption):
        payloads.state_value(role, "owner")
    button = {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}
    action = payloads.element_action(button, block_id="b1")
    assert action["type"] == "button" and "value" not in action and action["block_id"] == "b1"


# -- what Slack stores ----------------------------------------------------------------------------


async def test_blocks_without_block_id_get_one_from_slack(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "divider"}, {"type": "divider", "block_id": "mine"}]

    await client.chat_postMessage(channel=CHANNEL, text="x", blocks=blocks)

    stored = fake.messages(CHANNEL)[0]["blocks"]
    assert stored[1]["block_id"] == "mine"
    assert stored[0]["block_id"] and stored[0]["block_id"] != "mine"
    assert fake.calls_to("chat.postMessage")[0].args["blocks"] == blocks  # as sent


async def test_a_modal_belongs_to_whoever_triggered_it(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = await client.views_open(trigger_id=fake.new_trigger_id(user_id=ADA), view=modal())

    assert [v["id"] for v in fake.views_of(ADA)] == [opened["view"]["id"]]
    assert fake.views_of(BEN) == []


async def test_observers_hear_of_every_visible_change(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    seen: list[Change] = []
    unsubscribe = fake.add_observer(seen.append)

    await client.chat_postMessage(channel=CHANNEL, text="hello")
    await client.chat_postEphemeral(channel=CHANNEL, user=ADA, text="psst")
    opened = await client.views_open(trigger_id=fake.new_trigger_id(user_id=ADA), view=modal())
    fake.close_view(opened["view"]["id"])
    unsubscribe()
    await client.chat_postMessage(channel=CHANNEL, text="unheard")

    view_id = opened["view"]["id"]
    assert seen == [
        Change("message", channel_id=CHANNEL),
        Change("ephemeral", channel_id=CHANNEL, user_id=ADA),
        Change("view", user_id=ADA, view_id=view_id),
        Change("view", user_id=ADA, view_id=view_id),
    ]


# -- the app's answers ----------------------------------------------------------------------------


async def test_command_reply_is_an_ephemeral_that_response_url_can_replace(
    fake: FakeSlack,
) -> None:
    url = fake.response_url(channel_id=CHANNEL, user_id=ADA)

    shown = fake.show_command_reply(url, {"response_type": "ephemeral", "text": "Working on it…"})
    await AsyncWebhookClient(url).send(text="Done: 3 members", replace_original=True)

    assert shown is not None and shown["recipient"] == ADA
    assert [m["text"] for m in fake.ephemerals(CHANNEL)] == ["Done: 3 members"]
    assert fake.messages(CHANNEL) == []


def test_empty_command_reply_shows_nothing_and_late_one_is_reported_by_slackbot(
    fake: FakeSlack,
) -> None:
    quiet = fake.show_command_reply(fake.response_url(channel_id=CHANNEL, user_id=ADA), "")
    late = fake.show_command_reply(
        fake.response_url(channel_id=CHANNEL, user_id=ADA), {"text": "hi"}, elapsed=3.5
    )

    assert quiet is None
    assert late is not None and late["user"] == "USLACKBOT"
    assert late["text"] == '/minesync failed with the error "operation_timeout"'


async def test_view_submission_answers_act_on_the_modal_stack(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = await client.views_open(trigger_id=fake.new_trigger_id(user_id=ADA), view=modal())
    view_id = opened["view"]["id"]

    assert (
        fake.answer_view_submission(
            view_id,
            {"response_action": "errors", "errors": {"email": "No account has that email."}},
        )
        == "errors"
    )
    assert fake.view_errors(view_id) == {"email": "No account has that email."}
    assert (
        fake.answer_view_submission(view_id, {"response_action": "update", "view": modal("Done")})
        == "update"
    )
    assert fake.view_errors(view_id) == {}
    assert fake.views_of(ADA)[-1]["title"]["text"] == "Done"
    assert (
        fake.answer_view_submission(view_id, {"response_action": "push", "view": modal("Step 2")})
        == "push"
    )
    pushed = fake.views_of(ADA)[-1]
    assert pushed["previous_view_id"] == view_id and len(fake.views_of(ADA)) == 2
    assert fake.answer_view_submission(pushed["id"], "") == "closed"
    assert [v["id"] for v in fake.views_of(ADA)] == [view_id]
    fake.answer_view_submission(view_id, {"response_action": "push", "view": modal("Again")})
    assert fake.answer_view_submission(view_id, {"response_action": "clear"}) == "clear"
    assert fake.views_of(ADA) == []


# -- SlackUI against a stand-in bot ---------------------------------------------------------------


@pytest.fixture
async def bot(fake: FakeSlack) -> AsyncIterator[tuple[str, list[dict]]]:
    """A stand-in bot: verifies signatures, records what it got, answers like the real one."""
    verifier = SignatureVerifier(SECRET)
    received: list[dict] = []

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        payload = json.loads(form["payload"]) if "payload" in form else form
        received.append(payload)
        if payload.get("command"):
            client = AsyncWebClient(token=TOKEN, base_url=fake.api_base_url)
            await client.views_open(trigger_id=payload["trigger_id"], view=modal())
            return web.Response()
        if payload.get("type") == "view_submission":
            values = payload["view"]["state"]["values"]
            if values["email"]["value"]["value"] != "nia@example.com":
                return web.json_response(
                    {"response_action": "errors", "errors": {"email": "No such account."}}
                )
            return web.Response()
        return web.Response()

    app = web.Application()
    app.router.add_post("/slack/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events", received
    await runner.cleanup()


async def test_slack_ui_types_submits_and_shows_answers_as_slack(
    fake: FakeSlack, bot: tuple[str, list[dict]]
) -> None:
    url, received = bot
    async with SlackRequester(url, SECRET, source=fake) as requester:
        ui = SlackUI(fake, requester)
        typed = await ui.command(ADA, CHANNEL, "invite @ben")
        view_id = fake.views_of(ADA)[-1]["id"]
        incomplete = await ui.submit(ADA, view_id, {"role": "viewer"})
        sent_before = len(received)
        wrong = await ui.submit(ADA, view_id, {"email": "x@example.com", "role": "viewer"})
        right = await ui.submit(ADA, view_id, {"email": "nia@example.com", "role": "viewer"})

    assert typed.shown == "nothing" and typed.problem is None
    assert received[0]["text"] == "invite <@U0BEN|ben>" and received[0]["user_name"] == "ada"
    assert incomplete.shown == "required" and sent_before == 1  # the bot never heard of it
    assert wrong.shown == "errors"
    submission = received[1]
    assert submission["type"] == "view_submission" and submission["user"]["id"] == ADA
    assert submission["view"]["state"]["values"]["role"]["value"]["selected_option"]["value"] == (
        "viewer"
    )
    assert submission["view"]["state"]["values"]["note"]["value"] == {
        "type": "plain_text_input",
        "value": None,
    }
    assert right.shown == "closed" and fake.views_of(ADA) == []


async def test_slack_ui_reports_required_fields_in_the_modal(
    fake: FakeSlack, client: AsyncWebClient, bot: tuple[str, list[dict]]
) -> None:
    opened = await client.views_open(trigger_id=fake.new_trigger_id(user_id=ADA), view=modal())
    async with SlackRequester(bot[0], SECRET, source=fake) as requester:
        await SlackUI(fake, requester).submit(ADA, opened["view"]["id"], {"email": " "})

    assert fake.view_errors(opened["view"]["id"]) == {"email": REQUIRED, "role": REQUIRED}
