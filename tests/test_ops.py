"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from api.main import create_app, lifespan
from api.matching.creator_index import CreatorIndex
from api.matching.creator_rows import CreatorBatch
from api.migrations_state import head_revisions
from api.observability import metrics_payload
from api.settings import get_settings
from tests import factories
from tests.factories import assert_problem


async def test_healthz_is_alive_without_auth(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["x-request-id"]


async def test_readyz_is_ready_when_the_database_is_at_head(client: httpx.AsyncClient) -> None:
    # A worker past its warm-up timeout may still be copying its match indexes (see below).
    for _ in range(500):
        r = await client.get("/readyz")
        if r.status_code != 503:
            break
        await asyncio.sleep(0.02)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready"}


# (pytest's monkeypatch cannot restore attributes of Starlette's `State`: swap by hand.)


async def test_readyz_is_503_when_migrations_are_pending(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # As if the code shipped a newer migration than the database has.
    heads = app.state.migration_heads
    app.state.migration_heads = head_revisions() | {"9999_future"}
    try:
        r = await client.get("/readyz")
    finally:
        app.state.migration_heads = heads
    assert_problem(r, 503, "migrations_pending")


async def test_readyz_is_503_when_the_database_is_unreachable(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    unreachable = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    engine = app.state.engine
    app.state.engine = unreachable
    try:
        r = await client.get("/readyz")
    finally:
        app.state.engine = engine
        await unreachable.dispose()
    body = assert_problem(r, 503, "database_unavailable")
    # The problem reveals nothing about the connection.
    assert "127.0.0.1" not in r.text
    assert "nowhere" not in body["detail"]
    # The process itself is still alive.
    assert (await client.get("/healthz")).status_code == 200


def _slow_first_copy(index: CreatorIndex) -> asyncio.Event:
    """Hold `index`'s full copy until the returned event is set."""
    release = asyncio.Event()
    copy = index._fetch_all

    async def slow_copy(conn: Any) -> CreatorBatch:
        await release.wait()
        return await copy(conn)

    index._fetch_all = slow_copy  # type: ignore[method-assign]
    return release


async def test_a_worker_starts_serving_only_once_its_match_indexes_hold_their_first_copy() -> None:
    """Uvicorn serves a worker's socket only after its lifespan start-up: a (re)started
    worker takes no request (which would wait for the copy) before the copy is made."""
    settings = get_settings().model_copy(update={"maintenance_interval_seconds": 0.05})
    worker = create_app(settings)
    index: CreatorIndex = worker.state.creator_index
    release = _slow_first_copy(index)
    serving, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with lifespan(worker):
            serving.set()
            await stop.wait()

    task = asyncio.create_task(run())
    try:
        await asyncio.sleep(0.5)
        assert not serving.is_set(), "start-up finished before the first copy"
        release.set()
        await asyncio.wait_for(serving.wait(), 10)
        assert index.copies > 0
        transport = httpx.ASGITransport(app=worker, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            assert (await c.get("/readyz")).status_code == 200
    finally:
        release.set()
        stop.set()
        await task


async def test_readyz_waits_for_the_first_copy_when_start_up_stopped_waiting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Past `INDEX_WARMUP_TIMEOUT_SECONDS` a worker serves anyway, says so in its log, and
    is not ready before its match indexes hold their first copy."""
    settings = get_settings().model_copy(
        update={"maintenance_interval_seconds": 0.05, "index_warmup_timeout_seconds": 0.2}
    )
    worker = create_app(settings)
    index: CreatorIndex = worker.state.creator_index
    release = _slow_first_copy(index)
    async with lifespan(worker):
        assert any("first copy" in r.getMessage() for r in caplog.records)
        transport = httpx.ASGITransport(app=worker, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            assert_problem(await c.get("/readyz"), 503, "match_indexes_warming_up")
            release.set()
            await factories.until(lambda: index.copies > 0)
            r = await c.get("/readyz")
            assert r.status_code == 200, r.text


async def test_metrics_are_prometheus_text_and_count_requests(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/v1/me")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "# TYPE briefboard_http_requests_total counter" in text
    assert "# TYPE briefboard_http_request_duration_seconds histogram" in text
    assert 'briefboard_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'briefboard_http_requests_total{method="GET",route="/v1/me",status="401"}' in text


async def test_metrics_label_unknown_paths_by_route_not_by_path(
    client: httpx.AsyncClient,
) -> None:
    # Arbitrary paths must not create one time series each.
    await client.get("/no/such/path/7f1c0ab9")
    r = await client.get("/metrics")
    assert "7f1c0ab9" not in r.text


def test_metrics_are_summed_over_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several workers (`briefboard serve --workers N`), a scrape answered by any one
    of them reports every worker's requests."""
    count = (
        "from api.observability import REQUESTS;"
        " REQUESTS.labels('GET', '/v1/briefs', '200').inc({n})"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (2, 3):  # two worker processes, each counting its own requests
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, check=True)  # noqa: S603 - our own interpreter and code
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = metrics_payload().decode()
    line = 'briefboard_http_requests_total{method="GET",route="/v1/briefs",status="200"} 5.0'
    assert line in text
