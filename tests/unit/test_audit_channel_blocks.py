"""The audit channel's messages and the Review modal: what people read, within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.audit_channel import render_outbox_message
from bot.blocks.review import build_review_done_modal, build_review_modal
from handlers.members import MemberChange
from handlers.removals import RemovalRequestView, RemovalResolution
from handlers.roles import Role
from slackfake.blockkit import check_message_blocks, check_view

ADA = "ada@acme.example.com"
PAT = "pat@acme.example.com"
AT = "2025-03-04T05:06:07.000000+00:00"
CREATED = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)


def summary(action: str, before: Any = None, after: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "organization": "Acme Mining",
        "seq": 7,
        "at": AT,
        "action": action,
        "actor": ADA,
        "target": PAT,
        "before": before,
        "after": after,
    } | extra


def request_payload(**extra: Any) -> dict[str, Any]:
    return {
        "request_id": 42,
        "organization": "Acme Mining",
        "organization_slug": "acme",
        "email": PAT,
        "name": "Pat",
        "role": "planner",
        "requested_by": ADA,
        "expires_at": AT,
    } | extra


def resolved_payload(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "request_id": 42,
        "organization": "Acme Mining",
        "email": PAT,
        "name": "Pat",
        "role": "planner",
        "requested_by": ADA,
        "status": status,
        "resolved_by": "abe@acme.example.com",
        "resolved_at": AT,
        "reason": "Pat runs the night shift" if status == "rejected" else None,
    } | extra


def texts(message: dict[str, Any]) -> list[str]:
    """Every text a person sees in the blocks, in order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message["blocks"])
    return found


def state(member_role: Role | None = Role.PLANNER, **extra: Any) -> RemovalRequestView:
    fields = {
        "id": 42,
        "organization": "Acme Mining",
        "organization_slug": "acme",
        "user_id": 9,
        "email": PAT,
        "name": "Pat",
        "role": member_role,
        "requested_by": ADA,
        "requested_by_user_id": 3,
        "created_at": CREATED,
        "expires_at": CREATED + timedelta(hours=24),
        "status": "pending",
    } | extra
    return RemovalRequestView(**fields)


ALL_KINDS = [
    ("audit_summary", summary("member.role_changed", {"role": "planner"}, {"role": "admin"})),
    ("removal_request", request_payload()),
    ("removal_resolved", resolved_payload("approved")),
    ("removal_resolved", resolved_payload("rejected")),
    ("removal_resolved", resolved_payload("expired", resolved_by="system")),
    ("direct_notice", {"text": "Your request to remove Pat was approved."}),
]


@pytest.mark.parametrize(("kind", "payload"), ALL_KINDS)
def test_every_kind_renders_blocks_slack_accepts(kind, payload):
    message = render_outbox_message(kind, payload)
    assert message["text"]
    assert message["blocks"]
    assert check_message_blocks(message["blocks"]) == []


def test_the_review_button_carries_the_request_id():
    message = render_outbox_message("removal_request", request_payload(request_id=42))
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    [button] = actions["elements"]
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        "removal_review",
        "42",
        "Review",
    )


def test_the_request_names_who_asks_to_remove_whom_and_until_when():
    message = render_outbox_message("removal_request", request_payload())
    shown = "\n".join(texts(message))
    assert "*ada@acme.example.com* asks to remove *Pat* (pat@acme.example.com) from " in shown
    assert "*Acme Mining*. Their role there: Planner." in shown
    assert "another Admin, not the requester or the member, must approve or reject" in shown
    assert "Request #42 · expires 2025-03-04 05:06 UTC" in shown
    assert message["text"].startswith("*ada@acme.example.com* asks to remove *Pat*")


