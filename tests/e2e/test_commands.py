"""Every /minesync command end to end: signed requests in, database and Slack calls out."""

from __future__ import annotations

import pytest

from slackfake import payloads
from tests.e2e.conftest import ABE, ADA, NIA, PAT, TIM, VIC
from tests.e2e.harness import TEAM, reply_text
from tests.state import account_exists, audit_actions, audit_entries, role_of


async def test_help_shows_only_what_the_caller_may_do(slack):
    admin = reply_text(await slack.command("ada", "help"))
    planner = reply_text(await slack.command("pat", "help"))
    assert "remove" in admin and "invite" in admin
    assert "remove" not in planner and "invite" not in planner
    assert "orgs" in planner


async def test_members_lists_with_role_menus_and_remove_buttons(slack):
    reply = await slack.command("ada", "members")
    assert reply.status == 200 and reply.within_ack_deadline
    assert reply.body["response_type"] == "ephemeral"
    text = reply_text(reply)
    for email in (ADA, ABE, PAT, TIM, VIC):
        assert email in text
    assert NIA not in text
    selects = [
        b["accessory"]
        for b in reply.body["blocks"]
        if b.get("accessory", {}).get("action_id") == "member_role"
    ]
    assert len(selects) == 5
    buttons = [
        e
        for b in reply.body["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "member_remove"
    ]
    assert len(buttons) == 5 and all("confirm" in b for b in buttons)


async def test_members_query_filters_by_name_or_email(slack):
    text = reply_text(await slack.command("ada", "users PAT"))
    assert PAT in text and TIM not in text


async def test_members_pages_with_next_and_previous(slack, uow):
    from tests import seed

    for i in range(25):
        await seed.member(uow, "acme", f"zz{i:02d}@acme.example.com", "viewer")
    first = await slack.command("ada", "members")
    nav = next(b for b in first.body["blocks"] if b.get("block_id") == "members_nav")
    next_button = next(e for e in nav["elements"] if e["action_id"] == "members_next")
    await slack.action(
        "ada",
        payloads.button_action("members_next", block_id="members_nav", value=next_button["value"]),
    )
    (second,) = await slack.responses(1)
    assert second["replace_original"] is True
    first_emails = {e for e in reply_text(first).split() if "@" in e}
    second_text = reply_text(second)
    assert "zz" in second_text
    assert not any(email in second_text for email in first_emails if email.startswith("zz"))


async def test_invite_directly_with_slack_escaped_email(slack, uow):
    reply = await slack.command("ada", f"invite <mailto:{NIA}|{NIA}> Technician")
    assert "Technician" in reply_text(reply)
    assert await role_of(uow, "acme", NIA) == "technician"
    entry = (await audit_entries(uow, "acme"))[-1]
    assert entry.action == "member.invited" and entry.actor == ADA and entry.source == "slack"
    assert entry.context["team_id"] == TEAM


async def test_invite_modal_adds_the_member(slack, uow):
    reply = await slack.command("ada", "invite")
    assert reply.status == 200
    view = await slack.opened_view("invite_member")
    answer = await slack.submit(
        "ada",
        view,
        {
            "email": payloads.email_value(NIA.upper()),
            "role": payloads.static_select_value("viewer", "Viewer"),
        },
    )
    assert answer.body["response_action"] == "update"
    assert await role_of(uow, "acme", NIA) == "viewer"


async def test_create_user_modal_shows_password_error_in_the_field(slack, uow):
    await slack.command("ada", "create")
    view = await slack.opened_view("create_user")
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["Name", "Email", "Password", "Role"]
    short = "sev7en!"
    answer = await slack.submit(
        "ada",
        view,
        {
            "name": payloads.plain_text_value("Cy Crew"),
            "email": payloads.email_value("cy@acme.example.com"),
            "password": payloads.plain_text_value(short),
            "role": payloads.static_select_value("viewer", "Viewer"),
        },
    )
    assert answer.body["response_action"] == "errors"
    assert "at least 8 characters" in answer.body["errors"]["password"]
    assert not await account_exists(uow, "cy@acme.example.com")

    good = "long-enough-secret"
    answer = await slack.submit(
        "ada",
        view,
        {
            "name": payloads.plain_text_value("Cy Crew"),
            "email": payloads.email_value("cy@acme.example.com"),
            "password": payloads.plain_text_value(good),
            "role": payloads.static_select_value("viewer", "Viewer"),
        },
    )
    assert answer.body["response_action"] == "update"
    assert await role_of(uow, "acme", "cy@acme.example.com") == "viewer"
    assert (await audit_actions(uow, "acme"))[-1] == "user.created"
    # The password never travels back to Slack, nor into the bot's log.
    for call in slack.fake.calls:
        assert good not in str(call.args) and short not in str(call.args)
    assert good not in reply_text(answer) and good not in slack.bot.log()


async def test_create_refuses_details_typed_into_the_command(slack, uow):
    reply = await slack.command("ada", "create cy@acme.example.com hunter22 viewer")
    assert "opens a form" in reply_text(reply)
    assert "hunter22" not in reply_text(reply)
    assert not slack.fake.calls_to("views.open")


@pytest.mark.parametrize("member", [PAT, f"<mailto:{PAT}|{PAT}>", "<@U003PAT|pat>", "<@U003PAT>"])
async def test_role_accepts_every_member_form(slack, uow, member):
    reply = await slack.command("ada", f"role {member} ADMIN")
    assert "Planner → Admin" in reply_text(reply) or "Admin" in reply_text(reply)
    assert await role_of(uow, "acme", PAT) == "admin"


async def test_role_dropdown_changes_the_role(slack, uow):
    listing = await slack.command("ada", "members")
    select = next(
        b["accessory"]
        for b in listing.body["blocks"]
        if b.get("accessory", {}).get("action_id") == "member_role" and PAT in str(b)
    )
    value = next(o["value"] for o in select["options"] if o["value"].endswith("|technician"))
    await slack.action(
        "ada", payloads.static_select_action("member_role", block_id="m", value=value)
    )
    (answer,) = await slack.responses(1)
    assert "Technician" in reply_text(answer)
    assert await role_of(uow, "acme", PAT) == "technician"


async def test_remove_confirms_in_a_modal_then_removes_only_the_membership(slack, uow):
    await slack.command("ada", f"remove {PAT}")
    view = await slack.opened_view("remove_member")
    shown = reply_text({"view": view})
    assert "Pat" in shown and "Planner" in shown and "re-invited" in shown
    answer = await slack.submit("ada", view, {})
    assert answer.body["response_action"] == "update"
    assert await role_of(uow, "acme", PAT) is None
    assert await account_exists(uow, PAT)
    # Submitting the same modal again (a double click) changes nothing more.
    again = await slack.submit("ada", view, {})
    assert "not a member" in reply_text(again)
    assert (await audit_actions(uow, "acme")).count("member.removed") == 1


async def test_remove_button_leads_to_the_same_modal(slack, uow):
    listing = await slack.command("ada", "members")
    button = next(
        e
        for b in listing.body["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "member_remove"
        and e["value"].startswith("acme|")
        and PAT not in str(e)
        and "Vic" in str(e)
    )
    await slack.action(
        "ada", payloads.button_action("member_remove", block_id="r", value=button["value"])
    )
    view = await slack.opened_view("remove_member")
    await slack.submit("ada", view, {})
    assert await role_of(uow, "acme", VIC) is None


async def test_self_and_last_admin_rules_are_refused_with_their_reason(slack, uow):
    reply = await slack.command("ada", f"role {ADA} viewer")
    assert "cannot change your own role in Acme Mining" in reply_text(reply)
    # Refused before a confirmation opens: nothing to confirm.
    reply = await slack.command("ada", f"remove {ADA}")
    assert "cannot remove yourself from Acme Mining" in reply_text(reply)
    assert not slack.fake.calls_to("views.open")
    await slack.command("ada", f"role {ABE} planner")
    reply = await slack.command("abe", f"role {ADA} planner")
    assert "Only Admins" in reply_text(reply) or "only Admins" in reply_text(reply)
    assert await role_of(uow, "acme", ADA) == "admin"


@pytest.mark.parametrize(
    "text",
    [
        "members",
        "invite nia@acme.example.com viewer",
        "role pat@acme.example.com admin",
        "remove tim@acme.example.com",
        "audit",
        "config removal-approvals 2",
        "invite",
        "create",
    ],
)
async def test_non_admins_get_a_polite_refusal_and_nothing_changes(slack, uow, text):
    before = await audit_actions(uow, "acme")
    reply = await slack.command("vic", text)
    assert reply.body["response_type"] == "ephemeral"
    assert "only Admins of Acme Mining" in reply_text(reply)
    assert await audit_actions(uow, "acme") == before
    assert not slack.fake.calls_to("views.open")


async def test_unbound_workspace_is_told_and_nothing_changes(slack, uow):
    reply = await slack.sender.command(
        "members", user_id="U001ADA", channel_id="C1", team_id="T0OTHER"
    )
    assert "not connected to any MineSync organization" in reply_text(reply)


async def test_unknown_slack_user_is_refused_with_an_explanation(slack):
    slack.person("eve", "eve@elsewhere.example.com", "Eve")
    reply = await slack.command("eve", "members")
    assert "No MineSync account uses eve@elsewhere.example.com" in reply_text(reply)


async def test_a_value_pointing_into_another_organization_is_refused(slack, uow):
    from tests import seed

    await seed.org_with_members(
        uow,
        "zinc",
        "Zinc Works",
        {"zed@zinc.example.com": "admin", "zoe@zinc.example.com": "viewer"},
    )
    async with uow() as u:
        zoe = await u.users.get_by_email("zoe@zinc.example.com")
    await slack.action(
        "ada",
        payloads.static_select_action("member_role", block_id="m", value=f"zinc|{zoe.id}|admin"),
    )
    (answer,) = await slack.responses(1)
    assert "not connected to this Slack workspace" in reply_text(answer)
    assert await role_of(uow, "zinc", "zoe@zinc.example.com") == "viewer"


async def test_audit_shows_recent_entries_with_before_and_after(slack):
    await slack.command("ada", f"role {PAT} technician")
    text = reply_text(await slack.command("ada", "audit 5"))
    assert "pat@acme.example.com" in text and "Planner" in text and "Technician" in text


async def test_orgs_and_org_use(slack, uow):
    from tests import seed

    await seed.org_with_members(uow, "zinc", "Zinc Works", {ADA: "viewer"})
    from handlers.organizations import BindWorkspace, bind_workspace
    from handlers.validation import parse

    await bind_workspace(uow(), parse(BindWorkspace, team_id=TEAM, organization="zinc"))
    choose = reply_text(await slack.command("ada", "members"))
    assert "--org" in choose and "zinc" in choose
    orgs = reply_text(await slack.command("ada", "orgs"))
    assert "Acme Mining" in orgs and "Zinc Works" in orgs
    assert "Acme Mining" in reply_text(await slack.command("ada", "org use acme"))
    assert PAT in reply_text(await slack.command("ada", "members"))
    assert "only Admins of Zinc Works" in reply_text(
        await slack.command("ada", "members --org zinc")
    )


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("role pat@acme.example.com", "/minesync role"),
        ("frobnicate", "help"),
        ("audit many", "/minesync audit"),
        ("config colour blue", "/minesync config"),
    ],
)
async def test_bad_arguments_get_the_usage_line(slack, text, usage):
    assert usage in reply_text(await slack.command("ada", text))


async def test_forged_and_stale_requests_are_rejected_and_change_nothing(slack, uow):
    import time

    forged = await slack.command("ada", f"role {PAT} admin", secret="not-the-secret")
    stale = await slack.command("ada", f"role {PAT} admin", timestamp=int(time.time()) - 600)
    assert forged.status == 401 and stale.status == 401
    assert await role_of(uow, "acme", PAT) == "planner"
