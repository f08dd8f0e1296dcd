"""POST with Idempotency-Key: retries replay the first answer, never act twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.idempotency import LOCK_KEY, caller_scope, lock_name
from api.maintenance import run_once
from api.settings import get_settings
from tests import factories
from tests.factories import problem_of


async def _brief_count(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(text("SELECT count(*) FROM briefs")))


async def _run_script(app: FastAPI, statements: str) -> None:
    async with app.state.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(statements)  # type: ignore[union-attr]


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


async def test_a_retry_while_the_first_request_runs_gets_409(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "slow"}
    caller = caller_scope(get_settings(), headers["Authorization"])
    assert caller is not None
    async with app.state.engine.connect() as first, first.begin():
        # As the first request does while it runs: its transaction holds the key's lock.
        assert await first.scalar(LOCK_KEY, {"lock": lock_name(caller, "slow")})
        r = await client.post("/v1/briefs", json=factories.brief_body(), headers=headers)
        problem_of(r, 409, "idempotency_in_progress")
    assert await _brief_count(app) == 0
    # Once it has ended (here: without an answer), the key is free.
    r = await client.post("/v1/briefs", json=factories.brief_body(), headers=headers)
    assert r.status_code == 201


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


async def test_the_answer_is_committed_before_it_is_sent(app: FastAPI) -> None:
    """Whoever receives the 201 can retry at once and get it again: the stored answer
    (and the brief) are committed before the first byte of the answer leaves."""
    seen_at_start: list[tuple[int | None, int]] = []

    async def probe(scope: Any, receive: Any, send: Any) -> None:
        async def watching(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["path"] == "/v1/briefs":
                # A connection of its own: sees only what is committed.
                async with app.state.engine.connect() as conn:
                    stored = await conn.scalar(
                        text("SELECT response_status FROM idempotency_keys WHERE key = 'k-sent'")
                    )
                    briefs = await conn.scalar(text("SELECT count(*) FROM briefs"))
                seen_at_start.append((stored, briefs))
            await send(message)

        await app(scope, receive, watching)

    transport = httpx.ASGITransport(app=probe)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        brand = await factories.brand(c)
        headers = {**brand.headers, "Idempotency-Key": "k-sent"}
        r = await c.post("/v1/briefs", json=factories.brief_body(), headers=headers)
    assert r.status_code == 201, r.text
    assert seen_at_start == [(201, 1)]


async def test_concurrent_retries_act_once_and_a_retry_after_the_answer_replays(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "burst"}
    body = factories.brief_body()
    answers = await asyncio.gather(
        *(client.post("/v1/briefs", json=body, headers=headers) for _ in range(6))
    )
    firsts = [r for r in answers if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(firsts) == 1
    for r in answers:
        if r is not firsts[0]:
            assert r.status_code in (201, 409), r.text
            if r.status_code == 201:
                assert r.json() == firsts[0].json()
            else:
                problem_of(r, 409, "idempotency_in_progress")
    # Every retry after an answer replays it; none ever meets "still running".
    for _ in range(5):
        again = await client.post("/v1/briefs", json=body, headers=headers)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
    assert await _brief_count(app) == 1


async def test_a_replay_needs_a_token_that_still_works(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    created = await client.post(
        "/v1/me/api-tokens",
        json={"name": "tool", "scopes": ["briefs:write", "briefs:read"]},
        headers=brand.headers,
    )
    assert created.status_code == 201, created.text
    tool = {"Authorization": f"Bearer {created.json()['token']}", "Idempotency-Key": "t-1"}
    body = factories.brief_body()
    assert (await client.post("/v1/briefs", json=body, headers=tool)).status_code == 201
    revoked = await client.delete(
        f"/v1/me/api-tokens/{created.json()['id']}", headers=brand.headers
    )
    assert revoked.status_code == 204
    r = await client.post("/v1/briefs", json=body, headers=tool)
    problem_of(r, 401, "invalid_token")
    assert "idempotent-replayed" not in r.headers


async def test_a_replay_is_refused_to_a_suspended_account_and_to_revoked_access_tokens(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "s-1"}
    body = factories.brief_body()
    assert (await client.post("/v1/briefs", json=body, headers=headers)).status_code == 201
    users = f"/v1/admin/users/{brand.user_id}"
    assert (await client.post(f"{users}/suspend", headers=admin.headers)).status_code == 200
    problem_of(
        await client.post("/v1/briefs", json=body, headers=headers), 401, "account_suspended"
    )
    # Lifting the suspension does not revive the access tokens it revoked.
    assert (await client.post(f"{users}/unsuspend", headers=admin.headers)).status_code == 200
    problem_of(await client.post("/v1/briefs", json=body, headers=headers), 401, "invalid_token")


async def test_a_new_api_token_secret_is_never_stored_nor_replayed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    creator = await factories.creator(client)
    headers = {**creator.headers, "Idempotency-Key": "mint-1"}
    body = {"name": "tool", "scopes": ["profile:read"]}
    first = await client.post("/v1/me/api-tokens", json=body, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["token"]
    async with app.state.engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT response_body FROM idempotency_keys WHERE key = 'mint-1'")
        )
    assert stored is not None
    assert secret.encode() not in stored
    again = await client.post("/v1/me/api-tokens", json=body, headers=headers)
    problem = problem_of(again, 409, "secret_shown_once")
    assert first.json()["id"] in problem["detail"]
    assert secret not in again.text
    listed = await client.get("/v1/me/api-tokens", headers=creator.headers)
    assert len(listed.json()["items"]) == 1


async def test_sql_parameters_never_appear_in_errors(app: FastAPI) -> None:
    async with app.state.engine.connect() as conn:
        with pytest.raises(DBAPIError) as failure:
            await conn.execute(text("SELECT :secret::text, 1 / 0"), {"secret": "bbt_s3cr3t"})
    assert "bbt_s3cr3t" not in str(failure.value)


async def test_when_the_answer_cannot_be_stored_the_effect_is_undone_too(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The brief and its stored answer are one transaction: a failure storing the answer
    (here a trigger refusing it) leaves no brief behind, and the retry acts once."""
    brand = await factories.brand(client)
    headers = {**brand.headers, "Idempotency-Key": "store-fails"}
    body = factories.brief_body()
    refuse = (
        "CREATE FUNCTION refuse_answers() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'no room for answers'; END $$;"
        " CREATE TRIGGER refuse_answers BEFORE INSERT OR UPDATE ON idempotency_keys"
        " FOR EACH ROW WHEN (NEW.response_status IS NOT NULL)"
        " EXECUTE FUNCTION refuse_answers()"
    )
    allow = "DROP TRIGGER refuse_answers ON idempotency_keys; DROP FUNCTION refuse_answers()"
    await _run_script(app, refuse)
    try:
        failed = await client.post("/v1/briefs", json=body, headers=headers)
    finally:
        await _run_script(app, allow)
    assert failed.status_code == 500
    assert await _brief_count(app) == 0
    retried = await client.post("/v1/briefs", json=body, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert await _brief_count(app) == 1


@pytest.mark.parametrize("route", ["create", "rotate"])
async def test_a_webhook_signing_secret_is_never_stored_nor_replayed(
    client: httpx.AsyncClient, app: FastAPI, route: str
) -> None:
    brand = await factories.brand(client)
    url, body = "/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}
    if route == "rotate":
        created = await client.post(url, json=body, headers=brand.headers)
        url, body = f"/v1/webhooks/{created.json()['id']}/rotate-secret", {}
    headers = {**brand.headers, "Idempotency-Key": f"hook-{route}"}
    first = await client.post(url, json=body, headers=headers)
    assert first.status_code in (200, 201), first.text
    secret = first.json()["secret"]
    async with app.state.engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT response_body FROM idempotency_keys WHERE key = :key"),
            {"key": f"hook-{route}"},
        )
    assert stored is not None
    assert secret.encode() not in stored
    again = await client.post(url, json=body, headers=headers)
    problem_of(again, 409, "secret_shown_once")
    assert secret not in again.text
