"""The Block Kit builders: ids and labels the listeners rely on, and Slack's limits held."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.blocks.audit_log import build_audit_message
from bot.blocks.help import USAGE, build_help_message
from bot.blocks.members import build_change_message, build_members_message
from bot.blocks.modals import (
    build_create_user_modal,
    build_invite_modal,
    build_remove_modal,
    build_result_modal,
)
from bot.blocks.orgs import build_choose_org_message, build_orgs_message
from bot.blocks.text import escape, mrkdwn, pack_lines, truncate
from handlers.audit_queries import AuditRecord, RecentAudit
from handlers.listing import MembersPage, MemberView
from handlers.members import MemberChange
from handlers.roles import Role

ROLES = list(Role)
ROOT = Path(__file__).resolve().parents[2]


# --- helpers -------------------------------------------------------------------------------


def member(i: int, *, name: str | None = None, role: Role | None = None) -> MemberView:
    return MemberView(
        user_id=i,
        email=f"person{i:02d}@acme.example",
        name=name or f"Person {i}",
        role=role or ROLES[i % 4],
    )


def page(
    members: list[MemberView],
    *,
    query: str | None = None,
    has_next: bool = False,
    has_previous: bool = False,
    org: str = "Acme Mining",
) -> MembersPage:
    return MembersPage(
        organization=org,
        organization_slug="acme",
        query=query,
        members=members,
        total=137,
        has_next=has_next,
        has_previous=has_previous,
    )


def record(seq: int, action: str = "member.role_changed", **kw: Any) -> AuditRecord:
    before = kw.pop("before", {"email": "pat@acme.example", "name": "Pat", "role": "planner"})
    after = kw.pop("after", {"email": "pat@acme.example", "name": "Pat", "role": "admin"})
    defaults: dict[str, Any] = {
        "seq": seq,
        "at": datetime(2025, 3, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=seq),
        "action": action,
        "actor": "ann@acme.example",
        "target": "pat@acme.example",
        "before": before,
        "after": after,
        "diff": {},
        "source": "slack",
        "context": {},
        "prev_hash": None,
        "hash": "0" * 64,
    }
    defaults.update(kw)
    return AuditRecord(**defaults)


def change(before: Role | None, after: Role | None, name: str = "Pat") -> MemberChange:
    return MemberChange(
        organization="Acme Mining",
        organization_slug="acme",
        user_id=7,
        email="pat@acme.example",
        name=name,
        role_before=before,
        role_after=after,
        audit_seq=12,
    )


def walk(node: Any, parent_key: str = "") -> list[tuple[str, Any]]:
    """Every (key, dict) pair below `node`, the key being where the dict hangs."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        found.append((parent_key, node))
        for key, value in node.items():
            found.extend(walk(value, key))
    elif isinstance(node, list):
        for item in node:
            found.extend(walk(item, parent_key))
    return found


def assert_within_limits(payload: dict[str, Any], *, max_blocks: int = 50) -> None:
    """Slack's Block Kit limits, checked over the whole payload (not just what slack_sdk checks)."""
    assert len(payload["blocks"]) <= max_blocks
    for key, obj in walk(payload["blocks"]):
        kind = obj.get("type")
        if kind in ("plain_text", "mrkdwn"):
            assert 1 <= len(obj["text"]) <= 3000, (key, obj)
        if kind == "header":
            assert len(obj["text"]["text"]) <= 150
        if kind == "section" and "fields" in obj:
            assert len(obj["fields"]) <= 10
        if kind == "actions":
            assert len(obj["elements"]) <= 25
        if kind == "button":
            assert len(obj["text"]["text"]) <= 75
            assert len(obj.get("value", "")) <= 2000
        if kind == "static_select":
            assert len(obj["options"]) <= 100
            for option in obj["options"]:
                assert len(option["text"]["text"]) <= 75
                assert len(option["value"]) <= 150
                if "description" in option:
                    assert len(option["description"]["text"]) <= 75
        if key == "confirm" and "title" in obj:
            assert len(obj["title"]["text"]) <= 100
            assert len(obj["text"]["text"]) <= 300
            assert len(obj["confirm"]["text"]) <= 30
            assert len(obj["deny"]["text"]) <= 30
        for id_key in ("block_id", "action_id"):
            if id_key in obj:
                assert len(obj[id_key]) <= 255


