"""What the edges (Slack bot, CLI) hand to use cases: a fresh unit of work per call."""

from storage.uow import UnitOfWork, UnitOfWorkFactory

__all__ = ["UnitOfWork", "UnitOfWorkFactory"]
