"""Sign-in throttling under concurrency: each attempt is reserved before its password is
checked, in one guarded upsert, without holding a second connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from api import maintenance
from api.main import create_app, lifespan
from api.settings import get_settings
from tests import factories
from tests.factories import assert_problem, login, unique_email

WRONG = "wrong password entirely"


def _rejected(r: httpx.Response) -> bool:
    """A guess that was checked and refused (the token endpoint's 400 or 401)."""
    return r.status_code in (400, 401)


@asynccontextmanager
async def _worker(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A worker of its own with other settings (no background jobs taking connections)."""
    settings = get_settings().model_copy(update={"maintenance_interval_seconds": 0, **overrides})
    worker = create_app(settings)
    async with lifespan(worker):
        transport = httpx.ASGITransport(app=worker, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_concurrent_wrong_guesses_verify_at_most_the_limit(
    client: httpx.AsyncClient,
) -> None:
    limit = get_settings().login_max_failures_per_account
    actor = await factories.creator(client)

    answers = await asyncio.gather(*(login(client, actor.email, WRONG) for _ in range(20)))

    statuses = sorted(r.status_code for r in answers)
    checked = [r for r in answers if _rejected(r)]
    throttled = [r for r in answers if r.status_code == 429]
    assert len(checked) <= limit, statuses
    assert len(checked) + len(throttled) == 20, statuses
    for r in throttled:
        assert_problem(r, 429, "login_throttled")
        assert int(r.headers["retry-after"]) >= 1
    # The right password is refused too now: the account is locked.
    assert_problem(await login(client, actor.email), 429, "login_throttled")


async def test_wrong_password_is_refused_with_a_pool_of_one_connection(
    client: httpx.AsyncClient,
) -> None:
    actor = await factories.creator(client)
    async with _worker(db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=2) as single:
        r = await login(single, actor.email, WRONG)
        assert _rejected(r), r.text
        ok = await login(single, actor.email)
        assert ok.status_code == 200, ok.text
        # Several at once queue for the one connection; none fails.
        answers = await asyncio.gather(*(login(single, actor.email, WRONG) for _ in range(6)))
        assert all(_rejected(a) or a.status_code == 429 for a in answers), [
            a.status_code for a in answers
        ]


async def test_forty_concurrent_bad_logins_leave_other_requests_served(
    client: httpx.AsyncClient,
) -> None:
    actor = await factories.creator(client)
    async with _worker(db_pool_size=2, db_max_overflow=0, db_pool_timeout_seconds=3) as small:
        tokens = await login(small, actor.email)
        assert tokens.status_code == 200, tokens.text
        me = factories.bearer(tokens.json()["access_token"])

        guesses = [login(small, unique_email("nobody"), WRONG) for _ in range(40)]
        unrelated = [small.get("/v1/me", headers=me) for _ in range(5)]
        answers = await asyncio.gather(*guesses, *unrelated)

    statuses = [r.status_code for r in answers]
    assert all(_rejected(r) or r.status_code == 429 for r in answers[:40]), statuses
    assert all(r.status_code == 200 for r in answers[40:]), statuses


async def test_a_failure_is_counted_even_though_the_request_fails(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    actor = await factories.creator(client)
    assert _rejected(await login(client, actor.email, WRONG))
    rows = await factories.db_rows(
        app, "SELECT failures FROM login_throttles WHERE key = :k", k=f"account:{actor.email}"
    )
    assert rows == [{"failures": 1}]


async def test_successful_sign_ins_do_not_use_up_the_address_allowance(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    limit = get_settings().login_max_failures_per_address
    actor = await factories.creator(client)
    async with factories.client_at(app, "192.0.2.10") as office:
        for _ in range(limit + 2):
            r = await login(office, actor.email)
            assert r.status_code == 200, r.text


async def test_a_success_that_reaches_the_address_limit_does_not_block_the_address(
    client: httpx.AsyncClient,
) -> None:
    actor = await factories.creator(client)
    async with _worker(login_max_failures_per_address=3) as worker:
        for _ in range(2):
            assert _rejected(await login(worker, unique_email("nobody"), WRONG))
        # Reserved as the third attempt, then given back as a success.
        assert (await login(worker, actor.email)).status_code == 200
        assert (await login(worker, actor.email)).status_code == 200
        # The two failures still count: one more blocks the address.
        assert _rejected(await login(worker, unique_email("nobody"), WRONG))
        assert_problem(await login(worker, actor.email), 429, "login_throttled")


async def test_maintenance_purges_counters_that_no_longer_count(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    settings = get_settings()
    assert _rejected(await login(client, unique_email("nobody"), WRONG))
    await factories.db_execute(
        app,
        "INSERT INTO login_throttles (key, failures, window_started_at, blocked_until) VALUES"
        " ('account:old@example.com', 3, now() - interval '2 days', NULL),"
        " ('account:locked@example.com', 5, now() - interval '2 days',"
        "  now() + interval '1 hour')",
    )
    await maintenance.run_once(app.state.sessionmaker, settings)
    rows = await factories.db_rows(app, "SELECT key FROM login_throttles ORDER BY key")
    keys = [r["key"] for r in rows]
    assert "account:old@example.com" not in keys
    assert "account:locked@example.com" in keys  # still blocking
    assert "address:127.0.0.1" in keys  # the current window
