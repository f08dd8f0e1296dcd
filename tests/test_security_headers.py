"""Security headers on every answer, no server banner, and a per-address sign-up limit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.headers import DOCS_CONTENT_SECURITY_POLICY
from api.main import create_app, lifespan
from api.settings import get_settings
from tests import factories
from tests.factories import PASSWORD, assert_problem, unique_email


def _assert_protected(r: httpx.Response) -> None:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


async def test_every_kind_of_answer_carries_the_security_headers(
    client: httpx.AsyncClient,
) -> None:
    actor = await factories.creator(client)
    answers = [
        await client.get("/healthz"),
        await client.get("/openapi.json"),
        await client.get("/v1/me", headers=actor.headers),
        await client.get("/v1/me"),  # 401 problem
        await client.get("/v1/no-such-thing"),  # 404 problem
        await client.post("/v1/auth/register", json={}),  # 422 problem
    ]
    for r in answers:
        _assert_protected(r)
    # JSON answers may load nothing at all.
    assert answers[2].headers["content-security-policy"].startswith("default-src 'none'")


async def test_docs_page_gets_a_policy_that_lets_swagger_ui_run(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    _assert_protected(r)
    policy = r.headers["content-security-policy"]
    assert policy == DOCS_CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    # Its own scripts, styles and images, the inline start-up script, the spec by fetch.
    assert "'self'" in directives["script-src"]
    assert "'unsafe-inline'" in directives["script-src"]
    assert "'self'" in directives["style-src"]
    assert "data:" in directives["img-src"]
    assert "'self'" in directives["connect-src"]
    # Nothing from elsewhere: the page works offline.
    assert "http" not in policy
    assert "*" not in policy


async def test_private_answers_are_not_stored_by_caches(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    token = (await factories.api_token(client, actor, ["profile:read"]))["token"]
    private = [
        await client.get("/v1/me", headers=actor.headers),
        await client.get("/v1/me", headers=factories.bearer(token)),
        await client.get("/v1/me/api-tokens", headers=actor.headers),
        await client.get("/v1/creators/me", headers=actor.headers),
        await factories.login(client, actor.email),
        await client.post(
            "/v1/auth/register",
            json={"email": unique_email("c"), "password": PASSWORD, "role": "creator"},
        ),
    ]
    for r in private:
        assert r.status_code in (200, 201), r.text
        assert "no-store" in r.headers["cache-control"], (r.url, r.headers)


# --- sign-ups per address ------------------------------------------------------------------


@asynccontextmanager
async def _worker(**overrides: Any) -> AsyncIterator[FastAPI]:
    settings = get_settings().model_copy(update={"maintenance_interval_seconds": 0, **overrides})
    worker = create_app(settings)
    async with lifespan(worker):
        yield worker


def _signup(**overrides: Any) -> dict[str, Any]:
    return {"email": unique_email("signup"), "password": PASSWORD, "role": "creator", **overrides}


async def test_sign_ups_from_one_address_are_limited_across_workers() -> None:
    async with (
        _worker(register_max_per_address=3) as one,
        _worker(register_max_per_address=3) as two,
    ):
        async with (
            factories.client_at(one, "198.51.100.20") as a,
            factories.client_at(two, "198.51.100.20") as b,
        ):
            assert (await a.post("/v1/auth/register", json=_signup())).status_code == 201
            assert (await b.post("/v1/auth/register", json=_signup())).status_code == 201
            # A refused sign-up (email taken) counts too: it is how addresses are probed.
            taken = _signup()
            await a.post("/v1/auth/register", json=taken)

            blocked = await b.post("/v1/auth/register", json=_signup())
            assert_problem(blocked, 429, "registration_throttled")
            assert 1 <= int(blocked.headers["retry-after"]) <= 3601
            assert_problem(await a.post("/v1/auth/register", json=taken), 429)

        async with factories.client_at(one, "198.51.100.21") as elsewhere:
            assert (await elsewhere.post("/v1/auth/register", json=_signup())).status_code == 201


# --- the real server -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(database_url: str) -> Any:
    """`briefboard serve` on the test database, as `make run` starts it."""
    port = int(os.environ.get("BRIEFBOARD_TEST_SERVE_PORT") or _free_port())
    env = {**os.environ, "DATABASE_URL": database_url, "MAINTENANCE_INTERVAL_SECONDS": "0"}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield r
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_server_does_not_announce_itself(served: httpx.Response) -> None:
    assert "server" not in served.headers
    _assert_protected(served)
