"""Account use cases for the operator: accounts exist independently of organizations."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.errors import AlreadyExists
from handlers.passwords import hash_password
from handlers.validation import Command, Email, Name, Password
from storage.errors import ConflictError
from storage.models import User
from storage.uow import UnitOfWork


class CreateAccount(Command):
    email: Email
    name: Name
    password: Password


@dataclass(frozen=True)
class AccountView:
    id: int
    email: str
    name: str


async def create_account(uow: UnitOfWork, cmd: CreateAccount) -> AccountView:
    """Operator only (`minesync-bot user create`): an account with no membership yet."""
    password_hash = await hash_password(cmd.password)
    taken = AlreadyExists(f"An account already uses {cmd.email}.", field="email")
    async with uow:
        if await uow.users.get_by_email(cmd.email) is not None:
            raise taken
        user = User(email=cmd.email, name=cmd.name, password_hash=password_hash)
        uow.users.add(user)
        try:
            await uow.commit()
        except ConflictError:
            raise taken from None
        return AccountView(user.id, user.email, user.name)
