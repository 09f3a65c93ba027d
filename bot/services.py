"""What every listener needs, built once by the composition root (bot.app)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.deadline import BackgroundTasks
from bot.settings import Settings
from handlers.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class Services:
    settings: Settings
    uow: UnitOfWorkFactory
    background: BackgroundTasks = field(default_factory=BackgroundTasks)
