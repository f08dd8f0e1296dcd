"""A pooled connection whose server went away unseen: a GET is answered from a fresh one.

Connections are not pinged at checkout (`DB_POOL_PRE_PING` off). Here the backend of the
connection being checked out is terminated while the event loop is blocked, so the driver
cannot have seen it close: the first statement fails, as after a restart or a network cut.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import make_url

from api.settings import get_settings
from tests import factories
from tests.test_db_unavailable import assert_unavailable, worker

_TERMINATE = """
import asyncio, sys, asyncpg
async def main(url, pid):
    conn = await asyncpg.connect(url)
    await conn.execute("SELECT pg_terminate_backend($1)", pid)
    gone = "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)"
    for _ in range(500):
        if await conn.fetchval(gone, pid):
            return
        await asyncio.sleep(0.01)
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def _libpq() -> str:
    url = make_url(get_settings().database_url or "").set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def kill_at_next_checkout(app: Any) -> list[int]:
    """End the backend of the next connection leaving the pool, without the driver seeing."""
    killed: list[int] = []

    def kill_once(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if killed:
            return
        pid = dbapi_connection.driver_connection.get_server_pid()
        # Blocking on purpose: the event loop cannot read the socket's end meanwhile.
        subprocess.run([sys.executable, "-c", _TERMINATE, _libpq(), str(pid)], check=True)  # noqa: S603
        killed.append(pid)

    event.listen(app.state.engine.sync_engine, "checkout", kill_once)
    return killed


async def test_a_get_whose_connection_died_unseen_is_answered_from_a_fresh_one(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    async with worker(db_pool_size=2, db_max_overflow=0) as (app, c):
        assert (await c.get("/v1/me", headers=brand.headers)).status_code == 200
        killed = kill_at_next_checkout(app)
        r = await c.get("/v1/me", headers=brand.headers)
        assert killed
        assert r.status_code == 200, r.text
        assert r.json()["id"] == str(brand.user_id)


async def test_a_write_whose_connection_died_answers_503_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    async with worker(db_pool_size=2, db_max_overflow=0) as (app, c):
        assert (await c.get("/v1/me", headers=brand.headers)).status_code == 200
        killed = kill_at_next_checkout(app)
        r = await c.post("/v1/briefs", json=factories.brief_body(), headers=brand.headers)
        assert killed
        assert_unavailable(r, "database_unavailable")
        mine = await c.get("/v1/briefs?mine=true", headers=brand.headers)
        assert mine.status_code == 200
        assert mine.json()["items"] == []
