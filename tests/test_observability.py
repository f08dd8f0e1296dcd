"""Operations as an operator meets them: JSON log lines (uvicorn's too) with UTC ISO 8601
times, a route label on every counted request, /metrics protected or on its own port, and
the CLI's migrate needing no JWT secret."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.main import create_app
from api.observability import start_metrics_server
from api.settings import DEFAULT_JWT_SECRET, Settings, get_settings
from tests import factories

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BRIEFBOARD = str(Path(sys.executable).with_name("briefboard"))


def _run(code: str) -> list[str]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stderr == "", out.stderr
    return out.stdout.splitlines()


def test_every_log_line_is_json_with_an_iso_utc_time_uvicorns_included() -> None:
    lines = _run(
        "import logging\n"
        "from api.observability import configure_logging\n"
        "configure_logging('INFO')\n"
        "logging.getLogger('uvicorn.error').info('Started server process [1]',"
        " extra={'color_message': '\\x1b[1mStarted\\x1b[0m'})\n"
        "logging.getLogger('alembic.runtime.migration').info('Running upgrade')\n"
        "logging.getLogger('briefboard.access').info('request', extra={'status': 200})\n"
    )
    records = [json.loads(line) for line in lines]  # fails on any plain-text line
    assert [r["logger"] for r in records] == [
        "uvicorn.error",
        "alembic.runtime.migration",
        "briefboard.access",
    ]
    for record in records:
        assert ISO_UTC.match(record["time"]), record["time"]
        assert record["level"] == "INFO"
        assert "color_message" not in record
    assert records[2]["status"] == 200


def test_uvicorn_is_handed_the_json_logging_config() -> None:
    # What `briefboard serve` passes as uvicorn's log_config, applied as uvicorn applies it.
    lines = _run(
        "import logging, logging.config\n"
        "from api.observability import logging_config\n"
        "logging.config.dictConfig(logging_config('INFO'))\n"
        "logging.getLogger('uvicorn.error').info('Uvicorn running')\n"
        "logging.getLogger('uvicorn.access').info('GET / 200')\n"
    )
    # The app logs requests itself: uvicorn's access lines would be duplicates.
    assert [json.loads(line)["message"] for line in lines] == ["Uvicorn running"]


async def test_idempotent_replays_and_mounted_routes_get_their_route_label(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    headers = {**owner.headers, "Idempotency-Key": "metrics-label-1"}
    body = factories.brief_body()
    first = await client.post("/v1/briefs", json=body, headers=headers)
    replay = await client.post("/v1/briefs", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    before = _count(await client.get("/metrics"), "POST", "/v1/briefs", "201")
    await client.post("/v1/briefs", json=body, headers=headers)
    after = _count(await client.get("/metrics"), "POST", "/v1/briefs", "201")
    assert after == before + 1

    static = await client.get("/docs/static/swagger-ui.css")
    assert static.status_code == 200
    metrics = (await client.get("/metrics")).text
    assert 'route="/docs/static/{path}",status="200"' in metrics


def _count(response: httpx.Response, method: str, route: str, status: str) -> float:
    line = f'briefboard_http_requests_total{{method="{method}",route="{route}",status="{status}"}}'
    for row in response.text.splitlines():
        if row.startswith(line):
            return float(row.rsplit(" ", 1)[1])
    return 0.0


def _app(**changes: object) -> FastAPI:
    return create_app(get_settings().model_copy(update=changes))


async def test_metrics_token_guards_metrics() -> None:
    app = _app(metrics_token=SecretStr("scrape-secret-0123456789"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        factories.assert_problem(await c.get("/metrics"), 401, "not_authenticated")
        wrong = {"Authorization": "Bearer not-the-scrape-secret"}
        factories.assert_problem(await c.get("/metrics", headers=wrong), 401)
        right = {"Authorization": "Bearer scrape-secret-0123456789"}
        r = await c.get("/metrics", headers=right)
        assert r.status_code == 200
        assert "briefboard_http_requests_total" in r.text


async def test_metrics_port_moves_metrics_off_the_api_port() -> None:
    app = _app(metrics_port=9464)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        factories.assert_problem(await c.get("/metrics"), 404)
    server = start_metrics_server("127.0.0.1", 0)
    try:
        port = server.server_address[1]
        async with httpx.AsyncClient() as scraper:
            r = await scraper.get(f"http://127.0.0.1:{port}/metrics")
        assert r.status_code == 200
        assert "briefboard_http_requests_total" in r.text
    finally:
        server.shutdown()
        server.server_close()


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "ENVIRONMENT")}
    return subprocess.run(  # noqa: S603 - our own console script
        [BRIEFBOARD, *args], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_migrate_in_production_needs_no_jwt_secret(database_url: str) -> None:
    # The schema is at head already: an upgrade that must still load settings and connect.
    done = _cli("migrate", ENVIRONMENT="production", DATABASE_URL=database_url)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout


def test_serve_in_production_refuses_to_start_without_a_jwt_secret(database_url: str) -> None:
    done = _cli("serve", "--port", "1", ENVIRONMENT="production", DATABASE_URL=database_url)
    assert done.returncode == 2
    assert "JWT_SECRET must be set outside development" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_app_refuses_the_default_secret_outside_development() -> None:
    settings = Settings(environment="production", jwt_secret=DEFAULT_JWT_SECRET)
    with pytest.raises(RuntimeError, match="JWT_SECRET must be set outside development"):
        create_app(settings)
