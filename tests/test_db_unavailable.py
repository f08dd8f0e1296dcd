"""When the database cannot serve, every answer is a 503 problem to retry, never a 500.

The outage itself (a PostgreSQL stopped and restarted under load) is in test_faults.py;
here each kind of unavailability is met one at a time, in process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app, lifespan
from api.settings import get_settings
from tests import factories
from tests.factories import assert_problem

# Port 1 on loopback: nothing listens, every connection is refused at once.
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"


@asynccontextmanager
async def worker(**settings: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app of its own with these settings (no background jobs)."""
    app = create_app(
        get_settings().model_copy(update={"maintenance_interval_seconds": 0, **settings})
    )
    async with lifespan(app):
        # raise_app_exceptions: an exception escaping the app (to the server, which would
        # print a traceback and close the connection) fails the test.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield app, c


def assert_unavailable(response: httpx.Response, code: str) -> None:
    body = assert_problem(response, 503, code)
    assert int(response.headers["retry-after"]) >= 1
    assert body["request_id"] == response.headers["x-request-id"]
    assert "127.0.0.1" not in response.text


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_refused_connection_answers_503_with_retry_after(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    brand = await factories.brand(client)
    async with worker(database_url=UNREACHABLE) as (_, c):
        caplog.clear()
        assert_unavailable(await c.get("/v1/me", headers=brand.headers), "database_unavailable")
        # One line per failed request, without a traceback.
        [line] = failures(caplog)
        assert line.exc_info is None
        # The same on a write, and on one whose Idempotency-Key is claimed before the route.
        for headers in (brand.headers, {**brand.headers, "Idempotency-Key": "k"}):
            r = await c.post("/v1/briefs", json=factories.brief_body(), headers=headers)
            assert_unavailable(r, "database_unavailable")
        # Liveness does not depend on the database.
        assert (await c.get("/healthz")).status_code == 200


async def test_an_exhausted_pool_answers_503_and_recovers(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    async with worker(db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.2) as (app, c):
        async with app.state.engine.connect() as held:
            await held.exec_driver_sql("SELECT 1")
            assert_unavailable(await c.get("/v1/me", headers=brand.headers), "database_busy")
        assert (await c.get("/v1/me", headers=brand.headers)).status_code == 200


async def test_a_terminated_connection_is_replaced_not_answered_with_an_error(
    client: httpx.AsyncClient,
) -> None:
    """An administrator (or a restart) ends the pooled connections between requests: the
    next request gets a fresh connection."""
    brand = await factories.brand(client)
    async with worker(db_pool_size=2, db_max_overflow=0) as (app, c):
        assert (await c.get("/v1/me", headers=brand.headers)).status_code == 200
        async with app.state.engine.connect() as admin:
            ended = await admin.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = 'briefboard'"
                " AND pid <> pg_backend_pid()"
            )
            assert ended.scalar_one() >= 1
        for _ in range(3):
            assert (await c.get("/v1/me", headers=brand.headers)).status_code == 200


async def test_an_unexpected_error_is_a_500_problem_with_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with worker() as (app, c):

        @app.get("/boom")
        async def boom() -> None:
            raise RuntimeError("secret internals")

        caplog.clear()
        r = await c.get("/boom", headers={"X-Request-ID": "req-boom-1"})
        body = assert_problem(r, 500, "internal_error")
        assert r.headers["x-request-id"] == "req-boom-1" == body["request_id"]
        assert "secret internals" not in r.text
        [line] = failures(caplog)
        assert line.exc_info is not None  # the one line carries the traceback


async def test_an_oserror_outside_the_database_driver_is_a_500() -> None:
    async with worker() as (app, c):

        @app.get("/lookup")
        async def lookup() -> None:
            raise OSError("name resolution failed")

        assert_problem(await c.get("/lookup"), 500, "internal_error")
