"""POST with Idempotency-Key: retries replay the first answer, never act twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from api.maintenance import run_once
from api.settings import get_settings
from tests import factories
from tests.factories import problem_of


async def _brief_count(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(text("SELECT count(*) FROM briefs")))


async def test_retry_with_the_same_key_replays_the_first_response(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "create-brief-1"}
    body = factories.brief_body()
    first = await client.post("/v1/briefs", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/v1/briefs", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    assert await _brief_count(app) == 1


async def test_the_same_key_with_another_body_is_refused(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "k-1"}
    assert (
        await client.post("/v1/briefs", json=factories.brief_body(), headers=headers)
    ).status_code == 201
    other = await client.post(
        "/v1/briefs", json=factories.brief_body(title="Another"), headers=headers
    )
    problem_of(other, 422, "idempotency_key_reused")


async def test_an_unfinished_first_request_with_the_same_body_gets_409(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "slow"}
    body = factories.brief_body()
    first = await client.post("/v1/briefs", json=body, headers=headers)
    assert first.status_code == 201
    async with app.state.sessionmaker.begin() as session:
        # As if the first request were still running.
        await session.execute(
            text(
                "UPDATE idempotency_keys SET response_status = NULL,"
                " locked_until = now() + interval '1 minute' WHERE key = 'slow'"
            )
        )
    problem_of(
        await client.post("/v1/briefs", json=body, headers=headers), 409, "idempotency_in_progress"
    )
    assert await _brief_count(app) == 1


async def test_keys_are_scoped_to_the_caller(client: httpx.AsyncClient, app: FastAPI) -> None:
    first_brand = await factories.brand(client)
    second_brand = await factories.brand(client)
    body = factories.brief_body()
    for brand in (first_brand, second_brand):
        r = await client.post(
            "/v1/briefs", json=body, headers={**brand.headers, "Idempotency-Key": "shared"}
        )
        assert r.status_code == 201
        assert "idempotent-replayed" not in r.headers
    assert await _brief_count(app) == 2


async def test_client_errors_are_replayed_too(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "bad"}
    body = factories.brief_body(slots=0)
    first = await client.post("/v1/briefs", json=body, headers=headers)
    assert first.status_code == 422
    again = await client.post("/v1/briefs", json=body, headers=headers)
    assert again.status_code == 422
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_a_malformed_key_is_refused(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    r = await client.post(
        "/v1/briefs",
        json=factories.brief_body(),
        headers={**brand.headers, "Idempotency-Key": "x" * 256},
    )
    problem_of(r, 422, "invalid_idempotency_key")


async def test_a_key_older_than_its_lifetime_runs_again_and_is_purged(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "old"}
    body = factories.brief_body()
    assert (await client.post("/v1/briefs", json=body, headers=headers)).status_code == 201
    lifetime = timedelta(hours=get_settings().idempotency_ttl_hours)
    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            text("UPDATE idempotency_keys SET created_at = :at"),
            {"at": datetime.now(UTC) - lifetime - timedelta(minutes=1)},
        )
    again = await client.post("/v1/briefs", json=body, headers=headers)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert await _brief_count(app) == 2

    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            text("UPDATE idempotency_keys SET created_at = :at"),
            {"at": datetime.now(UTC) - lifetime - timedelta(minutes=1)},
        )
    done = await run_once(app.state.sessionmaker, get_settings())
    assert done["expired idempotency keys purged"] == 1


async def test_anonymous_posts_are_not_remembered(client: httpx.AsyncClient) -> None:
    body = {
        "email": factories.unique_email("anon"),
        "password": factories.PASSWORD,
        "role": "creator",
    }
    headers = {"Idempotency-Key": "signup"}
    assert (await client.post("/v1/auth/register", json=body, headers=headers)).status_code == 201
    problem_of(
        await client.post("/v1/auth/register", json=body, headers=headers), 409, "email_taken"
    )
