"""The fake Slack, driven through slack_sdk's real AsyncWebClient over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import Clock as SdkClock
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from slackfake import FakeSlack, ManualClock, SlackRequester, payloads, sign, verify

TOKEN = "xoxb-test-token"
CHANNEL = "C0ADMINS"
ALICE = "U0ALICE"

# Known-answer vector from slack-sdk's tests/slack_sdk/signature/test_signature_verifier.py.
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TIMESTAMP = 1531420618
VECTOR_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, clock=clock) as slack:
        slack.add_channel(CHANNEL, "minesync-admins")
        slack.add_user(ALICE, email="alice@example.com", name="alice", real_name="Alice Liddell")
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_base_url)


def modal(title: str = "Add member", **extra: object) -> dict[str, object]:
    return {
        "type": "modal",
        "callback_id": "add_member",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Add"},
        "blocks": [
            {
                "type": "input",
                "block_id": "email",
                "label": {"type": "plain_text", "text": "Email"},
                "element": {"type": "email_text_input", "action_id": "value"},
            }
        ],
        **extra,
    }


# -- signing --------------------------------------------------------------------------------------


def test_sign_matches_slack_known_answer_vector() -> None:
    headers = sign(VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP)

    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": VECTOR_SIGNATURE,
    }


def test_verify_accepts_fresh_signature_and_rejects_tampering_and_staleness() -> None:
    headers = sign(VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP)

    assert verify(VECTOR_SECRET, VECTOR_BODY, headers, now=VECTOR_TIMESTAMP + 10)
    assert not verify(VECTOR_SECRET, VECTOR_BODY + b"x", headers, now=VECTOR_TIMESTAMP)
    assert not verify("other-secret", VECTOR_BODY, headers, now=VECTOR_TIMESTAMP)
    assert not verify(VECTOR_SECRET, VECTOR_BODY, headers, now=VECTOR_TIMESTAMP + 301)


def test_signatures_are_accepted_by_slack_sdk_verifier() -> None:
    class FixedClock(SdkClock):
        def now(self) -> float:
            return VECTOR_TIMESTAMP + 1

    verifier = SignatureVerifier(VECTOR_SECRET, clock=FixedClock())

    assert verifier.is_valid_request(
        VECTOR_BODY, sign(VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP)
    )


# -- Web API --------------------------------------------------------------------------------------


async def test_post_message_is_recorded_and_stored(fake: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Member added*"}}]

    response = await client.chat_postMessage(channel=CHANNEL, text="Member added", blocks=blocks)

    assert response["channel"] == CHANNEL
    [call] = await fake.wait_for("chat.postMessage")
    assert call.args["channel"] == CHANNEL
    assert call.args["blocks"] == blocks
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.status == 200 and call.ok
    [message] = fake.messages(CHANNEL)
    assert message["ts"] == response["ts"]
    assert message["text"] == "Member added"


async def test_update_and_delete_act_on_stored_messages(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="v1")

    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="v2")
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["v2"]

    await client.chat_delete(channel=CHANNEL, ts=posted["ts"])
    assert fake.messages(CHANNEL) == []
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="v3")
    assert err.value.response["error"] == "message_not_found"


async def test_unknown_channel_is_refused_by_default(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0NOWHERE", text="hello")

    assert err.value.response["error"] == "channel_not_found"


async def test_users_info_is_a_get_and_includes_email(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    response = await client.users_info(user=ALICE)

    assert response["user"]["profile"]["email"] == "alice@example.com"
    assert response["user"]["real_name"] == "Alice Liddell"
    [call] = fake.calls_to("users.info")
    assert call.http_method == "GET"
    assert call.args["user"] == ALICE


async def test_email_is_withheld_without_the_email_scope() -> None:
    async with FakeSlack(token=TOKEN, scopes={"users:read", "chat:write"}) as fake:
        fake.add_user(ALICE, email="alice@example.com", name="alice")
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_base_url)

        response = await client.users_info(user=ALICE)
        with pytest.raises(SlackApiError) as err:
            await client.users_lookupByEmail(email="alice@example.com")

    assert "email" not in response["user"]["profile"]
    assert err.value.response["error"] == "missing_scope"


async def test_lookup_by_email_and_unknown_user(client: AsyncWebClient) -> None:
    found = await client.users_lookupByEmail(email="ALICE@example.com")
    assert found["user"]["id"] == ALICE

    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"


async def test_wrong_or_missing_token_is_refused(fake: FakeSlack) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_base_url)
    anonymous = AsyncWebClient(base_url=fake.api_base_url)

    with pytest.raises(SlackApiError) as wrong_err:
        await wrong.auth_test()
    with pytest.raises(SlackApiError) as missing_err:
        await anonymous.auth_test()

    assert wrong_err.value.response["error"] == "invalid_auth"
    assert missing_err.value.response["error"] == "not_authed"


async def test_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.api_call("no.suchMethod")

    assert err.value.response["error"] == "unknown_method"


# -- failure injection ----------------------------------------------------------------------------


async def test_injected_429_carries_retry_after(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=CHANNEL, text="hi")

    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"
    # The failure was for one call only.
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]


async def test_rate_limit_every_nth_call(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.rate_limit_every("users.info", 3, retry_after=2)

    statuses = []
    for _ in range(6):
        try:
            await client.users_info(user=ALICE)
            statuses.append(200)
        except SlackApiError as exc:
            assert exc.response.headers["Retry-After"] == "2"
            statuses.append(exc.response.status_code)

    assert statuses == [200, 200, 429, 200, 200, 429]


async def test_injected_error_code_and_server_error(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail("conversations.info", status="fatal_error")
    fake.fail("auth.test", status=503)

    with pytest.raises(SlackApiError) as coded:
        await client.conversations_info(channel=CHANNEL)
    with pytest.raises(SlackApiError) as server:
        await client.auth_test()

    assert coded.value.response.status_code == 200
    assert coded.value.response["error"] == "fatal_error"
    assert server.value.response.status_code == 503


async def test_per_channel_post_message_rate_limit(
    fake: FakeSlack, client: AsyncWebClient, clock: ManualClock
) -> None:
    fake.set_post_message_rate_limit(1.0)
    await client.chat_postMessage(channel=CHANNEL, text="first")

    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=CHANNEL, text="too soon")
    assert err.value.response.status_code == 429
    assert "Retry-After" in err.value.response.headers

    clock.advance(1.0)
    assert (await client.chat_postMessage(channel=CHANNEL, text="later"))["ok"]


async def test_injected_timeout_makes_the_client_time_out(fake: FakeSlack) -> None:
    fake.fail("users.info", status="timeout")
    impatient = AsyncWebClient(token=TOKEN, base_url=fake.api_base_url, timeout=1)

    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        await impatient.users_info(user=ALICE)

    assert time.perf_counter() - started < 5
    [call] = fake.calls_to("users.info")
    assert call.injected == "timeout"
    assert not call.answered
    assert (await impatient.users_info(user=ALICE))["ok"]


async def test_stop_does_not_wait_for_a_pending_injected_timeout() -> None:
    fake = await FakeSlack(token=TOKEN).start()
    fake.fail("auth.test", status="timeout")
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_base_url, timeout=1)
    with pytest.raises(TimeoutError):
        await client.auth_test()

    started = time.perf_counter()
    await fake.stop()

    assert time.perf_counter() - started < 2


# -- views and trigger_ids ------------------------------------------------------------------------


async def test_trigger_id_expires_after_three_seconds(
    fake: FakeSlack, client: AsyncWebClient, clock: ManualClock
) -> None:
    fresh = fake.new_trigger_id()
    stale = fake.new_trigger_id()
    clock.advance(2.9)
    opened = await client.views_open(trigger_id=fresh, view=modal())
    clock.advance(0.2)

    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id=stale, view=modal())

    assert err.value.response["error"] == "expired_trigger_id"
    assert opened["view"]["id"] in fake.views


async def test_trigger_id_is_single_use_and_must_be_issued(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    trigger_id = fake.new_trigger_id()
    opened = await client.views_open(trigger_id=trigger_id, view=modal())

    with pytest.raises(SlackApiError) as reused:
        await client.views_open(trigger_id=trigger_id, view=modal())
    with pytest.raises(SlackApiError) as forged:
        await client.views_open(trigger_id="123.456.abcdef", view=modal())

    view = opened["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"] and view["hash"]
    assert view["callback_id"] == "add_member"
    assert reused.value.response["error"] == "expired_trigger_id"
    assert forged.value.response["error"] == "invalid_trigger_id"


async def test_modal_title_over_24_characters_is_refused(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    await client.views_open(trigger_id=fake.new_trigger_id(), view=modal("x" * 24))

    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id=fake.new_trigger_id(), view=modal("x" * 25))

    assert err.value.response["error"] == "invalid_arguments"
    assert any("/view/title/text" in e for e in err.value.response["errors"])
    assert len(fake.views) == 1


async def test_message_block_limits(fake: FakeSlack, client: AsyncWebClient) -> None:
    divider = {"type": "divider"}
    await client.chat_postMessage(channel=CHANNEL, text="ok", blocks=[divider] * 50)

    with pytest.raises(SlackApiError) as too_many:
        await client.chat_postMessage(channel=CHANNEL, text="no", blocks=[divider] * 51)
    long_button = {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}
        ],
    }
    with pytest.raises(SlackApiError) as too_long:
        await client.chat_postMessage(channel=CHANNEL, text="no", blocks=[long_button])

    assert too_many.value.response["error"] == "invalid_blocks"
    assert too_long.value.response["errors"] == [
        "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"
    ]
    assert len(fake.messages(CHANNEL)) == 1


async def test_views_update_checks_hash_and_push_stack_limit(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = (await client.views_open(trigger_id=fake.new_trigger_id(), view=modal()))["view"]

    updated = await client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal("Step 2")
    )
    with pytest.raises(SlackApiError) as conflict:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
    for _ in range(2):
        await client.views_push(trigger_id=fake.new_trigger_id(), view=modal())
    with pytest.raises(SlackApiError) as full:
        await client.views_push(trigger_id=fake.new_trigger_id(), view=modal())

    assert updated["view"]["id"] == opened["id"]
    assert fake.views[opened["id"]]["title"]["text"] == "Step 2"
    assert conflict.value.response["error"] == "hash_conflict"
    assert full.value.response["error"] == "push_limit_reached"
    assert len(fake.views) == 3


# -- response_url ---------------------------------------------------------------------------------


async def test_response_url_posts_are_recorded_and_limited_to_five(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="Pending")
    url = fake.response_url(channel_id=CHANNEL, message_ts=posted["ts"], user_id=ALICE)
    webhook = AsyncWebhookClient(url)

    first = await webhook.send(text="Done", replace_original=True)
    for _ in range(4):
        await webhook.send(text="again", response_type="ephemeral")
    sixth = await webhook.send(text="one too many")

    calls = await fake.wait_for("response_url", count=6)
    assert first.status_code == 200 and first.body == "ok"
    assert calls[0].args["replace_original"] is True
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["Done"]
    assert [m["recipient"] for m in fake.ephemerals(CHANNEL)] == [ALICE] * 4
    assert sixth.status_code == 404 and sixth.body == "used_url"


async def test_response_url_expires_after_thirty_minutes(
    fake: FakeSlack, clock: ManualClock
) -> None:
    webhook = AsyncWebhookClient(fake.response_url(channel_id=CHANNEL))
    clock.advance(30 * 60 + 1)

    response = await webhook.send(text="late")

    assert response.status_code == 404 and response.body == "expired_url"


# -- recording ------------------------------------------------------------------------------------


async def test_wait_for_times_out_listing_calls_seen(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    await client.auth_test()

    with pytest.raises(TimeoutError, match=r"auth\.test -> 200"):
        await fake.wait_for("chat.postMessage", timeout=0.2)


async def test_reset_forgets_calls_and_messages(fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel=CHANNEL, text="hi")
    fake.fail("auth.test", status=500)

    fake.reset()

    assert fake.calls == [] and fake.messages(CHANNEL) == []
    assert (await client.auth_test())["ok"]  # the queued failure is gone too


# -- SlackRequester -------------------------------------------------------------------------------


SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
async def bot_url() -> AsyncIterator[str]:
    """A stand-in for the bot: checks signatures with slack_sdk and echoes the form back."""
    verifier = SignatureVerifier(SIGNING_SECRET)

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401, text="invalid signature")
        return web.json_response({k: v[0] for k, v in parse_qs(body.decode()).items()})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/slack/events"
    await runner.cleanup()


async def test_requester_sends_signed_slash_commands(bot_url: str, fake: FakeSlack) -> None:
    async with SlackRequester(bot_url, SIGNING_SECRET, source=fake) as slack:
        reply = await slack.command(
            "members add bob@example.com", user_id=ALICE, channel_id=CHANNEL
        )

    assert reply.status == 200
    assert reply.within_ack_deadline
    assert reply.body["command"] == "/minesync"
    assert reply.body["text"] == "members add bob@example.com"
    assert reply.body["response_url"].startswith(fake.base_url + "/response/")
    # The trigger_id came from the fake, so the bot can really open a modal with it.
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_base_url)
    assert (await client.views_open(trigger_id=reply.body["trigger_id"], view=modal()))["ok"]


async def test_requester_can_forge_and_replay(bot_url: str) -> None:
    async with SlackRequester(bot_url, SIGNING_SECRET) as slack:
        forged = await slack.command("x", user_id=ALICE, channel_id=CHANNEL, secret="wrong")
        stale = await slack.command(
            "x", user_id=ALICE, channel_id=CHANNEL, timestamp=int(time.time()) - 600
        )

    assert forged.status == 401
    assert stale.status == 401


async def test_requester_sends_interactions_as_payload_field(bot_url: str) -> None:
    view = payloads.complete_view(modal(), team_id="T0MINESYNC")
    submission = payloads.view_submission_payload(
        team_id="T0MINESYNC",
        user_id=ALICE,
        view=view,
        state_values={"email": {"value": payloads.email_value("bob@example.com")}},
        trigger_id="1.2.3",
    )

    async with SlackRequester(bot_url, SIGNING_SECRET) as slack:
        reply = await slack.view_submission(submission)

    sent = json.loads(reply.body["payload"])
    assert sent["type"] == "view_submission"
    assert sent["view"]["id"] == view["id"]
    assert sent["view"]["callback_id"] == "add_member"
    assert sent["view"]["state"]["values"]["email"]["value"] == {
        "type": "email_text_input",
        "value": "bob@example.com",
    }


def test_block_actions_payload_from_message() -> None:
    payload = payloads.block_actions_payload(
        team_id="T0MINESYNC",
        user_id=ALICE,
        actions=[payloads.static_select_action("role", block_id="b1", value="admin")],
        trigger_id="1.2.3",
        channel_id=CHANNEL,
        message_ts="1700000000.000100",
        response_url="http://example.invalid/response/x",
    )

    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    assert payload["actions"][0]["selected_option"]["value"] == "admin"
    assert payload["user"] == {
        "id": ALICE,
        "username": "u0alice",
        "name": "u0alice",
        "team_id": "T0MINESYNC",
    }
    assert payload["response_url"] == "http://example.invalid/response/x"
    assert payloads.static_select_value(None) == {
        "type": "static_select",
        "selected_option": None,
    }