@pytest.mark.parametrize(
    ("payload", "line"),
    [
        (
            summary("member.role_changed", {"role": "planner"}, {"role": "admin"}),
            f"*{ADA}* changed {PAT}'s role in *Acme Mining*: Planner → Admin.",
        ),
        (
            summary("member.invited", None, {"email": PAT, "name": "Pat", "role": "technician"}),
            f"*{ADA}* invited {PAT} to *Acme Mining* as Technician.",
        ),
        (
            summary("user.created", None, {"email": PAT, "name": "Pat Doe", "role": "viewer"}),
            f"*{ADA}* created the account {PAT} (Pat Doe) in *Acme Mining* as Viewer.",
        ),
        (
            summary("member.removed", {"email": PAT, "name": "Pat", "role": "planner"}, None),
            f"*{ADA}* removed {PAT} from *Acme Mining* (was Planner). The account is kept.",
        ),
        (
            summary(
                "org.audit_channel_changed",
                {"audit_channel": None},
                {"audit_channel": "C0AUDIT"},
                actor="cli",
                target="acme",
            ),
            "An operator set the audit channel of *Acme Mining* to <#C0AUDIT>.",
        ),
        (
            summary(
                "org.audit_channel_changed",
                {"audit_channel": "C0OLD"},
                {"audit_channel": "C0NEW"},
                target="acme",
            ),
            f"*{ADA}* set the audit channel of *Acme Mining* to <#C0NEW> (was <#C0OLD>).",
        ),
        (
            summary(
                "org.removal_approvals_changed",
                {"removal_approvals": 1},
                {"removal_approvals": 2},
                target="acme",
            ),
            f"*{ADA}* set removal approvals in *Acme Mining* to 2: a second Admin must now "
            "approve each removal.",
        ),
        (
            summary(
                "org.removal_approvals_changed",
                {"removal_approvals": 2},
                {"removal_approvals": 1},
                target="acme",
            ),
            f"*{ADA}* set removal approvals in *Acme Mining* to 1: Admins now remove members "
            "directly.",
        ),
        (
            summary(
                "members.imported",
                None,
                {"members": 3, "accounts_created": 1, "Admin": 1, "Viewer": 2},
                target="crew.csv",
            ),
            f"*{ADA}* imported 3 members into *Acme Mining* from crew.csv (1 new account; "
            "Admin 1, Viewer 2).",
        ),
        (
            summary(
                "member.removal_requested",
                {"email": PAT, "name": "Pat", "role": "planner"},
                {
                    "email": PAT,
                    "name": "Pat",
                    "role": "planner",
                    "pending_removal": True,
                    "request_id": 42,
                },
            ),
            f"*{ADA}* asked to remove {PAT} (Planner) from *Acme Mining*. A second Admin must "
            "approve (request #42).",
        ),
        (
            summary(
                "member.removal_approved",
                {"request_id": 42, "requested_by": ADA, "status": "pending"},
                {"request_id": 42, "requested_by": ADA, "status": "approved"},
                actor="abe@acme.example.com",
            ),
            f"*abe@acme.example.com* approved removing {PAT} from *Acme Mining* (request #42, "
            f"asked by {ADA}).",
        ),
        (
            summary(
                "member.removal_rejected",
                {"request_id": 42, "requested_by": ADA, "status": "pending"},
                {"request_id": 42, "requested_by": ADA, "status": "rejected", "reason": "No"},
                actor="abe@acme.example.com",
            ),
            f"*abe@acme.example.com* rejected removing {PAT} from *Acme Mining* (request #42, "
            f"asked by {ADA}). Reason: “No”",
        ),
        (
            summary(
                "member.removal_expired",
                {"request_id": 42, "requested_by": ADA, "status": "pending"},
                {"request_id": 42, "requested_by": ADA, "status": "expired"},
                actor="system",
            ),
            f"The request #42 by {ADA} to remove {PAT} from *Acme Mining* expired without a "
            f"second Admin's review; {PAT} keeps their access.",
        ),
        (
            summary("member.nickname_changed", {"nick": "P"}, {"nick": "Paddy"}),
            f"*{ADA}*: member.nickname_changed on {PAT} in *Acme Mining* (nick: P → Paddy).",
        ),
    ],
)
def test_audit_summaries_say_what_happened(payload, line):
    message = render_outbox_message("audit_summary", payload)
    assert texts(message) == [line, "Audit entry #7 · 2025-03-04 05:06 UTC"]
    assert message["text"] == line


