"""Typed domain errors: a stable code for machines, a message a person can act on.

The Slack edge turns these into ephemeral replies or modal field errors; the CLI prints the
message on stderr. `field` names the input the message is about, when there is one.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """One or more inputs are malformed; `errors` maps each field to its message."""

    code = "invalid_input"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)


class NotFound(DomainError):
    code = "not_found"


class OrganizationNotFound(NotFound):
    code = "organization_not_found"


class AccountNotFound(NotFound):
    code = "account_not_found"


class MemberNotFound(NotFound):
    code = "member_not_found"


class PermissionDenied(DomainError):
    code = "permission_denied"


class RuleViolation(DomainError):
    code = "rule_violation"


class LastAdmin(RuleViolation):
    code = "last_admin"


class SelfChange(RuleViolation):
    code = "self_change"


class AlreadyExists(RuleViolation):
    code = "already_exists"


class NoChange(RuleViolation):
    code = "no_change"


class RequestClosed(RuleViolation):
    """A removal request that was already resolved or has expired."""

    code = "request_closed"
