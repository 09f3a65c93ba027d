"""The sandbox page in real Chromium: every click reaches the real bot as Slack would send it."""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING, Any

from tests.browser.conftest import SandboxThread, Shots, playwright_api

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

expect = playwright_api().expect

ORG = "Demo Mine"


def command(page: Page, text: str) -> None:
    page.fill("[data-testid=composer]", text)
    page.press("[data-testid=composer]", "Enter")


def channel_message(page: Page, text: str) -> Locator:
    return page.locator("#messages .message", has_text=text).last


def audit_message(page: Page, text: str) -> Locator:
    return page.locator("#audit-messages .message", has_text=text).last


def member_row(page: Page, name: str) -> Locator:
    members = page.locator("#messages .message", has_text=f"Members of {ORG}").last
    return members.locator(".block-section", has_text=name)


def remove_button(page: Page, name: str) -> Locator:
    actions = member_row(page, name).locator(
        "xpath=following-sibling::div[contains(@class, 'block-actions')][1]"
    )
    return actions.get_by_role("button", name="Remove")


def modal(page: Page) -> Locator:
    return page.locator("[data-testid=modal]")


def submit(page: Page) -> None:
    modal(page).locator("[data-role=submit]").click()


def act_as(page: Page, slack_id: str) -> None:
    page.select_option("[data-testid=act-as]", slack_id)


def test_admin_lists_changes_creates_and_removes_then_planner_is_refused(
    page: Page, shots: Shots, sandbox: SandboxThread
) -> None:
    command(page, "/minesync members")
    expect(channel_message(page, f"Members of {ORG}")).to_be_visible()
    expect(channel_message(page, f"Members of {ORG}")).to_contain_text("Only visible to you")
    shots("members")

    member_row(page, "Bo Driller").locator("select").select_option(label="Viewer")
    expect(channel_message(page, "Changed role of Bo Driller")).to_contain_text(
        "Technician → Viewer"
    )
    expect(audit_message(page, "bo@demo-mine.example.com")).to_be_visible()
    shots("role-changed")

    channel_message(page, f"Members of {ORG}").get_by_role("button", name="Create User").click()
    expect(modal(page)).to_contain_text("Create user")
    shots("create-user-form")

    page.fill("#input-name", "Quinn Quarry")
    page.fill("#input-email", "quinn@demo-mine.example.com")
    page.fill("#input-password", "1234567")
    page.select_option("#input-role", "technician")
    submit(page)
    error = modal(page).locator(".field-error[data-error-for=password]")
    expect(error).to_have_text("Password must be at least 8 characters.")
    shots("short-password-refused")

    page.fill("#input-password", "12345678-long-enough")
    submit(page)
    expect(modal(page)).to_contain_text("User created")
    expect(modal(page)).to_contain_text("quinn@demo-mine.example.com")
    shots("user-created")
    modal(page).get_by_role("button", name="Done").click()
    expect(modal(page)).to_be_hidden()
    expect(audit_message(page, "quinn@demo-mine.example.com")).to_be_visible()
    shots("audit-pane")

    remove_button(page, "Gus Hauler").click()
    confirm = page.locator("[data-testid=confirm]")
    expect(confirm).to_contain_text("Remove Gus Hauler?")
    shots("remove-confirm-dialog")
    confirm.get_by_role("button", name="Continue").click()
    expect(modal(page)).to_contain_text("Remove member")
    expect(modal(page)).to_contain_text("gus@demo-mine.example.com")
    shots("remove-modal")
    submit(page)
    expect(modal(page)).to_contain_text("Member removed")
    shots("member-removed")
    modal(page).get_by_role("button", name="Done").click()
    expect(audit_message(page, "gus@demo-mine.example.com")).to_be_visible()

    act_as(page, "U0PAT")
    expect(page.locator("#messages")).not_to_contain_text("Members of")  # Ada's replies
    command(page, "/minesync members")
    expect(channel_message(page, "only Admins")).to_contain_text(
        f"Sorry, only Admins of {ORG} can do that. Your role there is Planner."
    )
    shots("planner-refused")

    # Everything above went to the bot as Slack sends it, and it answered through Slack's API.
    methods = {c.method for c in sandbox.sandbox.fake.calls}
    assert {"users.info", "views.open", "chat.postMessage"} <= methods


