"""The members list: keyset pages walked both ways, search, and who may look, on both databases."""

from __future__ import annotations

import csv
import io

import pytest

from handlers.actor import Actor
from handlers.errors import InvalidInput, PermissionDenied
from handlers.importing import import_members, read_csv
from handlers.listing import ListMembers, MembersPage, all_members, list_members
from handlers.organizations import CreateOrganization, create_organization
from handlers.validation import parse
from storage.uow import UnitOfWorkFactory
from tests import seed

ADMIN = "ada@acme.example.com"
PLANNER = "pat@acme.example.com"

# Beside the admin and the planner: names and emails chosen so that searching can go wrong.
OTHERS = [(f"m{i:02d}@acme.example.com", f"Member {i:02d}", "viewer") for i in range(20)] + [
    ("grace@acme.example.com", "GRACE Hopper", "technician"),
    ("under_score@acme.example.com", "Una Score", "viewer"),
    ("underxscore@acme.example.com", "Ux Score", "viewer"),
    ("per%cent@acme.example.com", "Percy Cent", "viewer"),
    ("pure@acme.example.com", "100% Pure", "viewer"),
    ("purex@acme.example.com", "1000 Pure", "viewer"),
    ("olafur@acme.example.com", "Ólafur Þórsson", "viewer"),
]
ALL_EMAILS = sorted([ADMIN, PLANNER] + [email for email, _, _ in OTHERS])


