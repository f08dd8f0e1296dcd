"""The connection pool hands out live connections only."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from api.db import create_engine
from api.settings import get_settings


@pytest.mark.parametrize("ping", [True, False])
async def test_a_connection_the_server_dropped_is_replaced_not_handed_out(
    database_url: str, ping: bool
) -> None:
    engine = create_engine(database_url, get_settings(), pool_size=1, pool_pre_ping=ping)
    admin = create_engine(database_url, get_settings(), pool_size=1)
    try:
        async with engine.connect() as conn:
            first = await conn.scalar(text("SELECT pg_backend_pid()"))
        # Another session ends the pooled connection's backend, as a server restart or
        # an idle timeout would; the pool still holds it.
        async with admin.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            if not ping:
                # Without the ping only a close the driver has seen is caught: wait for the
                # backend to be gone, and let the event loop read the end of the socket.
                gone = "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :pid)"
                for _ in range(500):
                    await other.commit()  # a fresh statistics snapshot each time
                    if await other.scalar(text(gone), {"pid": first}):
                        break
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.05)
        async with engine.connect() as conn:
            second = await conn.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await engine.dispose()
        await admin.dispose()


async def test_the_app_s_connections_never_jit_compile(database_url: str) -> None:
    """A misjudged plan cost must not turn a 1 ms statement into a 200 ms compile."""
    engine = create_engine(database_url, get_settings(), pool_size=1)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SHOW jit")) == "off"
    finally:
        await engine.dispose()
