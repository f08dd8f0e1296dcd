"""Test harness: a real PostgreSQL, migrated with Alembic, emptied before every test.

`TEST_DATABASE_URL` names the database to use (its schema is dropped and rebuilt); without
it the embedded server under `.data/` is started and a `briefboard_test` database used.
Every request goes through the real app, its real transactions and its real commits.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

os.environ["ENVIRONMENT"] = "test"
os.environ["JWT_SECRET"] = "test-secret-that-is-long-enough-for-hs256-0123456789"
# Cheap argon2 parameters keep the suite fast; production defaults are in settings.
os.environ["ARGON2_TIME_COST"] = "1"
os.environ["ARGON2_MEMORY_KIB"] = "1024"
os.environ["ARGON2_PARALLELISM"] = "1"
os.environ["BRIEFBOARD_CONFIGURE_LOGGING"] = "0"
# Every test client signs up from one address; tests of the limit set their own.
os.environ["REGISTER_MAX_PER_ADDRESS"] = "100000"
# Webhook tests drive their own dispatchers (with their own clocks); the feed shows events
# at once; receivers run on 127.0.0.1.
os.environ["WEBHOOKS_DISPATCH_INTERVAL_SECONDS"] = "0"
os.environ["EVENTS_FEED_SETTLE_SECONDS"] = "0"
os.environ["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = "1"

import asyncpg
import httpx
from alembic import command
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from api.embedded import embedded_database
from api.main import create_app, lifespan
from api.migrations_state import alembic_config
from api.models import metadata
from api.settings import get_settings


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _reset_schema(url: str) -> None:
    conn = await asyncpg.connect(_libpq(url))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with ExitStack() as stack:
        url = os.environ.get("TEST_DATABASE_URL") or stack.enter_context(
            embedded_database(Path(".data"), database="briefboard_test")
        )
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        asyncio.run(_reset_schema(url))
        command.upgrade(alembic_config(url), "head")
        yield url


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(get_settings())
    async with lifespan(application):
        yield application


@pytest.fixture(autouse=True)
async def _empty_tables(app: FastAPI) -> None:
    """Each test starts from empty tables (emptied before, so failures leave evidence).

    DELETE, children first, rather than TRUNCATE: the tables hold a handful of rows, and
    TRUNCATE's file work made it the largest cost of the suite.
    """
    # Table names come from our own metadata, not from input.
    statements = "; ".join(
        f'DELETE FROM "{t.name}"'  # noqa: S608
        for t in reversed(metadata.sorted_tables)
        if t.name not in ("match_index_state", "access_state")
    )
    # As a bulk loader would: a new generation sends the workers' brief indexes back to a
    # full copy (the log of the rows just deleted is deleted too).
    statements += "; UPDATE match_index_state SET generation = generation + 1"
    async with app.state.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        # asyncpg's simple-query protocol runs the statements in one round trip.
        await raw.driver_connection.execute(statements)  # type: ignore[union-attr]


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def second_worker(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another worker of the same host: an app of its own on the same database, sharing
    the first app's run directory (it maps the copies the host's follower publishes)."""
    directory = str(app.state.match_host.directory)
    other = create_app(get_settings().model_copy(update={"match_index_dir": directory}))
    async with lifespan(other):
        transport = httpx.ASGITransport(app=other, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
