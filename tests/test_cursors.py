"""Cursors are signed: any cursor the server did not issue is a 422 `invalid_cursor`, on
every list that takes one (found in the OpenAPI document, so a new list is covered too)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


def _unsigned(values: Any) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Cursors a client could make up: the shapes the server issues, with null, wrong or no
# values, unsigned and with a made-up signature.
FORGED = [
    _unsigned([None, None]),
    _unsigned(["newest", None, None]),
    _unsigned([None]),
    _unsigned([]),
    _unsigned(["2026-01-01T00:00:00+00:00", "00000000-0000-4000-8000-000000000000"]),
    _unsigned([None, None]) + ".AAAAAAAAAAAAAAAAAAAAAA",
    "not a cursor",
    ".",
]


def _cursor_paths(app: FastAPI) -> list[str]:
    paths = []
    for path, operations in app.openapi()["paths"].items():
        get = operations.get("get")
        if get and any(p["name"] == "cursor" for p in get.get("parameters", [])):
            paths.append(path)
    return paths


@pytest.fixture
async def world(client: httpx.AsyncClient, app: FastAPI) -> dict[str, Any]:
    """Every kind of caller, and a brief, a deal and a deliverable to list things of."""
    owner = await factories.brand(client)
    creator = await factories.applicant(client)
    brief = await factories.open_brief(client, owner)
    deal = await factories.active_deal(client, owner, brief, creator)
    unit = (await factories.deliverables(client, owner, deal))[0]
    hook = await client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=owner.headers
    )
    assert hook.status_code == 201, hook.text
    return {
        "callers": [owner, creator, await factories.admin(client, app)],
        "ids": {
            "brief_id": brief["id"],
            "brand_id": str(owner.brand_id),
            "application_id": deal["application_id"],
            "deal_id": deal["id"],
            "deliverable_id": unit["id"],
            "webhook_id": hook.json()["id"],
        },
    }


async def _caller_for(client: httpx.AsyncClient, url: str, callers: list[Actor]) -> Actor:
    for caller in callers:
        if (await client.get(url, headers=caller.headers)).status_code == 200:
            return caller
    answers = [(await client.get(url, headers=c.headers)).text for c in callers]
    raise AssertionError(f"nobody may list {url}: {answers}")


async def test_every_list_refuses_cursors_it_did_not_issue(
    client: httpx.AsyncClient, app: FastAPI, world: dict[str, Any]
) -> None:
    paths = _cursor_paths(app)
    assert len(paths) >= 14, paths
    for path in paths:
        url = path.format(**world["ids"])
        caller = await _caller_for(client, url, world["callers"])
        for cursor in FORGED:
            r = await client.get(url, params={"cursor": cursor}, headers=caller.headers)
            assert r.status_code == 422, (path, cursor, r.status_code, r.text)
            assert_problem(r, 422, "invalid_cursor")


async def test_issued_cursor_works_and_any_change_to_it_is_refused(
    client: httpx.AsyncClient,
) -> None:
    actor = await factories.creator(client)
    for name in ("one", "two", "three"):
        await factories.api_token(client, actor, ["profile:read"], name=name)
    first = await client.get("/v1/me/api-tokens", params={"limit": 1}, headers=actor.headers)
    cursor = first.json()["next_cursor"]

    second = await client.get(
        "/v1/me/api-tokens", params={"limit": 1, "cursor": cursor}, headers=actor.headers
    )
    assert second.status_code == 200, second.text
    assert second.json()["items"][0]["name"] == "two"

    payload, _, signature = cursor.partition(".")
    values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed = [
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),  # the signature
        ("B" if cursor[0] != "B" else "C") + cursor[1:],  # the values
        payload,  # no signature
        f"{_unsigned([values[0], values[1]])}.{signature}",  # re-encoded values, old signature
        f"{_unsigned([values[0], None])}.{signature}",
    ]
    for tampered in changed:
        r = await client.get(
            "/v1/me/api-tokens", params={"limit": 1, "cursor": tampered}, headers=actor.headers
        )
        assert_problem(r, 422, "invalid_cursor")
