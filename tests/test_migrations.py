"""Migrations build exactly the models, on an empty database, and can be undone and redone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from api.migrations_state import alembic_config, head_revisions
from api.models import metadata

CONVENTION_PREFIXES = ("pk_", "fk_", "uq_", "ck_", "ix_")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def fresh_database_url(database_url: str) -> AsyncIterator[str]:
    """A throwaway database on the test server, dropped afterwards."""
    name = f"{make_url(database_url).database}_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_libpq(database_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        admin = await asyncpg.connect(_libpq(database_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _alembic(url: str, action: str, revision: str) -> None:
    # env.py runs its own event loop, so Alembic runs in a thread of its own.
    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    await asyncio.to_thread(getattr(command, action), config, revision)


async def _query(url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(_libpq(url))
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def _tables(url: str) -> set[str]:
    rows = await _query(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    )
    return {r[0] for r in rows}


async def _autogenerate_diff(url: str) -> list[Any]:
    def compare(sync_conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def test_upgrade_head_on_an_empty_database_yields_exactly_the_models(
    fresh_database_url: str,
) -> None:
    await _alembic(fresh_database_url, "upgrade", "head")
    assert await _tables(fresh_database_url) == {t.name for t in metadata.sorted_tables} | {
        "alembic_version"
    }
    assert await _autogenerate_diff(fresh_database_url) == []
    # `alembic check`, as CI runs it, agrees.
    config = alembic_config(fresh_database_url)
    config.attributes["configure_logging"] = False
    await asyncio.to_thread(command.check, config)


async def test_migrated_schema_is_at_head(fresh_database_url: str) -> None:
    await _alembic(fresh_database_url, "upgrade", "head")
    versions = await _query(fresh_database_url, "SELECT version_num FROM alembic_version")
    assert {v[0] for v in versions} == head_revisions()


async def test_every_constraint_and_index_follows_the_naming_convention(
    fresh_database_url: str,
) -> None:
    await _alembic(fresh_database_url, "upgrade", "head")
    constraints = await _query(
        fresh_database_url,
        """
        SELECT c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND t.relname <> 'alembic_version'
          AND c.contype <> 'n'  -- PostgreSQL 18 names NOT NULL constraints itself
          AND c.contype <> 't'  -- constraint triggers (0021's deferred triggers) are triggers
        """,
    )
    indexes = await _query(
        fresh_database_url,
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename <> 'alembic_version'",
    )
    names = [r[0] for r in constraints + indexes]
    assert names
    assert [n for n in names if not n.startswith(CONVENTION_PREFIXES)] == []


async def test_downgrade_base_then_upgrade_head_works(fresh_database_url: str) -> None:
    await _alembic(fresh_database_url, "upgrade", "head")
    await _alembic(fresh_database_url, "downgrade", "base")
    assert await _tables(fresh_database_url) == {"alembic_version"}
    leftover_types = await _query(
        fresh_database_url,
        "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = 'public' AND t.typtype = 'e'",
    )
    assert leftover_types == []

    await _alembic(fresh_database_url, "upgrade", "head")
    assert await _autogenerate_diff(fresh_database_url) == []