@pytest.mark.parametrize(
    ("status", "header", "says"),
    [
        (
            "approved",
            "Removal approved · Acme Mining",
            "*abe@acme.example.com* approved removing *Pat* (pat@acme.example.com) from "
            "*Acme Mining*, as *ada@acme.example.com* asked. They no longer have access",
        ),
        (
            "rejected",
            "Removal rejected · Acme Mining",
            "*abe@acme.example.com* rejected removing *Pat* (pat@acme.example.com) from "
            "*Acme Mining*, which *ada@acme.example.com* asked for. Pat keeps their access as "
            "Planner.\n*Reason:* “Pat runs the night shift”",
        ),
        (
            "expired",
            "Removal request expired · Acme Mining",
            "The request by *ada@acme.example.com* to remove *Pat* (pat@acme.example.com) from "
            "*Acme Mining* expired without a second Admin's review. Pat keeps their access",
        ),
    ],
)
def test_the_outcome_replaces_the_request_without_a_button(status, header, says):
    message = render_outbox_message("removal_resolved", resolved_payload(status))
    shown = texts(message)
    assert shown[0] == header
    assert shown[1].startswith(says)
    assert shown[2] == f"Request #42 · {status} 2025-03-04 05:06 UTC"
    assert all(b["type"] != "actions" for b in message["blocks"])


def test_a_direct_notice_shows_its_text():
    message = render_outbox_message("direct_notice", {"text": "Your request <was> approved & done"})
    assert texts(message) == ["Your request &lt;was&gt; approved &amp; done"]
    assert message["text"] == "Your request &lt;was&gt; approved &amp; done"


def test_user_text_is_escaped_so_it_cannot_mention_or_link():
    hostile = "<!channel> & <@U123|boss>"
    message = render_outbox_message(
        "removal_request",
        request_payload(name=hostile, organization="R&D <Ops>", requested_by="<!here>"),
    )
    dumped = json.dumps(message["blocks"])
    assert "<!channel>" not in dumped and "<!here>" not in dumped and "<@U123" not in dumped
    assert "&lt;!channel&gt; &amp; &lt;@U123|boss&gt;" in dumped
    assert "*R&amp;D &lt;Ops&gt;*" in dumped
    assert "<!channel>" not in message["text"]
    # A channel value that is not a channel id is shown, not turned into a reference.
    channel = render_outbox_message(
        "audit_summary",
        summary("org.audit_channel_changed", None, {"audit_channel": "<!everyone>"}),
    )
    assert "&lt;!everyone&gt;" in texts(channel)[0]
    assert "<!everyone>" not in json.dumps(channel)


def test_very_long_values_are_cut_to_slack_limits():
    huge = "&" * 5000
    for kind, payload in [
        ("removal_request", request_payload(name=huge, organization="O" * 500, email=huge)),
        ("removal_resolved", resolved_payload("rejected", name=huge, reason=huge)),
        ("audit_summary", summary("member.removed", {"role": "viewer"}, None, target=huge)),
        ("audit_summary", summary("x.y", {"k": huge}, {"k": "<" * 5000}, target=huge)),
        # Every value is capped, but an unknown action may change many fields at once.
        ("audit_summary", summary("x.y", None, {f"field{i}": "&" * 300 for i in range(40)})),
        ("direct_notice", {"text": "Pat & co " * 2000}),
    ]:
        message = render_outbox_message(kind, payload)
        assert check_message_blocks(message["blocks"]) == [], kind
        assert len(message["text"]) <= 3000
        for text in texts(message):
            assert len(text) <= 3000
            # Cut between entities, never inside one.
            assert not text.rstrip("…").endswith(("&", "&a", "&am", "&amp", "&l", "&lt"))
    request = render_outbox_message("removal_request", request_payload(organization="O" * 500))
    header = request["blocks"][0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    long_name = render_outbox_message("removal_request", request_payload(name="N" * 500))
    assert "N" * 99 + "…" in texts(long_name)[1]
    assert "N" * 101 not in texts(long_name)[1]


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="no message layout for outbox kind 'carrier_pigeon'"):
        render_outbox_message("carrier_pigeon", {})


