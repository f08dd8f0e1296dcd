"""The guards every endpoint shares, for the endpoints whose own modules did not try them
all: anonymous callers (401), the wrong role or a token without the scope (403), and
malformed input (422)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem

NOT_AN_ID = "not-a-uuid"


async def _world(client: httpx.AsyncClient, app: FastAPI) -> dict[str, Any]:
    """A brand with an open brief, a creator who applied to it, and an admin."""
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    application = await factories.apply(client, creator, brief)
    return {
        "brand": brand,
        "creator": creator,
        "admin": await factories.admin(client, app),
        "brief": brief,
        "application": application,
        "account_id": creator.extra["account_ids"][0],
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/creators/me/shipping-address"),
        ("PUT", "/v1/creators/me/shipping-address"),
        ("PATCH", "/v1/creators/me/accounts/{account_id}"),
        ("POST", "/v1/admin/users/{user_id}/unsuspend"),
    ],
)
async def test_anonymous_callers_get_401(
    client: httpx.AsyncClient, app: FastAPI, method: str, path: str
) -> None:
    world = await _world(client, app)
    url = path.format(account_id=world["account_id"], user_id=world["brand"].user_id)
    r = await client.request(method, url, json={})
    assert_problem(r, 401, "not_authenticated")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/creators/me/shipping-address", None),
        ("PATCH", "/v1/creators/me/accounts/{account_id}", {"followers": 1}),
        ("DELETE", "/v1/creators/me/accounts/{account_id}", None),
    ],
)
async def test_brands_cannot_use_creator_endpoints(
    client: httpx.AsyncClient, app: FastAPI, method: str, path: str, body: Any
) -> None:
    world = await _world(client, app)
    url = path.format(account_id=world["account_id"])
    r = await client.request(method, url, json=body, headers=world["brand"].headers)
    assert_problem(r, 403, "creator_only")


@pytest.mark.parametrize(
    ("who", "method", "path", "scopes"),
    [
        ("brand", "GET", "/v1/me/api-tokens", ["briefs:read"]),
        ("brand", "DELETE", "/v1/me/api-tokens/{token_id}", ["profile:read"]),
        ("brand", "GET", "/v1/creators/{creator_id}", ["briefs:read"]),
        ("brand", "GET", "/v1/briefs/{brief_id}", ["profile:read"]),
        ("creator", "GET", "/v1/applications/{application_id}", ["briefs:read"]),
    ],
)
async def test_a_token_without_the_scope_gets_403(
    client: httpx.AsyncClient, app: FastAPI, who: str, method: str, path: str, scopes: list[str]
) -> None:
    world = await _world(client, app)
    actor: Actor = world[who]
    token = await factories.api_token(client, actor, scopes)
    url = path.format(
        token_id=token["id"],
        creator_id=world["creator"].creator_id,
        brief_id=world["brief"]["id"],
        application_id=world["application"]["id"],
    )
    r = await client.request(method, url, headers={"Authorization": f"Bearer {token['token']}"})
    assert_problem(r, 403, "insufficient_scope")


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("creator", "DELETE", f"/v1/creators/me/accounts/{NOT_AN_ID}"),
        *[
            ("brand", "POST", f"/v1/briefs/{NOT_AN_ID}/{a}")
            for a in ("close", "cancel", "complete")
        ],
        *[
            ("brand", "POST", f"/v1/applications/{NOT_AN_ID}/{a}")
            for a in ("shortlist", "decline", "accept")
        ],
        ("creator", "POST", f"/v1/applications/{NOT_AN_ID}/withdraw"),
        ("admin", "POST", f"/v1/admin/users/{NOT_AN_ID}/unsuspend"),
    ],
)
async def test_a_malformed_id_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, who: str, method: str, path: str
) -> None:
    world = await _world(client, app)
    r = await client.request(method, path, headers=world[who].headers)
    problem = assert_problem(r, 422, "validation_error")
    assert problem["errors"][0]["loc"][0] == "path"


@pytest.mark.parametrize(
    "params", [{"status": "lost"}, {"limit": "0"}, {"limit": "many"}, {"cursor": "%%%"}]
)
async def test_my_applications_refuse_bad_filters(
    client: httpx.AsyncClient, app: FastAPI, params: dict[str, str]
) -> None:
    world = await _world(client, app)
    r = await client.get("/v1/me/applications", params=params, headers=world["creator"].headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def _secured_operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the document says needs a credential."""
    return [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("security")
    ]


async def test_every_secured_operation_refuses_anonymous_callers_first(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """No route checks its input or looks up its object before it knows the caller: an
    anonymous request is 401 everywhere the document asks for a credential, whatever the
    ids and the body."""
    operations = _secured_operations(app)
    assert len(operations) > 80, operations  # the walk reaches the whole API
    refused = []
    for method, path in operations:
        url = path
        for name in [p.split("}")[0] for p in path.split("{")[1:]]:
            url = url.replace(f"{{{name}}}", "00000000-0000-4000-8000-000000000000")
        r = await client.request(method, url, json={} if method != "GET" else None)
        if r.status_code != 401:
            refused.append((method, path, r.status_code))
    assert refused == []
