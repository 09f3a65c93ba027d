"""The membership rules, one by one, on SQLite and PostgreSQL, asserting database outcomes."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from handlers import audit_log
from handlers.actor import Actor
from handlers.errors import (
    AccountNotFound,
    AlreadyExists,
    InvalidInput,
    LastAdmin,
    MemberNotFound,
    NoChange,
    OrganizationNotFound,
    PermissionDenied,
    SelfChange,
)
from handlers.members import (
    ChangeRole,
    CreateUser,
    InviteMember,
    RemoveMember,
    change_role,
    create_user,
    invite_member,
    remove_member,
)
from handlers.organizations import ConfigureOrganization, configure_organization
from handlers.validation import parse
from storage.uow import UnitOfWorkFactory
from tests import seed
from tests.state import audit_actions, role_of

ADMIN = "ada@acme.example.com"
ADMIN2 = "abe@acme.example.com"
PLANNER = "pat@acme.example.com"


@pytest.fixture
async def acme(uow: UnitOfWorkFactory) -> dict[str, Actor]:
    return await seed.org_with_members(
        uow, "acme", "Acme Mining", {ADMIN: "admin", ADMIN2: "admin", PLANNER: "planner"}
    )


async def test_invite_adds_membership_and_audits_it(uow, acme):
    await seed.account(uow, "nia@acme.example.com")
    change = await invite_member(
        uow(),
        acme[ADMIN],
        parse(InviteMember, organization="acme", email="NIA@acme.example.com", role="Technician"),
    )
    assert change.role_after == "technician"
    assert await role_of(uow, "acme", "nia@acme.example.com") == "technician"
    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        entry = (await u.audit.latest(org.id, 1))[0]
    assert entry.action == "member.invited"
    assert entry.actor == ADMIN and entry.source == "slack"
    assert entry.before is None
    assert entry.after == {"email": "nia@acme.example.com", "name": "Nia", "role": "technician"}
    assert entry.diff["role"] == [None, "technician"]
    assert entry.context == {"team_id": "T1"}


async def test_invite_needs_an_existing_account(uow, acme):
    with pytest.raises(AccountNotFound, match="No MineSync account uses ghost@acme.example.com"):
        await invite_member(
            uow(),
            acme[ADMIN],
            parse(InviteMember, organization="acme", email="ghost@acme.example.com", role="viewer"),
        )
    assert await audit_actions(uow, "acme") == ["member.invited"] * 3


async def test_invite_of_a_member_is_refused(uow, acme):
    with pytest.raises(
        AlreadyExists, match=r"pat@acme.example.com is already a member of Acme Mining"
    ):
        await invite_member(
            uow(),
            acme[ADMIN],
            parse(InviteMember, organization="acme", email=PLANNER, role="viewer"),
        )
    assert await role_of(uow, "acme", PLANNER) == "planner"


async def test_only_admins_of_that_organization_may_act(uow, acme):
    other = await seed.org_with_members(
        uow, "zinc", "Zinc Works", {"zed@zinc.example.com": "admin"}
    )
    await seed.account(uow, "nia@acme.example.com")
    cmd = parse(InviteMember, organization="acme", email="nia@acme.example.com", role="viewer")
    with pytest.raises(
        PermissionDenied, match="only Admins of Acme Mining.*Your role there is Planner"
    ):
        await invite_member(uow(), acme[PLANNER], cmd)
    with pytest.raises(PermissionDenied, match="not a member of Acme Mining"):
        await invite_member(uow(), other["zed@zinc.example.com"], cmd)
    assert await role_of(uow, "acme", "nia@acme.example.com") is None


async def test_unknown_organization_is_named(uow, acme):
    with pytest.raises(OrganizationNotFound, match="no organization 'nope'"):
        await remove_member(
            uow(), acme[ADMIN], parse(RemoveMember, organization="nope", member=PLANNER)
        )


async def test_create_user_makes_account_and_membership(uow, acme):
    change = await create_user(
        uow(),
        acme[ADMIN],
        parse(
            CreateUser,
            organization="acme",
            name="Cy Crew",
            email="Cy@Acme.example.com",
            password=SecretStr("longenough"),
            role="viewer",
        ),
    )
    assert change.email == "cy@acme.example.com"
    assert await role_of(uow, "acme", "cy@acme.example.com") == "viewer"
    async with uow() as u:
        user = await u.users.get_by_email("cy@acme.example.com")
    assert user.password_hash.startswith("$argon2id$")
    assert "longenough" not in user.password_hash
    assert (await audit_actions(uow, "acme"))[-1] == "user.created"


async def test_create_user_refuses_an_email_in_use_in_any_case(uow, acme):
    with pytest.raises(AlreadyExists, match="already uses pat@acme.example.com"):
        await create_user(
            uow(),
            acme[ADMIN],
            parse(
                CreateUser,
                organization="acme",
                name="Pat",
                email="PAT@acme.example.com",
                password=SecretStr("longenough"),
                role="viewer",
            ),
        )


@pytest.mark.parametrize("password", ["short7!", "x" * 1025])
async def test_password_length_is_enforced_without_echoing_it(password):
    with pytest.raises(InvalidInput) as caught:
        parse(
            CreateUser,
            organization="acme",
            name="Cy",
            email="cy@acme.example.com",
            password=SecretStr(password),
            role="viewer",
        )
    assert caught.value.field == "password"
    assert "Password must be at" in caught.value.message
    assert password not in str(caught.value)
    assert password not in repr(caught.value.errors)


async def test_create_user_is_one_transaction(uow, acme, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit_log, "record", broken)
    with pytest.raises(RuntimeError):
        await create_user(
            uow(),
            acme[ADMIN],
            parse(
                CreateUser,
                organization="acme",
                name="Cy",
                email="cy@acme.example.com",
                password=SecretStr("longenough"),
                role="viewer",
            ),
        )
    async with uow() as u:
        assert await u.users.get_by_email("cy@acme.example.com") is None


async def test_change_role_records_before_and_after(uow, acme):
    change = await change_role(
        uow(), acme[ADMIN], parse(ChangeRole, organization="acme", member=PLANNER, role="admin")
    )
    assert (change.role_before, change.role_after) == ("planner", "admin")
    assert await role_of(uow, "acme", PLANNER) == "admin"
    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        entry = (await u.audit.latest(org.id, 1))[0]
    assert entry.action == "member.role_changed"
    assert entry.diff == {"role": ["planner", "admin"]}


async def test_you_cannot_change_your_own_role(uow, acme):
    with pytest.raises(SelfChange, match="cannot change your own role in Acme Mining"):
        await change_role(
            uow(), acme[ADMIN], parse(ChangeRole, organization="acme", member=ADMIN, role="viewer")
        )
    assert await role_of(uow, "acme", ADMIN) == "admin"


async def test_same_role_is_no_change(uow, acme):
    with pytest.raises(NoChange, match="already a Planner"):
        await change_role(
            uow(),
            acme[ADMIN],
            parse(ChangeRole, organization="acme", member=PLANNER, role="planner"),
        )


async def test_the_last_admin_cannot_be_demoted_or_removed(uow, acme, operator):
    await remove_member(uow(), acme[ADMIN], parse(RemoveMember, organization="acme", member=ADMIN2))
    with pytest.raises(LastAdmin, match="cannot demote the last Admin of Acme Mining"):
        await change_role(
            uow(), operator, parse(ChangeRole, organization="acme", member=ADMIN, role="viewer")
        )
    with pytest.raises(LastAdmin, match="cannot remove the last Admin of Acme Mining"):
        await remove_member(uow(), operator, parse(RemoveMember, organization="acme", member=ADMIN))
    assert await role_of(uow, "acme", ADMIN) == "admin"


async def test_you_cannot_remove_yourself(uow, acme):
    with pytest.raises(SelfChange, match="cannot remove yourself from Acme Mining"):
        await remove_member(
            uow(), acme[ADMIN], parse(RemoveMember, organization="acme", member=ADMIN)
        )


async def test_remove_keeps_the_account_which_can_be_invited_again(uow, acme):
    await remove_member(
        uow(), acme[ADMIN], parse(RemoveMember, organization="acme", member=PLANNER)
    )
    assert await role_of(uow, "acme", PLANNER) is None
    async with uow() as u:
        assert await u.users.get_by_email(PLANNER) is not None
        org = await u.organizations.get_by_slug("acme")
        assert org.member_count == 2
    with pytest.raises(MemberNotFound, match="pat@acme.example.com is not a member of Acme Mining"):
        await remove_member(
            uow(), acme[ADMIN], parse(RemoveMember, organization="acme", member=PLANNER)
        )
    await invite_member(
        uow(), acme[ADMIN], parse(InviteMember, organization="acme", email=PLANNER, role="viewer")
    )
    assert await role_of(uow, "acme", PLANNER) == "viewer"
    assert (await audit_actions(uow, "acme"))[-2:] == ["member.removed", "member.invited"]


async def test_a_refused_change_writes_nothing(uow, acme):
    before = await audit_actions(uow, "acme")
    with pytest.raises(SelfChange):
        await remove_member(
            uow(), acme[ADMIN], parse(RemoveMember, organization="acme", member=ADMIN)
        )
    assert await audit_actions(uow, "acme") == before


async def test_outbox_summary_is_written_with_the_change(uow, acme):
    await configure_organization(
        uow(),
        acme[ADMIN],
        parse(ConfigureOrganization, organization="acme", audit_channel="C0AUDIT"),
    )
    await change_role(
        uow(), acme[ADMIN], parse(ChangeRole, organization="acme", member=PLANNER, role="viewer")
    )
    async with uow() as u:
        claimed = await u.outbox.claim(limit=10, lease=__import__("datetime").timedelta(seconds=30))
    payloads = [m.payload for m in claimed]
    assert [p["action"] for p in payloads] == ["org.audit_channel_changed", "member.role_changed"]
    assert payloads[1]["before"]["role"] == "planner" and payloads[1]["after"]["role"] == "viewer"
    assert {m.channel_id for m in claimed} == {"C0AUDIT"}


async def test_invalid_inputs_have_specific_messages():
    with pytest.raises(InvalidInput, match="not a valid email address"):
        parse(InviteMember, organization="acme", email="not-an-email", role="viewer")
    with pytest.raises(InvalidInput, match="Unknown role 'boss'"):
        parse(InviteMember, organization="acme", email="a@b.co", role="boss")
    with pytest.raises(InvalidInput, match="Name must not be empty"):
        parse(
            CreateUser,
            organization="acme",
            name="  ",
            email="a@b.co",
            password=SecretStr("longenough"),
            role="viewer",
        )
    with pytest.raises(InvalidInput, match="printable"):
        parse(
            CreateUser,
            organization="acme",
            name="bell\x07",
            email="a@b.co",
            password=SecretStr("longenough"),
            role="viewer",
        )
