"""Audit-channel summaries and two-Admin removals, end to end through the real server."""

from __future__ import annotations

from slackfake import payloads
from tests.e2e.conftest import ABE, PAT, TIM
from tests.e2e.harness import AUDIT_CHANNEL, TEAM, reply_text
from tests.state import audit_actions, role_of


async def use_audit_channel(slack) -> None:
    reply = await slack.command("ada", f"config audit-channel <#{AUDIT_CHANNEL}|minesync-audit>")
    assert AUDIT_CHANNEL in reply_text(reply)


def posted(slack) -> list[dict]:
    return [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == AUDIT_CHANNEL
    ]


async def test_each_change_is_summarized_once_in_the_audit_channel(slack, uow):
    await use_audit_channel(slack)
    await slack.command("ada", f"role {PAT} admin")
    await slack.command("ada", "invite <mailto:nia@acme.example.com|nia@acme.example.com> viewer")
    await slack.wait_for(
        lambda c: (
            c.method == "chat.postMessage" and c.ok and c.args.get("channel") == AUDIT_CHANNEL
        ),
        count=3,
    )
    texts = [m["text"] for m in posted(slack)]
    assert len(texts) == 3
    assert "Planner" in texts[1] and "Admin" in texts[1] and PAT in texts[1]
    assert "nia@acme.example.com" in texts[2]


async def test_summaries_survive_slack_errors_and_rate_limits_without_duplicates(slack, uow):
    await use_audit_channel(slack)
    await slack.wait_for(lambda c: c.method == "chat.postMessage" and c.ok)
    slack.fake.fail("chat.postMessage", status=500, times=2)
    slack.fake.fail("chat.postMessage", status=429, times=1, retry_after=1)
    for role in ("technician", "viewer", "planner"):
        reply = await slack.command("ada", f"role {PAT} {role}")
        assert reply.within_ack_deadline  # a failing Slack never slows the change itself
    assert await role_of(uow, "acme", PAT) == "planner"
    await slack.wait_for(
        lambda c: (
            c.method == "chat.postMessage" and c.ok and c.args.get("channel") == AUDIT_CHANNEL
        ),
        count=4,
    )
    texts = [m["text"] for m in posted(slack)]
    assert len(texts) == len(set(texts)) == 4
    failed = [c for c in slack.fake.calls_to("chat.postMessage") if not c.ok]
    assert len(failed) == 3


async def review_click(slack, who: str, request_id: str):
    user = slack.users[who]
    payload = payloads.block_actions_payload(
        team_id=TEAM,
        user_id=user.slack_id,
        actions=[payloads.button_action("removal_review", block_id="review", value=request_id)],
        trigger_id=slack.fake.new_trigger_id(),
        channel_id=AUDIT_CHANNEL,
        message_ts="1700000000.000200",
        response_url=slack.fake.response_url(channel_id=AUDIT_CHANNEL, user_id=user.slack_id),
    )
    return await slack.sender.block_actions(payload)


async def request_removal(slack, member: str) -> str:
    """Ada asks to remove `member`; returns the request id from the Review button."""
    await slack.command("ada", f"remove {member}")
    view = await slack.opened_view("remove_member")
    assert "second Admin" in reply_text({"view": view})
    answer = await slack.submit("ada", view, {})
    assert "must approve" in reply_text(answer)
    calls = await slack.wait_for(
        lambda c: c.method == "chat.postMessage" and c.ok and "removal_review" in str(c.args)
    )
    button = next(
        e
        for b in calls[-1].args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "removal_review"
    )
    return button["value"]


async def test_two_admin_removal_is_requested_reviewed_and_approved(slack, uow):
    await use_audit_channel(slack)
    await slack.command("ada", "config removal-approvals 2")
    request_id = await request_removal(slack, PAT)
    assert await role_of(uow, "acme", PAT) == "planner"  # nothing removed yet

    await review_click(slack, "ada", request_id)
    (refusal,) = await slack.responses(1)
    assert "another Admin" in reply_text(refusal)

    await review_click(slack, "abe", request_id)
    view = await slack.opened_view("review_removal")
    answer = await slack.submit(
        "abe",
        view,
        {
            "decision": payloads.static_select_value("approve", "Approve removal"),
            "reason": payloads.plain_text_value(None),
        },
    )
    assert answer.body["response_action"] == "update"
    assert await role_of(uow, "acme", PAT) is None

    updates = await slack.wait_for("chat.update")
    assert "approved" in reply_text(updates[-1].args).lower()
    notices = await slack.wait_for(
        lambda c: c.method == "chat.postMessage" and c.args.get("channel") == "U001ADA"
    )
    assert "approved" in notices[-1].args["text"].lower()
    actions = await audit_actions(uow, "acme")
    assert actions[-3:] == ["member.removal_requested", "member.removal_approved", "member.removed"]


async def test_rejection_needs_a_reason_and_keeps_the_member(slack, uow):
    await use_audit_channel(slack)
    await slack.command("ada", "config removal-approvals 2")
    request_id = await request_removal(slack, TIM)
    await review_click(slack, "abe", request_id)
    view = await slack.opened_view("review_removal")
    reject = payloads.static_select_value("reject", "Reject")
    answer = await slack.submit(
        "abe", view, {"decision": reject, "reason": payloads.plain_text_value(None)}
    )
    assert answer.body["response_action"] == "errors" and "reason" in answer.body["errors"]
    answer = await slack.submit(
        "abe",
        view,
        {
            "decision": reject,
            "reason": payloads.plain_text_value("Tim is on the night shift"),
        },
    )
    assert answer.body["response_action"] == "update"
    assert await role_of(uow, "acme", TIM) == "technician"
    assert (await audit_actions(uow, "acme"))[-1] == "member.removal_rejected"
    assert ABE  # the reviewer is the second Admin of the fixture
