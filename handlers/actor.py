"""Who is acting, passed explicitly into every use case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Actor:
    """A MineSync account acting through an edge, or the trusted operator at the CLI.

    `trusted` skips the Admin check only; every invariant (last Admin, self-change) still holds.
    """

    label: str
    source: str
    user_id: int | None = None
    trusted: bool = False
    context: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def operator(cls) -> Actor:
        return cls(label="cli", source="cli", trusted=True)

    @classmethod
    def member(
        cls, user_id: int, email: str, *, source: str, context: dict[str, Any] | None = None
    ) -> Actor:
        return cls(label=email, source=source, user_id=user_id, context=dict(context or {}))