def csv_text(rows: list[tuple[str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "role"])
    writer.writerows(rows)
    return out.getvalue()


async def org_by_import(
    uow: UnitOfWorkFactory, slug: str, name: str, rows: list[tuple[str, str, str]]
) -> dict[str, Actor]:
    """An organization filled by the real import use case (no Argon2 hashing: fast to seed)."""
    await create_organization(uow(), parse(CreateOrganization, slug=slug, name=name))
    await import_members(
        uow(), Actor.operator(), slug, read_csv(io.StringIO(csv_text(rows), newline=""))
    )
    async with uow() as u:
        users = await u.users.find_by_emails([email for email, _, _ in rows])
    return {
        email: Actor.member(user.id, email, source="slack", context={"team_id": "T1"})
        for email, user in users.items()
    }


@pytest.fixture
async def acme(uow: UnitOfWorkFactory) -> dict[str, Actor]:
    rows = [(ADMIN, "Ada Lovelace", "admin"), (PLANNER, "Pat Planner", "planner"), *OTHERS]
    return await org_by_import(uow, "acme", "Acme Mining", rows)


async def page(uow: UnitOfWorkFactory, actor: Actor, **kwargs: object) -> MembersPage:
    return await list_members(uow(), actor, parse(ListMembers, organization="acme", **kwargs))


async def in_database_order(uow: UnitOfWorkFactory, actor: Actor) -> list[str]:
    return [m.email async for m in all_members(uow(), actor, "acme")]


async def test_next_walks_every_member_exactly_once_in_email_order(uow, acme):
    seen: list[str] = []
    current = await page(uow, acme[ADMIN], limit=4)
    assert current.has_previous is False
    assert current.previous_cursor is None
    pages = 1
    while True:
        assert 1 <= len(current.members) <= 4
        seen += [m.email for m in current.members]
        if not current.has_next:
            break
        assert len(current.members) == 4
        current = await page(uow, acme[ADMIN], limit=4, after=current.next_cursor)
        assert current.has_previous is True
        pages += 1
    assert len(seen) == len(set(seen)) == len(ALL_EMAILS)
    assert sorted(seen) == ALL_EMAILS
    # In the database's email order (the same as Python's under the C collation).
    assert seen == await in_database_order(uow, acme[ADMIN])
    assert pages == -(-len(ALL_EMAILS) // 4)
    assert current.next_cursor is None


async def test_previous_walks_back_to_the_first_page(uow, acme):
    # Go to the last page first, then walk back with Previous only.
    current = await page(uow, acme[ADMIN], limit=6)
    while current.has_next:
        current = await page(uow, acme[ADMIN], limit=6, after=current.next_cursor)
    assert current.has_previous is True
    walked_back: list[list[str]] = [[m.email for m in current.members]]
    while current.has_previous:
        current = await page(uow, acme[ADMIN], limit=6, before=current.previous_cursor)
        assert len(current.members) == 6  # a Previous page is always full
        assert current.has_next is True
        walked_back.append([m.email for m in current.members])
    assert current.previous_cursor is None
    backwards = [email for chunk in reversed(walked_back) for email in chunk]
    assert backwards == await in_database_order(uow, acme[ADMIN])
    assert sorted(backwards) == ALL_EMAILS
    # The first page reached by Previous is the very first page.
    first = await page(uow, acme[ADMIN], limit=6)
    assert [m.email for m in first.members] == walked_back[-1]


async def test_a_page_that_ends_exactly_at_the_last_member_has_no_next(uow, acme):
    # m00..m09: ten matches, two full pages of five, and no empty third page.
    first = await page(uow, acme[ADMIN], limit=5, query="m0")
    assert [m.email for m in first.members] == [f"m0{i}@acme.example.com" for i in range(5)]
    assert (first.has_previous, first.has_next) == (False, True)
    second = await page(uow, acme[ADMIN], limit=5, query="m0", after=first.next_cursor)
    assert [m.email for m in second.members] == [f"m0{i}@acme.example.com" for i in range(5, 10)]
    assert (second.has_previous, second.has_next) == (True, False)


async def test_one_page_holding_everything_has_neither_next_nor_previous(uow, acme):
    only = await page(uow, acme[ADMIN], limit=20, query="score")
    assert [m.email for m in only.members] == [
        "under_score@acme.example.com",
        "underxscore@acme.example.com",
    ]
    assert (only.has_previous, only.has_next) == (False, False)


async def test_total_is_the_organization_member_count(uow, acme):
    first = await page(uow, acme[ADMIN])
    async with uow() as u:
        org = await u.organizations.get_by_slug("acme")
        counted = await u.memberships.count(org.id)
    assert first.total == org.member_count == counted == len(ALL_EMAILS)
    assert first.organization == "Acme Mining" and first.organization_slug == "acme"
    assert len(first.members) == 10  # the default page size


async def test_members_carry_name_and_role(uow, acme):
    found = await page(uow, acme[ADMIN], query="grace")
    assert [(m.email, m.name, m.role.value) for m in found.members] == [
        ("grace@acme.example.com", "GRACE Hopper", "technician")
    ]


async def test_query_filters_by_email_or_name_case_insensitively(uow, acme):
    cases = {
        "GRACE@ACME": ["grace@acme.example.com"],  # email, any case
        "grace hop": ["grace@acme.example.com"],  # name, any case
        "HOPPER": ["grace@acme.example.com"],
        "  hopper  ": ["grace@acme.example.com"],  # surrounding blanks ignored
        "member 1": [f"m1{i}@acme.example.com" for i in range(10)],
        "nobody-matches": [],
    }
    for query, expected in cases.items():
        found = await page(uow, acme[ADMIN], query=query, limit=20)
        assert [m.email for m in found.members] == expected, query
        assert (found.has_next, found.has_previous) == (False, False), query
        assert found.query == query.strip()


async def test_like_metacharacters_in_the_query_are_literal(uow, acme):
    cases = {
        "under_score": ["under_score@acme.example.com"],  # not underxscore
        "_": ["under_score@acme.example.com"],
        "%": ["per%cent@acme.example.com", "pure@acme.example.com"],
        "100%": ["pure@acme.example.com"],  # not "1000 Pure"
        "r%c": ["per%cent@acme.example.com"],
        "\\": [],
        "%%": [],
    }
    for query, expected in cases.items():
        found = await page(uow, acme[ADMIN], query=query, limit=20)
        assert [m.email for m in found.members] == expected, query


async def test_non_ascii_names_match_in_any_case(uow, acme):
    for query in ("ÓLAFUR", "ólafur", "þórsson"):
        found = await page(uow, acme[ADMIN], query=query)
        assert [m.email for m in found.members] == ["olafur@acme.example.com"], query


async def test_a_non_admin_member_is_refused(uow, acme):
    with pytest.raises(PermissionDenied, match="only Admins of Acme Mining.*Planner"):
        await page(uow, acme[PLANNER])


async def test_an_admin_of_another_organization_is_refused(uow, acme):
    zinc = await org_by_import(
        uow, "zinc", "Zinc Works", [("zed@zinc.example.com", "Zed", "admin")]
    )
    with pytest.raises(PermissionDenied, match="not a member of Acme Mining"):
        await page(uow, zinc["zed@zinc.example.com"])
    # ... while listing their own organization works, and shows only their members.
    own = await list_members(
        uow(), zinc["zed@zinc.example.com"], parse(ListMembers, organization="zinc")
    )
    assert [m.email for m in own.members] == ["zed@zinc.example.com"]
    assert own.total == 1


async def test_an_account_without_membership_is_refused(uow, acme):
    user_id = await seed.account(uow, "stranger@acme.example.com")
    stranger = Actor.member(user_id, "stranger@acme.example.com", source="slack")
    with pytest.raises(PermissionDenied, match="not a member of Acme Mining"):
        await page(uow, stranger)


@pytest.mark.parametrize("limit", [0, 21, -1])
def test_page_size_out_of_bounds_is_invalid_input(limit):
    with pytest.raises(InvalidInput) as caught:
        parse(ListMembers, organization="acme", limit=limit)
    assert set(caught.value.errors) == {"limit"}


@pytest.mark.parametrize("limit", [1, 20])
def test_page_size_bounds_are_accepted(limit):
    assert parse(ListMembers, organization="acme", limit=limit).limit == limit


async def test_page_size_one_still_walks_everything(uow, acme):
    seen = []
    current = await page(uow, acme[ADMIN], limit=1, query="score")
    seen.append(current.members[0].email)
    while current.has_next:
        current = await page(uow, acme[ADMIN], limit=1, query="score", after=current.next_cursor)
        seen.append(current.members[0].email)
    assert seen == ["under_score@acme.example.com", "underxscore@acme.example.com"]