def assert_modal_within_limits(view: dict[str, Any]) -> None:
    assert view["type"] == "modal"
    assert len(view["title"]["text"]) <= 24
    for key in ("submit", "close"):
        if key in view:
            assert len(view[key]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    assert_within_limits(view, max_blocks=100)


def all_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def blocks_by_type(payload: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in payload["blocks"] if b["type"] == kind]


def nav(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [block] = [b for b in payload["blocks"] if b.get("block_id") == "members_nav"]
    return {e["action_id"]: e for e in block["elements"]}


# --- text helpers ---------------------------------------------------------------------------


def test_escape_replaces_ampersand_and_angle_brackets() -> None:
    assert escape("A & B <!channel> >") == "A &amp; B &lt;!channel&gt; &gt;"


def test_mrkdwn_never_cuts_an_entity_and_stays_within_its_limit() -> None:
    text = "&" * 50
    for limit in range(2, 60):
        out = mrkdwn(text, limit)
        assert len(out) <= limit
        assert out.endswith("…")
        assert out[:-1].replace("&amp;", "") == ""


def test_truncate_keeps_short_text_and_marks_cut_text() -> None:
    assert truncate("Pat", 10) == "Pat"
    assert truncate("x" * 30, 10) == "x" * 9 + "…"


def test_pack_lines_respects_block_budget_and_text_limit() -> None:
    lines = [f"line {i} " + "y" * 2000 for i in range(50)]
    texts = pack_lines(lines, 48)
    assert len(texts) <= 48
    assert all(len(t) <= 3000 for t in texts)


# --- members message ------------------------------------------------------------------------


def test_members_message_has_the_ids_the_listeners_match_on() -> None:
    pat = member(7, name="Pat", role=Role.PLANNER)
    msg = build_members_message(page([pat], has_next=True))

    header = msg["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Members of Acme Mining"
    context = msg["blocks"][1]
    assert context["type"] == "context"
    assert "137 members" in context["elements"][0]["text"]

    section = next(b for b in msg["blocks"] if b.get("block_id") == "member:7")
    assert section["text"]["text"] == "*Pat*  person07@acme.example  ·  Planner"
    select = section["accessory"]
    assert select["type"] == "static_select"
    assert select["action_id"] == "member_role"
    assert select["placeholder"]["text"] == "Change role"
    assert [o["value"] for o in select["options"]] == [
        "acme|7|admin",
        "acme|7|planner",
        "acme|7|technician",
        "acme|7|viewer",
    ]
    assert [o["text"]["text"] for o in select["options"]] == [r.label for r in Role]
    assert select["initial_option"]["value"] == "acme|7|planner"

    actions = msg["blocks"][msg["blocks"].index(section) + 1]
    [remove] = actions["elements"]
    assert remove["action_id"] == "member_remove"
    assert remove["style"] == "danger"
    assert remove["value"] == "acme|7"
    confirm = remove["confirm"]
    assert confirm["title"]["text"] == "Remove Pat?"
    assert confirm["text"]["text"] == (
        "Pat loses access to Acme Mining at once. The account is kept and can be re-invited."
    )
    assert confirm["confirm"]["text"] == "Continue"
    assert confirm["deny"]["text"] == "Cancel"
    assert confirm["style"] == "danger"

    buttons = nav(msg)
    assert buttons["open_invite"]["value"] == "acme"
    assert buttons["open_invite"]["style"] == "primary"
    assert buttons["open_invite"]["text"]["text"] == "Invite Member"
    assert buttons["open_create"]["value"] == "acme"
    assert buttons["open_create"]["text"]["text"] == "Create User"
    assert msg["blocks"][-2]["type"] == "divider"
    assert msg["text"]


def test_members_page_of_twenty_stays_within_fifty_blocks_and_all_limits() -> None:
    members = [member(i) for i in range(1, 21)]
    msg = build_members_message(page(members, query="acme", has_next=True, has_previous=True))
    assert len(msg["blocks"]) <= 50
    assert_within_limits(msg)
    assert len([b for b in msg["blocks"] if b.get("block_id", "").startswith("member:")]) == 20


def test_member_with_a_300_character_name_is_truncated_safely() -> None:
    long_name = "Ö&<" * 100
    msg = build_members_message(page([member(3, name=long_name)], org="O" * 300))
    assert_within_limits(msg)
    section = next(b for b in msg["blocks"] if b.get("block_id") == "member:3")
    text = section["text"]["text"]
    assert "…" in text
    assert "<" not in text  # escaped, and no entity cut in half
    assert text.count("&") == text.count("&amp;") + text.count("&lt;")
    confirm = blocks_by_type(msg, "actions")[0]["elements"][0]["confirm"]
    assert len(confirm["title"]["text"]) <= 100
    assert confirm["title"]["text"].endswith("?")
    assert len(msg["blocks"][0]["text"]["text"]) <= 150


def test_member_text_is_escaped_for_mrkdwn() -> None:
    msg = build_members_message(
        page([member(4, name="<!channel> & co")], query="<@U1>", org="R&D <Ops>")
    )
    section = next(b for b in msg["blocks"] if b.get("block_id") == "member:4")
    assert section["text"]["text"].startswith("*&lt;!channel&gt; &amp; co*")
    assert "&lt;@U1&gt;" in msg["blocks"][1]["elements"][0]["text"]
    assert "<!channel>" not in msg["text"]
    assert "R&amp;D &lt;Ops&gt;" in msg["text"]


@pytest.mark.parametrize(
    ("has_previous", "has_next", "expected"),
    [
        (False, False, set()),
        (True, False, {"members_prev"}),
        (False, True, {"members_next"}),
        (True, True, {"members_prev", "members_next"}),
    ],
)
def test_nav_buttons_follow_has_previous_and_has_next(
    has_previous: bool, has_next: bool, expected: set[str]
) -> None:
    members = [member(1), member(2), member(3)]
    msg = build_members_message(
        page(members, query="per", has_next=has_next, has_previous=has_previous)
    )
    buttons = nav(msg)
    assert set(buttons) - {"open_invite", "open_create"} == expected
    if has_previous:
        assert json.loads(buttons["members_prev"]["value"]) == {
            "org": "acme",
            "q": "per",
            "before": "person01@acme.example",
        }
        assert buttons["members_prev"]["text"]["text"] == "← Previous"
    if has_next:
        assert json.loads(buttons["members_next"]["value"]) == {
            "org": "acme",
            "q": "per",
            "after": "person03@acme.example",
        }
        assert buttons["members_next"]["text"]["text"] == "Next →"


def test_empty_page_says_no_members_match() -> None:
    msg = build_members_message(page([], query="zed"))
    sections = blocks_by_type(msg, "section")
    assert len(sections) == 1
    assert "No members" in sections[0]["text"]["text"]
    assert "“zed”" in sections[0]["text"]["text"]
    assert set(nav(msg)) == {"open_invite", "open_create"}


@pytest.mark.parametrize(
    ("verb", "before", "after", "expected"),
    [
        (
            "role_changed",
            Role.PLANNER,
            Role.ADMIN,
            "Changed role of *Pat* (pat@acme.example) in Acme Mining: Planner → Admin.",
        ),
        (
            "invited",
            None,
            Role.VIEWER,
            "Invited *Pat* (pat@acme.example) to Acme Mining as Viewer.",
        ),
        (
            "created",
            None,
            Role.VIEWER,
            "Created the account *Pat* (pat@acme.example) and added them to Acme Mining as Viewer.",
        ),
        (
            "removed",
            Role.PLANNER,
            None,
            "Removed *Pat* (pat@acme.example) from Acme Mining (was Planner). "
            "The account is kept and can be re-invited.",
        ),
    ],
)
def test_change_message_names_member_organization_and_roles(
    verb: str, before: Role | None, after: Role | None, expected: str
) -> None:
    msg = build_change_message(change(before, after), verb)
    assert msg["text"] == expected
    assert msg["blocks"][0]["text"]["text"] == expected
    assert_within_limits(msg)


def test_change_message_rejects_an_unknown_verb() -> None:
    with pytest.raises(ValueError, match="Unknown change"):
        build_change_message(change(None, Role.ADMIN), "promoted")


# --- modals ---------------------------------------------------------------------------------


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_invite_modal_has_email_and_role_inputs() -> None:
    view = build_invite_modal("acme", "Acme Mining")
    assert_modal_within_limits(view)
    assert view["callback_id"] == "invite_member"
    assert view["title"]["text"] == "Invite member"
    assert view["submit"]["text"] == "Invite"
    assert view["close"]["text"] == "Cancel"
    assert json.loads(view["private_metadata"]) == {"org": "acme"}
    fields = inputs(view)
    assert list(fields) == ["email", "role"]
    assert fields["email"]["element"]["type"] == "email_text_input"
    assert fields["email"]["label"]["text"] == "Email"
    role = fields["role"]["element"]
    assert role["type"] == "static_select"
    assert fields["role"]["label"]["text"] == "Role"
    assert [o["value"] for o in role["options"]] == [r.value for r in Role]
    assert [o["description"]["text"] for o in role["options"]] == [r.grants for r in Role]
    assert all(f["element"]["action_id"] == "value" for f in fields.values())


def test_create_user_modal_block_ids_and_labels() -> None:
    view = build_create_user_modal("acme", "Acme Mining")
    assert_modal_within_limits(view)
    assert view["callback_id"] == "create_user"
    assert view["title"]["text"] == "Create user"
    assert view["submit"]["text"] == "Create"
    assert json.loads(view["private_metadata"]) == {"org": "acme"}
    fields = inputs(view)
    assert list(fields) == ["name", "email", "password", "role"]
    assert [f["label"]["text"] for f in fields.values()] == ["Name", "Email", "Password", "Role"]
    assert all(f["element"]["action_id"] == "value" for f in fields.values())
    assert fields["name"]["element"] == {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": 100,
    }
    assert fields["email"]["element"]["type"] == "email_text_input"
    password = fields["password"]
    assert password["element"]["type"] == "plain_text_input"
    assert "min_length" not in password["element"]
    assert password["hint"]["text"] == "At least 8 characters. It is never shown again."
    assert fields["role"]["element"]["type"] == "static_select"


def test_remove_modal_with_one_approval_removes_at_once() -> None:
    view = build_remove_modal("acme", "Acme Mining", 7, "Pat", "pat@acme.example", Role.PLANNER, 1)
    assert_modal_within_limits(view)
    assert view["callback_id"] == "remove_member"
    assert view["title"]["text"] == "Remove member"
    assert view["submit"]["text"] == "Remove"
    assert view["close"]["text"] == "Cancel"
    assert json.loads(view["private_metadata"]) == {"org": "acme", "user_id": 7}
    text = all_text(view)
    assert "Pat" in text
    assert "pat@acme.example" in text
    assert "Planner" in text
    assert "loses access to *Acme Mining* at once" in text
    assert "can be re-invited" in text
    assert "second Admin" not in text


def test_remove_modal_with_two_approvals_says_a_second_admin_must_approve() -> None:
    view = build_remove_modal("acme", "Acme Mining", 7, "Pat", "pat@acme.example", Role.ADMIN, 2)
    assert_modal_within_limits(view)
    assert view["submit"]["text"] == "Request removal"
    [context] = blocks_by_type(view, "context")
    assert "second Admin must approve" in context["elements"][0]["text"]
    assert "audit channel" in context["elements"][0]["text"]


def test_remove_modal_escapes_and_truncates_user_text() -> None:
    view = build_remove_modal("acme", "<Ops>" * 80, 7, "&" * 300, "a@b.example", Role.VIEWER, 1)
    assert_modal_within_limits(view)
    text = all_text(view)
    assert "<Ops>" not in text
    assert "&&" not in text


def test_result_modal_has_no_submit_and_escapes_its_text() -> None:
    view = build_result_modal("Member invited to the organization", "Invited <Pat> & co")
    assert_modal_within_limits(view)
    assert "submit" not in view
    assert len(view["title"]["text"]) <= 24
    assert view["blocks"][0]["text"]["text"] == "Invited &lt;Pat&gt; &amp; co"


def test_result_modal_takes_change_text_as_mrkdwn_without_double_escaping() -> None:
    text = build_change_message(change(None, Role.VIEWER, name="R&D"), "invited")["text"]
    view = build_result_modal("Member invited", text, is_mrkdwn=True)
    assert view["blocks"][0]["text"]["text"] == text
    assert "&amp;amp;" not in all_text(view)


# --- help -----------------------------------------------------------------------------------


def test_help_for_non_admins_shows_only_what_everyone_may_do() -> None:
    msg = build_help_message(is_admin=False, org_name="Acme Mining")
    text = all_text(msg)
    assert "remove" not in text.lower()
    for command in ("/minesync help", "/minesync orgs", "/minesync org use SLUG"):
        assert command in text
    for admin_only in ("invite", "members [QUERY]", "audit [N]", "config", "--org"):
        assert admin_only not in text
    assert_within_limits(msg)


def test_help_for_admins_lists_every_command_roles_and_org_flag() -> None:
    msg = build_help_message(is_admin=True, org_name="Acme Mining")
    text = all_text(msg)
    for command in (
        "/minesync help",
        "/minesync orgs",
        "/minesync org use SLUG",
        "/minesync members [QUERY]",
        "users",
        "/minesync invite EMAIL ROLE",
        "/minesync invite`",
        "/minesync create",
        "/minesync role MEMBER ROLE",
        "/minesync remove MEMBER",
        "/minesync audit [N]",
        "/minesync config audit-channel #CHANNEL",
        "/minesync config removal-approvals 1|2",
        "--org SLUG",
    ):
        assert command in text, command
    for role in Role:
        assert role.value in text
    assert "Acme Mining" in text
    assert_within_limits(msg)


def test_help_hides_config_when_the_caller_cannot_configure() -> None:
    msg = build_help_message(is_admin=True, org_name=None, can_configure=False)
    text = all_text(msg)
    assert "config" not in text
    assert "/minesync remove MEMBER" in text
    assert "org use SLUG" in text


def test_usage_has_one_line_per_subcommand() -> None:
    assert set(USAGE) == {
        "help",
        "members",
        "invite",
        "create",
        "role",
        "remove",
        "audit",
        "orgs",
        "org",
        "config",
    }
    assert USAGE["role"] == (
        "/minesync role MEMBER ROLE — MEMBER is an email or @mention; "
        "ROLE is admin, planner, technician or viewer"
    )
    assert all(line.startswith(f"/minesync {key}") for key, line in USAGE.items())


# --- audit log ------------------------------------------------------------------------------


def test_audit_message_with_fifty_entries_stays_within_fifty_blocks() -> None:
    entries = [record(seq, target="t" * 300 + "@x") for seq in range(50, 0, -1)]
    msg = build_audit_message(RecentAudit("Acme Mining", entries))
    assert len(msg["blocks"]) <= 50
    assert_within_limits(msg)
    text = all_text(msg)
    for seq in range(1, 51):
        assert f"*#{seq}*" in text
    assert text.index("*#50*") < text.index("*#1*")


def test_audit_entry_shows_seq_time_actor_action_target_and_change() -> None:
    msg = build_audit_message(RecentAudit("Acme Mining", [record(12)]))
    assert msg["blocks"][0]["text"]["text"] == "Audit log of Acme Mining"
    line = msg["blocks"][-1]["text"]["text"]
    assert line == (
        "*#12* · 2025-03-01 12:12 UTC · *ann@acme.example* · changed role · "
        "pat@acme.example · Planner → Admin"
    )


def test_audit_entries_render_each_known_action() -> None:
    entries = [
        record(
            6,
            "org.removal_approvals_changed",
            target="acme",
            before={"removal_approvals": 1},
            after={"removal_approvals": 2},
        ),
        record(
            5,
            "org.audit_channel_changed",
            target="acme",
            before={"audit_channel": None},
            after={"audit_channel": "C0123ABC"},
        ),
        record(4, "member.removed", after=None),
        record(3, "user.created", before=None),
        record(2, "member.invited", before=None, at=datetime(2025, 3, 1, 9, 30)),
        record(1, "something.new", before=None, after=None, diff={"x": ["<a>", "b"]}),
    ]
    msg = build_audit_message(RecentAudit("Acme Mining", entries))
    text = all_text(msg)
    assert "set removal approvals · acme · 1 → 2" in text
    assert "set audit channel · acme · none → <#C0123ABC>" in text
    assert "removed · pat@acme.example · was Planner" in text
    assert "created account · pat@acme.example · as Admin" in text
    assert "2025-03-01 09:30 UTC" in text
    assert "something.new · pat@acme.example · x: &lt;a&gt; → b" in text


def test_audit_message_escapes_actor_and_target() -> None:
    msg = build_audit_message(RecentAudit("R&D", [record(1, actor="<!here>", target="a&b@x")]))
    text = all_text(msg)
    assert "<!here>" not in text
    assert "*&lt;!here&gt;*" in text
    assert "a&amp;b@x" in text


def test_empty_audit_log_says_so() -> None:
    msg = build_audit_message(RecentAudit("Acme Mining", []))
    assert "no audit log entries" in msg["blocks"][-1]["text"]["text"]


# --- organizations --------------------------------------------------------------------------


def test_orgs_message_lists_roles_and_marks_the_default() -> None:
    msg = build_orgs_message(
        [("acme", "Acme Mining", Role.ADMIN, True), ("north", "North <Pit>", Role.VIEWER, False)]
    )
    text = all_text(msg)
    assert "*Acme Mining* `acme` · Admin  _(default)_" in text
    assert "*North &lt;Pit&gt;* `north` · Viewer" in text
    assert "North &lt;Pit&gt;* `north` · Viewer  _(default)_" not in text
    assert "Acme Mining" in msg["text"]
    assert_within_limits(msg)


def test_orgs_message_with_many_organizations_stays_within_limits() -> None:
    orgs = [(f"org-{i}", "N" * 300, Role.PLANNER, i == 0) for i in range(200)]
    msg = build_orgs_message(orgs)
    assert_within_limits(msg)


def test_orgs_message_without_organizations() -> None:
    msg = build_orgs_message([])
    assert "not a member of any" in msg["text"]


def test_choose_org_message_asks_for_org_flag_or_default() -> None:
    msg = build_choose_org_message([("acme", "Acme Mining"), ("north", "North Pit")])
    text = all_text(msg)
    assert "--org SLUG" in text
    assert "/minesync org use SLUG" in text
    assert "`acme` · Acme Mining" in text
    assert "`north` · North Pit" in text
    assert_within_limits(msg)


# --- layering -------------------------------------------------------------------------------


def test_builders_do_not_pull_in_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import bot.blocks.audit_log, bot.blocks.help, bot.blocks.members\n"
        "import bot.blocks.modals, bot.blocks.orgs\n"
        "assert not [m for m in sys.modules if m.startswith('sqlalchemy')], 'sqlalchemy imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
