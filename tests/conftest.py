"""Shared fixtures: every test that touches storage runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from handlers.actor import Actor
from storage.database import Database
from storage.uow import UnitOfWorkFactory, unit_of_work_factory
from tests import databases


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("database_kind") == "postgresql":
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-template")
    return asyncio.run(databases.migrated_sqlite_template(directory))


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str | None]:
    server_url = databases.postgres_url()
    if server_url is None:
        yield None
        return
    url = asyncio.run(databases.create_postgres_database(server_url))
    yield url
    asyncio.run(databases.drop_postgres_database(server_url, url))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(
    database_kind: str, sqlite_template: Path, postgres_ready: str | None, tmp_path: Path
) -> str:
    if database_kind == "sqlite":
        return databases.fresh_sqlite_url(sqlite_template, tmp_path)
    if postgres_ready is None:
        if os.environ.get(databases.REQUIRE_ENV):
            pytest.fail(f"{databases.SKIP_REASON}, and {databases.REQUIRE_ENV} is set")
        pytest.skip(databases.SKIP_REASON)
    return postgres_ready


@pytest.fixture
async def database(database_url: str, database_kind: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    if database_kind == "postgresql":
        await databases.empty_postgres(db)
    yield db
    await db.dispose()


@pytest.fixture
def uow(database: Database) -> UnitOfWorkFactory:
    return unit_of_work_factory(database)


@pytest.fixture
def operator() -> Actor:
    return Actor.operator()