def test_the_review_modal_shows_the_request_and_asks_for_a_decision():
    view = build_review_modal(state())
    assert check_view(view) == []
    assert (view["type"], view["callback_id"]) == ("modal", "review_removal")
    assert json.loads(view["private_metadata"]) == {"request_id": 42}
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "Review removal",
        "Submit",
        "Cancel",
    )
    shown = "\n".join(texts({"blocks": view["blocks"]}))
    for expected in (
        "*ada@acme.example.com* asks to remove *Pat* (pat@acme.example.com) from *Acme Mining*.",
        "*Organization*\nAcme Mining",
        "*Member*\nPat\npat@acme.example.com",
        "*Current role*\nPlanner",
        "*Asked by*\nada@acme.example.com",
        "*Expires*\n2025-03-05 05:06 UTC",
        "they lose access at once",
        "account is kept",
        "invite them again",
    ):
        assert expected in shown
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    decision = blocks["decision"]["element"]
    assert (decision["type"], decision["action_id"]) == ("static_select", "value")
    assert [(o["value"], o["text"]["text"]) for o in decision["options"]] == [
        ("approve", "Approve removal"),
        ("reject", "Reject"),
    ]
    reason = blocks["reason"]
    assert reason["optional"] is True
    assert reason["label"]["text"] == "Reason (required to reject)"
    assert (reason["element"]["action_id"], reason["element"]["multiline"]) == ("value", True)


def test_the_review_modal_offers_only_reject_once_they_are_no_longer_a_member():
    view = build_review_modal(state(member_role=None))
    assert check_view(view) == []
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert [o["value"] for o in blocks["decision"]["element"]["options"]] == ["reject"]
    shown = "\n".join(texts({"blocks": view["blocks"]}))
    assert "*Current role*\nNo longer a member" in shown
    assert "Pat is no longer a member of *Acme Mining*" in shown


def test_the_review_modal_escapes_and_cuts_long_names():
    view = build_review_modal(
        state(name="<!channel> " + "N" * 400, organization="&" * 300, requested_by="<@U1>")
    )
    assert check_view(view) == []
    dumped = json.dumps(view)
    assert "<!channel>" not in dumped and "<@U1>" not in dumped
    assert "&lt;!channel&gt;" in dumped


def _resolution(status: str, **extra: Any) -> RemovalResolution:
    change = MemberChange("Acme Mining", "acme", 9, PAT, "Pat", Role.PLANNER, None, 12)
    fields = {
        "request_id": 42,
        "status": status,
        "organization": "Acme Mining",
        "organization_slug": "acme",
        "email": PAT,
        "name": "Pat",
        "resolved_by": "abe@acme.example.com",
        "reason": None,
        "change": change if status == "approved" else None,
    } | extra
    return RemovalResolution(**fields)


@pytest.mark.parametrize(
    ("resolution", "says"),
    [
        (
            _resolution("approved"),
            "You approved removing *Pat* (pat@acme.example.com) from *Acme Mining* (was "
            "Planner). They no longer have access; their account is kept",
        ),
        (
            _resolution("rejected", reason="Needed on <night> shift"),
            "You rejected removing *Pat* (pat@acme.example.com) from *Acme Mining*; they keep "
            "their access.\n*Your reason:* “Needed on &lt;night&gt; shift”",
        ),
    ],
)
def test_the_done_view_says_what_happened(resolution, says):
    view = build_review_done_modal(resolution)
    assert check_view(view) == []
    assert "submit" not in view
    assert view["close"]["text"] == "Done"
    [text] = texts({"blocks": view["blocks"]})
    assert text.startswith(says)
