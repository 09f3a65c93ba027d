"""The four MineSync roles."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    TECHNICIAN = "technician"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def grants(self) -> str:
        return _GRANTS[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        """Case-insensitive; raises ValueError naming the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            raise ValueError(f"Unknown role {text!r}: choose one of {choices}.") from None


_GRANTS = {
    Role.ADMIN: "everything, including the admin area",
    Role.PLANNER: "fleet, schedules, work orders and lifecycle data",
    Role.TECHNICIAN: "view and update work orders and maintenance logs",
    Role.VIEWER: "read-only access",
}
