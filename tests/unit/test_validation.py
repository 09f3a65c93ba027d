"""Input parsing: one message a person can act on per field, and a password never echoed."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from handlers.accounts import CreateAccount
from handlers.errors import InvalidInput
from handlers.members import InviteMember
from handlers.organizations import BindWorkspace, ConfigureOrganization
from handlers.roles import Role
from handlers.validation import field_errors, parse

GOOD = {"email": "ada@acme.example.com", "name": "Ada Lovelace", "password": "longenough"}


def account_errors(**changes: object) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse(CreateAccount, **(GOOD | changes))
    return caught.value.errors


def test_valid_account_is_parsed_with_email_lower_cased_and_name_trimmed():
    cmd = parse(CreateAccount, email="Ada.L@Acme.EXAMPLE.com", name="  Ada  ", password="12345678")
    assert cmd.email == "ada.l@acme.example.com"
    assert cmd.name == "Ada"
    assert isinstance(cmd.password, SecretStr)
    assert cmd.password.get_secret_value() == "12345678"


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("ada.acme.example.com", "An email address must have an @-sign."),
        ("ada@acme", "The part after the @-sign is not valid. It should have a period."),
        ("a da@acme.example.com", "invalid characters before the @-sign: SPACE."),
        ("", "An email address must have an @-sign."),
    ],
)
def test_invalid_email_says_why(email, reason):
    message = account_errors(email=email)["email"]
    assert message.startswith("That is not a valid email address: ")
    assert message.endswith(reason)


def test_missing_fields_are_each_named():
    with pytest.raises(InvalidInput) as caught:
        parse(CreateAccount, name="Ada")
    assert caught.value.errors == {
        "email": "Email is required.",
        "password": "Password is required.",
    }
    # The exception's own message is the first field's, for edges that show only one line.
    assert str(caught.value) == "Email is required."
    assert caught.value.field == "email"
    assert caught.value.code == "invalid_input"


@pytest.mark.parametrize("text", ["admin", "ADMIN", "Admin", "  aDmIn  ", Role.ADMIN])
def test_role_names_are_case_insensitive(text):
    cmd = parse(InviteMember, organization="acme", email="nia@acme.example.com", role=text)
    assert cmd.role is Role.ADMIN


@pytest.mark.parametrize(
    ("text", "role"),
    [("planner", Role.PLANNER), ("Technician", Role.TECHNICIAN), ("VIEWER", Role.VIEWER)],
)
def test_every_role_parses(text, role):
    cmd = parse(InviteMember, organization="acme", email="nia@acme.example.com", role=text)
    assert cmd.role is role


@pytest.mark.parametrize("text", ["owner", "", "admins"])
def test_unknown_role_names_the_choices(text):
    with pytest.raises(InvalidInput) as caught:
        parse(InviteMember, organization="acme", email="nia@acme.example.com", role=text)
    assert caught.value.errors == {
        "role": f"Unknown role {text!r}: choose one of admin, planner, technician, viewer."
    }


@pytest.mark.parametrize("name", ["A", "x" * 100, "Ólafur Þór", "O'Brien-Smith Jr."])
def test_names_of_1_to_100_printable_characters_are_accepted(name):
    assert parse(CreateAccount, **(GOOD | {"name": name})).name == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Name must not be empty."),
        ("   ", "Name must not be empty."),
        ("x" * 101, "Name must be at most 100 characters."),
        ("Ada\nLovelace", "Name may contain printable characters only."),
        ("Ada\x00", "Name may contain printable characters only."),
        ("Ada\u200bL", "Name may contain printable characters only."),
    ],
)
def test_invalid_names_say_which_rule(name, message):
    assert account_errors(name=name) == {"name": message}


@pytest.mark.parametrize("length", [8, 1024])
def test_passwords_at_the_length_bounds_are_accepted(length):
    cmd = parse(CreateAccount, **(GOOD | {"password": "p" * length}))
    assert len(cmd.password.get_secret_value()) == length


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Secret7", "Password must be at least 8 characters."),
        ("", "Password must be at least 8 characters."),
        ("S3cr3t!" * 147, "Password must be at most 1024 characters."),  # 1029 characters
    ],
)
def test_invalid_password_is_never_echoed(password, message):
    with pytest.raises(InvalidInput) as caught:
        parse(CreateAccount, **(GOOD | {"password": SecretStr(password)}))
    error = caught.value
    assert error.errors == {"password": message}
    if password:
        for shown in (str(error), repr(error), error.message, repr(error.errors)):
            assert password not in shown


def test_pydantic_error_itself_hides_the_password():
    # Edges that log a raw ValidationError must not leak the input either.
    with pytest.raises(ValidationError) as caught:
        CreateAccount(email="ada@acme.example.com", name="Ada", password="hunter7")
    assert "hunter7" not in str(caught.value)
    assert "hunter7" not in repr(field_errors(caught.value))


def test_a_parsed_password_is_masked_in_str_and_repr():
    cmd = parse(CreateAccount, **(GOOD | {"password": "correct horse battery"}))
    for shown in (str(cmd), repr(cmd), str(cmd.password), repr(cmd.password)):
        assert "correct horse" not in shown
    assert "**********" in repr(cmd)


def test_unknown_fields_are_refused():
    with pytest.raises(InvalidInput) as caught:
        parse(CreateAccount, **(GOOD | {"is_admin": True}))
    assert set(caught.value.errors) == {"is_admin"}


def test_organization_slug_rule_is_explained():
    with pytest.raises(InvalidInput) as caught:
        parse(InviteMember, organization="acme mining", email="nia@acme.example.com", role="viewer")
    assert caught.value.errors == {
        "organization": "Organization must be lower-case letters, digits and dashes "
        "(up to 63, starting with a letter or digit)."
    }


@pytest.mark.parametrize(
    ("model", "data", "field", "expected"),
    [
        (InviteMember, {"email": "n@acme.example.com", "role": "viewer"}, "organization", "acme"),
        (BindWorkspace, {"organization": "acme"}, "team_id", "T0ACME"),
        (ConfigureOrganization, {"organization": "acme"}, "audit_channel", "C0AUDIT"),
    ],
)
def test_case_normalized_identifiers_accept_any_case(model, data, field, expected):
    mixed = expected.swapcase() if field != "organization" else "Acme"
    cmd = parse(model, **(data | {field: mixed}))
    assert getattr(cmd, field) == expected
