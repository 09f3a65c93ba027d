"""Pydantic input types shared by the commands, and the one place ValidationError is translated."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    SecretStr,
    StringConstraints,
    ValidationError,
)

from handlers.errors import InvalidInput
from handlers.roles import Role

PASSWORD_MIN = 8
PASSWORD_MAX = 1024


def _printable_name(value: str) -> str:
    if not value.isprintable():
        raise ValueError("Name may contain printable characters only.")
    return value


def _password_length(value: SecretStr) -> SecretStr:
    length = len(value.get_secret_value())
    if length < PASSWORD_MIN:
        raise ValueError(f"Password must be at least {PASSWORD_MIN} characters.")
    if length > PASSWORD_MAX:
        raise ValueError(f"Password must be at most {PASSWORD_MAX} characters.")
    return value


def _lower_email(value: str) -> str:
    return value.lower()


def _parse_role(value: object) -> Role:
    if isinstance(value, Role):
        return value
    return Role.parse(str(value))


def _slug(value: str) -> str:
    return value.strip().lower()


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable_name),
]
Email = Annotated[EmailStr, AfterValidator(_lower_email)]
Password = Annotated[SecretStr, AfterValidator(_password_length)]
RoleName = Annotated[Role, BeforeValidator(_parse_role)]


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


# Case is normalized BEFORE the pattern check (pydantic checks patterns before to_lower).
Slug = Annotated[
    str, BeforeValidator(_lower), StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
]
UpperId = BeforeValidator(_upper)


class Command(BaseModel):
    # Inputs are never echoed back in errors: a password must not reach a log or a reply.
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True, extra="forbid")


M = TypeVar("M", bound=BaseModel)

_ID_SHAPES = {
    "team_id": "T0123ABCD (a Slack workspace id)",
    "audit_channel": "C0123ABCD (a Slack channel id)",
}
_FIELD_LABELS = {
    "team_id": "Slack workspace id",
    "audit_channel": "Audit channel",
    "removal_approvals": "Removal approvals",
    "email": "Email",
    "name": "Name",
    "password": "Password",
    "role": "Role",
    "organization": "Organization",
    "slug": "Organization slug",
}


def parse(model: type[M], **data: object) -> M:
    """Build a command, turning pydantic's report into InvalidInput with one message a field."""
    try:
        return model(**data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One message a person can act on per invalid field, never echoing the input."""
    errors: dict[str, str] = {}
    for err in exc.errors(include_input=False, include_url=False):
        field = str(err["loc"][0]) if err["loc"] else "input"
        errors.setdefault(field, _message(field, err["type"], err["msg"], err.get("ctx")))
    return errors


def _message(field: str, kind: str, msg: str, ctx: dict[str, object] | None) -> str:
    label = _FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
    if kind == "missing":
        return f"{label} is required."
    if kind == "value_error":
        # Our own validators and email-validator: the text after "Value error, " is for people.
        text = msg.removeprefix("Value error, ")
        if field == "email" and not text.startswith("Email"):
            reason = text.removeprefix("value is not a valid email address: ")
            return f"That is not a valid email address: {reason}"
        return text
    if kind == "string_too_short":
        return f"{label} must not be empty."
    if kind == "string_too_long":
        return f"{label} must be at most {ctx.get('max_length') if ctx else '?'} characters."
    if kind == "string_pattern_mismatch" and field in ("slug", "organization"):
        return (
            f"{label} must be lower-case letters, digits and dashes "
            "(up to 63, starting with a letter or digit)."
        )
    if kind == "string_pattern_mismatch" and field in _ID_SHAPES:
        return f"{label} must look like {_ID_SHAPES[field]}."
    return f"{label}: {msg}."
