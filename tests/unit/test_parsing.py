"""The /minesync text parser accepts every form Slack sends."""

from __future__ import annotations

import pytest

from bot.parsing import MemberRef, UsageError, channel_id, member_ref, parse


@pytest.mark.parametrize(
    ("text", "subcommand", "args", "org"),
    [
        ("", "help", [], None),
        ("HELP", "help", [], None),
        ("users pat", "members", ["pat"], None),
        ("Members --org Acme", "members", [], "acme"),
        ("role <@U123|pat> Admin --org=zinc", "role", ["<@U123|pat>", "Admin"], "zinc"),
        (
            "invite <mailto:a@b.com|a@b.com> viewer",
            "invite",
            ["<mailto:a@b.com|a@b.com>", "viewer"],
            None,
        ),
    ],
)
def test_parse(text, subcommand, args, org):
    parsed = parse(text)
    assert (parsed.subcommand, parsed.args, parsed.org) == (subcommand, args, org)


def test_unknown_subcommand_is_named():
    with pytest.raises(UsageError, match="don't know the command `frobnicate`"):
        parse("frobnicate now")


def test_org_flag_needs_a_value():
    with pytest.raises(UsageError, match="--org"):
        parse("members --org")


@pytest.mark.parametrize(
    ("word", "ref"),
    [
        ("<mailto:Pat@Acme.com|Pat@Acme.com>", MemberRef(email="Pat@Acme.com")),
        ("pat@acme.com", MemberRef(email="pat@acme.com")),
        ("<@U123ABC|pat>", MemberRef(slack_user_id="U123ABC")),
        ("<@W123ABC>", MemberRef(slack_user_id="W123ABC")),
    ],
)
def test_member_forms(word, ref):
    assert member_ref(word) == ref


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("<#C0AUDIT|audit>", "C0AUDIT"),
        ("<#G123>", "G123"),
        ("C0AUDIT", "C0AUDIT"),
        ("c0audit", None),
        ("#audit", None),
        ("general", None),
    ],
)
def test_channel_forms(word, expected):
    assert channel_id(word) == expected
