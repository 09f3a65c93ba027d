"""Fixtures for end-to-end tests: a seeded organization, the bot process, a fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.organizations import BindWorkspace, bind_workspace
from handlers.validation import parse
from slackfake import FakeSlack, SlackRequester
from storage.uow import UnitOfWorkFactory
from tests import seed
from tests.e2e.harness import AUDIT_CHANNEL, CHANNEL, SIGNING_SECRET, TEAM, BotProcess, Workspace

ADA = "ada@acme.example.com"
ABE = "abe@acme.example.com"
PAT = "pat@acme.example.com"
TIM = "tim@acme.example.com"
VIC = "vic@acme.example.com"
NIA = "nia@acme.example.com"


@pytest.fixture
async def acme(uow: UnitOfWorkFactory) -> None:
    """Acme Mining: two Admins, a Planner, a Technician, a Viewer, and Nia (no membership)."""
    await seed.org_with_members(
        uow,
        "acme",
        "Acme Mining",
        {ADA: "admin", ABE: "admin", PAT: "planner", TIM: "technician", VIC: "viewer"},
    )
    await seed.account(uow, NIA, "Nia New")
    await bind_workspace(uow(), parse(BindWorkspace, team_id=TEAM, organization="acme"))


@pytest.fixture
async def slack(
    acme: None, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Workspace]:
    fake = FakeSlack(team_id=TEAM)
    await fake.start()
    fake.add_channel(CHANNEL, "general")
    fake.add_channel(AUDIT_CHANNEL, "minesync-audit")
    bot = BotProcess(database_url, fake, tmp_path / "bot.log")
    try:
        await bot.start()
        sender = SlackRequester(
            f"{bot.url}/slack/events", SIGNING_SECRET, source=fake, team_id=TEAM
        )
        ws = Workspace(fake, bot, sender)
        ws.person("ada", ADA, "Ada Admin")
        ws.person("abe", ABE, "Abe Admin")
        ws.person("pat", PAT, "Pat Planner")
        ws.person("tim", TIM, "Tim Tech")
        ws.person("vic", VIC, "Vic Viewer")
        ws.person("nia", NIA, "Nia New")
        yield ws
        await sender.close()
    finally:
        await bot.stop()
        await fake.stop()
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(bot.log())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
