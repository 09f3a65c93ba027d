"""The demo organization the sandbox starts with, seeded through the use cases (as an operator
would with the CLI), and the Slack workspace its people act in."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.accounts import CreateAccount, create_account
from handlers.actor import Actor
from handlers.errors import AlreadyExists
from handlers.members import InviteMember, invite_member
from handlers.organizations import (
    BindWorkspace,
    ConfigureOrganization,
    CreateOrganization,
    bind_workspace,
    configure_organization,
    create_organization,
)
from handlers.passwords import generate_password
from handlers.ports import UnitOfWorkFactory
from handlers.validation import parse

ORG_SLUG = "demo"
ORG_NAME = "Demo Mine"
TEAM_ID = "T0DEMOMINE"
TEAM_NAME = "Demo Mine"
TEAM_DOMAIN = "demo-mine"
GENERAL_CHANNEL = ("C0GENERAL", "general")
AUDIT_CHANNEL = ("C0MINEAUDIT", "minesync-audit")
DOMAIN = "demo-mine.example.com"


@dataclass(frozen=True)
class Person:
    """Someone in the sandbox's Slack workspace, with a MineSync account of the same email."""

    slack_id: str
    handle: str
    name: str
    role: str | None  # their role in Demo Mine at the start; None: not a member yet

    @property
    def email(self) -> str:
        return f"{self.handle}@{DOMAIN}"


PEOPLE = (
    Person("U0ADA", "ada", "Ada Admin", "admin"),
    Person("U0ABE", "abe", "Abe Admin", "admin"),
    Person("U0PAT", "pat", "Pat Planner", "planner"),
    Person("U0TIM", "tim", "Tim Technician", "technician"),
    Person("U0VIC", "vic", "Vic Viewer", "viewer"),
    Person("U0NIA", "nia", "Nia Newcomer", None),
)

# More of the crew, members of Demo Mine without a Slack account here: enough for two pages
# of `/minesync members`, so Next and Previous can be tried.
CREW = (
    ("bo", "Bo Driller", "technician"),
    ("cy", "Cy Surveyor", "viewer"),
    ("di", "Di Geologist", "planner"),
    ("ed", "Ed Electrician", "technician"),
    ("fay", "Fay Fitter", "technician"),
    ("gus", "Gus Hauler", "viewer"),
    ("hal", "Hal Blaster", "technician"),
)


async def seed(uow: UnitOfWorkFactory) -> bool:
    """Create Demo Mine with its people, bind the sandbox workspace and set the audit channel.

    Returns False (and changes nothing) when Demo Mine already exists, as with --keep.
    """
    try:
        await create_organization(uow(), parse(CreateOrganization, slug=ORG_SLUG, name=ORG_NAME))
    except AlreadyExists:
        return False
    operator = Actor.operator()
    accounts = [(p.handle, p.name, p.role) for p in PEOPLE] + list(CREW)
    for handle, name, role in accounts:
        email = f"{handle}@{DOMAIN}"
        # Nobody signs in to MineSync from the sandbox; the password only has to exist.
        await create_account(
            uow(), parse(CreateAccount, email=email, name=name, password=generate_password())
        )
        if role is not None:
            await invite_member(
                uow(),
                operator,
                parse(InviteMember, organization=ORG_SLUG, email=email, role=role),
            )
    await bind_workspace(uow(), parse(BindWorkspace, team_id=TEAM_ID, organization=ORG_SLUG))
    await configure_organization(
        uow(),
        operator,
        parse(ConfigureOrganization, organization=ORG_SLUG, audit_channel=AUDIT_CHANNEL[0]),
    )
    return True
