"""Argon2id password hashing, off the event loop."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import SecretStr

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106 low-memory params


async def hash_password(password: SecretStr) -> str:
    # Hashing takes tens of milliseconds by design; keep the event loop answering Slack.
    return await asyncio.to_thread(_hasher.hash, password.get_secret_value())


def verify_password(password_hash: str, password: SecretStr) -> bool:
    try:
        return _hasher.verify(password_hash, password.get_secret_value())
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> SecretStr:
    """A strong password for `user create` without --password-stdin: 20 URL-safe characters."""
    return SecretStr(secrets.token_urlsafe(15))
