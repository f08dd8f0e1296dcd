"""A row locked for long makes its own writers fail fast; nobody else notices."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import asyncpg
import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from api.settings import Settings, get_settings
from tests import factories
from tests.factories import assert_problem
from tests.test_db_unavailable import worker

HOLD_SECONDS = 10.0


async def _hold_row_lock(
    url: str, brief_id: str, locked: asyncio.Event, release: asyncio.Event
) -> None:
    """Another transaction keeps the brief's row locked (a slow writer, a stuck admin)
    until `release`, at most HOLD_SECONDS."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(libpq)
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM briefs WHERE id = $1 FOR UPDATE", uuid.UUID(brief_id))
            locked.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), HOLD_SECONDS)
    finally:
        await conn.close()


async def test_writers_of_a_locked_brief_get_409_while_other_briefs_stay_readable(
    client: httpx.AsyncClient, database_url: str
) -> None:
    brand = await factories.brand(client)
    locked_brief = await factories.brief(client, brand)
    other_brief = await factories.brief(client, brand)
    # A small pool whose timeout is shorter than the row stays locked: without lock_timeout
    # the writers would hold both connections until the lock goes, and the reads would
    # wait out the pool timeout.
    settings = {
        "db_pool_size": 2,
        "db_max_overflow": 0,
        "db_pool_timeout_seconds": 5.0,
        "db_lock_timeout_ms": 300,
    }
    async with worker(**settings) as (_, c):
        locked, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(
            _hold_row_lock(database_url, locked_brief["id"], locked, release)
        )
        await locked.wait()
        started = time.monotonic()
        writes = [
            c.post(f"/v1/briefs/{locked_brief['id']}/cancel", headers=brand.headers)
            for _ in range(4)
        ]
        reads = [c.get(f"/v1/briefs/{other_brief['id']}", headers=brand.headers) for _ in range(12)]
        answers = await asyncio.gather(*writes, *reads)
        elapsed = time.monotonic() - started
        release.set()
        await holder
    for r in answers[:4]:
        body = assert_problem(r, 409, "resource_locked")
        assert r.headers["retry-after"]
        assert body["request_id"] == r.headers["x-request-id"]
    assert [r.status_code for r in answers[4:]] == [200] * 12
    # Generous: everything was answered while the row was still locked.
    assert elapsed < HOLD_SECONDS


def test_lock_timeout_must_be_shorter_than_the_pool_timeout() -> None:
    with pytest.raises(ValidationError, match="DB_LOCK_TIMEOUT_MS"):
        Settings(db_lock_timeout_ms=10_000, db_pool_timeout_seconds=10)
    assert get_settings().db_lock_timeout_ms < get_settings().db_pool_timeout_seconds * 1000


async def test_writers_waiting_on_a_locked_row_never_take_the_connections_reads_need(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """More writers pile onto the locked row than the pool has connections: they may hold
    only the pool less DB_READ_RESERVE, so reads of other briefs are still served."""
    brand = await factories.brand(client)
    locked_brief = await factories.brief(client, brand)
    other_brief = await factories.brief(client, brand)
    settings = {
        "db_pool_size": 4,
        "db_max_overflow": 0,
        "db_read_reserve": 2,
        "db_pool_timeout_seconds": 3.0,
        "db_lock_timeout_ms": 1500,
    }
    async with worker(**settings) as (_, c):
        locked, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(
            _hold_row_lock(database_url, locked_brief["id"], locked, release)
        )
        await locked.wait()
        writes = [
            asyncio.create_task(
                c.post(f"/v1/briefs/{locked_brief['id']}/cancel", headers=brand.headers)
            )
            for _ in range(12)
        ]
        await asyncio.sleep(0.2)  # the writers hold what they may
        reads = []
        for _ in range(4):  # while the writers wait, wave after wave of reads
            reads += await asyncio.gather(
                *(c.get(f"/v1/briefs/{other_brief['id']}", headers=brand.headers) for _ in range(6))
            )
        written = await asyncio.gather(*writes)
        release.set()
        await holder
    assert [r.status_code for r in reads] == [200] * len(reads)
    for r in written:
        # Waited for the row (409) or, beyond the writers' share, for a slot (503).
        assert (r.status_code, r.json()["code"]) in {
            (409, "resource_locked"),
            (503, "database_busy"),
        }, r.text