def test_second_admin_approves_a_removal_from_the_audit_pane(
    page: Page, shots: Shots, sandbox: SandboxThread
) -> None:
    command(page, "/minesync config removal-approvals 2")
    expect(channel_message(page, "second Admin must approve")).to_be_visible()

    command(page, "/minesync remove @tim")
    expect(modal(page)).to_contain_text("Remove member")
    expect(modal(page).locator("[data-role=submit]")).to_have_text("Request removal")
    submit(page)
    expect(modal(page)).to_contain_text("Removal requested")
    modal(page).get_by_role("button", name="Done").click()
    request = audit_message(page, "asks to remove")
    expect(request.get_by_role("button", name="Review")).to_be_visible()
    shots("request-in-audit-pane")

    # The requester may not review their own request.
    request.get_by_role("button", name="Review").click()
    expect(audit_message(page, "You asked for this removal")).to_contain_text("Only visible to you")
    expect(modal(page)).to_be_hidden()
    shots("requester-cannot-review")

    act_as(page, "U0ABE")
    audit_message(page, "asks to remove").get_by_role("button", name="Review").click()
    expect(modal(page)).to_contain_text("asks to remove")
    page.select_option("#input-decision", "approve")
    shots("review-modal")
    submit(page)
    expect(modal(page)).to_contain_text("You approved removing")
    modal(page).get_by_role("button", name="Done").click()
    expect(audit_message(page, "Approved")).to_be_visible()
    shots("request-approved")

    act_as(page, "U0ADA")
    dm = page.locator("#dm-list button")
    expect(dm).to_have_class("unread")
    dm.click()
    expect(channel_message(page, "approved")).to_contain_text("tim@demo-mine.example.com")
    shots("requester-told")


def test_every_command_answers_and_refuses_as_in_slack(page: Page, shots: Shots) -> None:
    command(page, "/minesync help")
    expect(channel_message(page, "/minesync members")).to_be_visible()
    shots("help")
    command(page, "/minesync orgs")
    expect(channel_message(page, "Admin")).to_contain_text(ORG)
    command(page, "/minesync audit 3")
    expect(channel_message(page, "#13")).to_be_visible()
    shots("audit")

    command(page, "/minesync invite")
    expect(modal(page)).to_contain_text("Invite member")
    submit(page)  # empty: Slack's own client refuses before the bot hears of it
    expect(modal(page).locator(".field-error[data-error-for=email]")).to_have_text(
        "Please complete this required field."
    )
    page.fill("#input-email", "nia@demo-mine.example.com")
    page.select_option("#input-role", "viewer")
    submit(page)
    expect(modal(page)).to_contain_text("Member invited")
    modal(page).get_by_role("button", name="Done").click()

    command(page, "/minesync invite nia@demo-mine.example.com planner")
    expect(channel_message(page, "already")).to_be_visible()
    shots("invite-refused")

    act_as(page, "U0VIC")
    command(page, "/minesync role @pat admin")
    expect(channel_message(page, "only Admins")).to_contain_text("Viewer")
    shots("viewer-refused")


def test_paging_denied_confirm_and_unknown_blocks(
    page: Page, shots: Shots, sandbox: SandboxThread
) -> None:
    command(page, "/minesync members")
    members = channel_message(page, f"Members of {ORG}")
    members.get_by_role("button", name="Next →").click()
    expect(members).to_contain_text("Tim Technician")  # the same message, replaced
    expect(members).not_to_contain_text("Abe Admin")
    shots("next-page")
    members.get_by_role("button", name="← Previous").click()
    expect(members).to_contain_text("Abe Admin")
    expect(page.locator("#messages .message", has_text="Members of")).to_have_count(1)

    remove_button(page, "Cy Surveyor").click()
    page.locator("[data-testid=confirm]").get_by_role("button", name="Cancel").click()
    expect(page.locator("[data-testid=confirm]")).to_be_hidden()
    expect(modal(page)).to_be_hidden()
    assert not sandbox.sandbox.fake.calls_to("views.open")  # a denied confirm sends nothing

    fake = sandbox.sandbox.fake
    option = {"text": {"type": "plain_text", "text": "Archive"}, "value": "archive"}
    _post(
        fake.api_base_url + "chat.postMessage",
        fake.token,
        {
            "channel": "C0GENERAL",
            "text": "A message from the future",
            "blocks": [
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "Known *section*"},
                    "accessory": {"type": "overflow", "action_id": "more", "options": [option]},
                },
                {
                    "type": "actions",
                    "elements": [
                        {"type": "conversations_select", "action_id": "where"},
                        {"type": "datepicker", "action_id": "when"},
                    ],
                },
                {"type": "rich_text", "elements": []},
            ],
        },
    )
    future = channel_message(page, "Known section")
    expect(future.locator("[data-testid=unsupported]")).to_have_text(
        ["Unsupported element: datepicker", "Unsupported block: rich_text"]
    )
    expect(future.locator("select option")).to_contain_text(["# general", "# minesync-audit"])
    future.get_by_role("button", name="More actions").click()
    future.get_by_role("button", name="Archive").click()
    # The bot has no listener for it: Slack would flag the element, the page says so.
    expect(page.locator("[data-testid=toast]")).to_contain_text("could not handle that")
    shots("unsupported-block")


def _post(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.load(response)
    assert answer["ok"], answer
    return answer
