"""Scoped API tokens: shown once, listed without secrets, limited to their scopes, revocable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests import factories
from tests.factories import assert_problem, bearer

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def test_created_token_shows_its_secret_once(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/me/api-tokens",
        json={"name": "Creator studio", "scopes": ["profile:read", "briefs:read"]},
        headers=creator.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["token"].startswith("bbt_")
    assert len(created["token"]) > 40
    assert created["token_prefix"] == created["token"][:12]
    assert created["name"] == "Creator studio"
    assert created["scopes"] == ["briefs:read", "profile:read"]
    assert created["revoked_at"] is None

    listed = await client.get("/v1/me/api-tokens", headers=creator.headers)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == [created["id"]]
    assert "token" not in listed.json()["items"][0]
    assert created["token"] not in listed.text


async def test_token_list_is_paginated_newest_first(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    ids = [
        (await factories.api_token(client, creator, ["profile:read"], name=f"t{i}"))["id"]
        for i in range(5)
    ]
    first = await client.get("/v1/me/api-tokens?limit=2", headers=creator.headers)
    assert first.status_code == 200, first.text
    assert len(first.json()["items"]) == 2
    cursor = first.json()["next_cursor"]
    assert cursor

    seen = [t["id"] for t in first.json()["items"]]
    while cursor:
        page = await client.get(
            "/v1/me/api-tokens", params={"limit": 2, "cursor": cursor}, headers=creator.headers
        )
        assert page.status_code == 200, page.text
        seen += [t["id"] for t in page.json()["items"]]
        cursor = page.json().get("next_cursor")
    assert seen == list(reversed(ids))


async def test_users_see_only_their_own_tokens(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    brand = await factories.brand(client)
    await factories.api_token(client, creator, ["profile:read"])
    listed = await client.get("/v1/me/api-tokens", headers=brand.headers)
    assert listed.json()["items"] == []


async def test_token_works_as_bearer_within_its_scopes(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    token = (await factories.api_token(client, brand, ["profile:read"]))["token"]
    r = await client.get("/v1/me", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(brand.user_id)
    assert r.json()["scopes"] == ["profile:read"]
    got = await client.get(f"/v1/brands/{brand.brand_id}", headers=bearer(token))
    assert got.status_code == 200

    listed = await client.get("/v1/me/api-tokens", headers=brand.headers)
    assert listed.json()["items"][0]["last_used_at"] is not None


async def test_token_outside_its_scopes_is_insufficient_scope(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    token = (await factories.api_token(client, brand, ["briefs:read"]))["token"]
    assert_problem(await client.get("/v1/me", headers=bearer(token)), 403, "insufficient_scope")
    # Read scope does not grant writes.
    reader = (await factories.api_token(client, brand, ["profile:read"]))["token"]
    r = await client.patch(
        f"/v1/brands/{brand.brand_id}", json={"name": "Changed"}, headers=bearer(reader)
    )
    assert_problem(r, 403, "insufficient_scope")


async def test_token_scopes_do_not_widen_the_role(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    token = (await factories.api_token(client, creator, ["profile:read", "profile:write"]))["token"]
    brand = await factories.brand(client)
    r = await client.patch(
        f"/v1/brands/{brand.brand_id}", json={"name": "Mine"}, headers=bearer(token)
    )
    assert_problem(r, 403, "brand_only")


async def test_revoked_token_stops_working(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    created = await factories.api_token(client, creator, ["profile:read"])
    assert (await client.get("/v1/me", headers=bearer(created["token"]))).status_code == 200

    r = await client.delete(f"/v1/me/api-tokens/{created['id']}", headers=creator.headers)
    assert r.status_code == 204
    assert_problem(
        await client.get("/v1/me", headers=bearer(created["token"])), 401, "invalid_token"
    )
    listed = await client.get("/v1/me/api-tokens", headers=creator.headers)
    assert listed.json()["items"][0]["revoked_at"] is not None


async def test_expired_token_stops_working(client: httpx.AsyncClient, app: FastAPI) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/me/api-tokens",
        json={"name": "Short-lived", "scopes": ["profile:read"], "expires_in_days": 1},
        headers=creator.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["expires_at"] is not None
    token = r.json()["token"]
    assert (await client.get("/v1/me", headers=bearer(token))).status_code == 200
    async with app.state.engine.begin() as conn:
        await conn.execute(
            text("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": r.json()["id"]},
        )
    assert_problem(await client.get("/v1/me", headers=bearer(token)), 401, "invalid_token")


async def test_another_users_token_id_is_404(client: httpx.AsyncClient) -> None:
    owner = await factories.creator(client)
    other = await factories.brand(client)
    created = await factories.api_token(client, owner, ["profile:read"])
    r = await client.delete(f"/v1/me/api-tokens/{created['id']}", headers=other.headers)
    assert_problem(r, 404, "not_found")
    assert_problem(
        await client.delete(f"/v1/me/api-tokens/{UNKNOWN_ID}", headers=other.headers), 404
    )
    # The owner's token still works.
    assert (await client.get("/v1/me", headers=bearer(created["token"]))).status_code == 200


async def test_non_admin_cannot_ask_for_the_admin_scope(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    r = await client.post(
        "/v1/me/api-tokens",
        json={"name": "Sneaky", "scopes": ["profile:read", "admin"]},
        headers=brand.headers,
    )
    assert_problem(r, 403, "scope_not_allowed")
    assert (await client.get("/v1/me/api-tokens", headers=brand.headers)).json()["items"] == []


async def test_admin_may_create_an_admin_token(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await factories.admin(client, app)
    token = (await factories.api_token(client, admin, ["admin"]))["token"]
    assert (await client.get("/v1/admin/users", headers=bearer(token))).status_code == 200


async def test_an_api_token_cannot_create_tokens(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    token = (await factories.api_token(client, creator, ["profile:read", "profile:write"]))["token"]
    r = await client.post(
        "/v1/me/api-tokens",
        json={"name": "Child", "scopes": ["profile:read"]},
        headers=bearer(token),
    )
    assert_problem(r, 403)
    listed = await client.get("/v1/me/api-tokens", headers=creator.headers)
    assert len(listed.json()["items"]) == 1


async def test_anonymous_cannot_manage_tokens(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/me/api-tokens"), 401)
    r = await client.post("/v1/me/api-tokens", json={"name": "x", "scopes": ["profile:read"]})
    assert_problem(r, 401)
    assert_problem(await client.delete(f"/v1/me/api-tokens/{UNKNOWN_ID}"), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["everything"]},
        {"name": "", "scopes": ["profile:read"]},
        {"scopes": ["profile:read"]},
        {"name": "x", "scopes": ["profile:read"], "expires_in_days": 0},
        {"name": "x", "scopes": ["profile:read"], "expires_in_days": 10_000},
        {"name": "x", "scopes": ["profile:read"], "token": "bbt_mine"},
    ],
)
async def test_token_creation_rejects_bad_input(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    creator = await factories.creator(client)
    r = await client.post("/v1/me/api-tokens", json=body, headers=creator.headers)
    assert_problem(r, 422, "validation_error")


async def test_revoking_with_a_bad_id_is_422(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.delete("/v1/me/api-tokens/not-a-uuid", headers=creator.headers)
    assert_problem(r, 422, "validation_error")
