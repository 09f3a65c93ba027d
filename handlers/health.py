"""Liveness of what the bot depends on."""

from __future__ import annotations

from storage.uow import UnitOfWork


async def check_database(uow: UnitOfWork) -> None:
    """Raises when the database does not answer."""
    async with uow:
        await uow.ping()
