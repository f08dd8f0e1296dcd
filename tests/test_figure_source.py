"""Only a trusted path may mark a creator's audience figures `verified`."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import assert_problem, social_account


def _source_error(problem: dict[str, object]) -> str:
    errors = problem.get("errors")
    assert isinstance(errors, list)
    messages = [e["msg"] for e in errors if e["loc"][-1] == "source"]
    assert messages, problem
    return str(messages[0])


async def test_creator_cannot_claim_verified_figures_on_a_new_account(
    client: httpx.AsyncClient,
) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/creators/me/accounts",
        json=social_account(source="verified"),
        headers=creator.headers,
    )
    problem = assert_problem(r, 422, "validation_error")
    assert "verified" in _source_error(problem)
    # Nothing was stored.
    me = await client.get("/v1/creators/me", headers=creator.headers)
    assert me.json()["accounts"] == []


async def test_creator_cannot_relabel_figures_as_verified(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    created = await client.post(
        "/v1/creators/me/accounts", json=social_account(), headers=creator.headers
    )
    assert created.status_code == 201, created.text
    r = await client.patch(
        f"/v1/creators/me/accounts/{created.json()['id']}",
        json={"source": "verified"},
        headers=creator.headers,
    )
    assert "verified" in _source_error(assert_problem(r, 422, "validation_error"))

    brand = await factories.brand(client)
    seen = await client.get(f"/v1/creators/{creator.creator_id}", headers=brand.headers)
    assert [a["source"] for a in seen.json()["accounts"]] == ["self_reported"]


async def test_new_figures_on_a_verified_account_are_self_reported_again(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    creator = await factories.creator(client)
    created = await client.post(
        "/v1/creators/me/accounts", json=social_account(), headers=creator.headers
    )
    account_id = created.json()["id"]
    # As a trusted path (an admin, a platform integration) would mark it.
    await factories.db_execute(
        app, "UPDATE social_accounts SET source = 'verified' WHERE id = :id", id=account_id
    )
    r = await client.patch(
        f"/v1/creators/me/accounts/{account_id}",
        json={"followers": 90_000},
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "self_reported"
