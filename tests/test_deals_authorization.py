"""Authorization for every deal endpoint: anonymous 401, wrong role or scope 403, anyone but
the deal's parties 404 (as if the deal did not exist), malformed input 422."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem

# (method, path, who may call, body): "any" = the two parties (and admins, read-only).
ENDPOINTS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/deals/{deal}", "any", None),
    ("GET", "/v1/deals/{deal}/terms", "any", None),
    ("GET", "/v1/deals/{deal}/terms/1", "any", None),
    ("POST", "/v1/deals/{deal}/terms", "party", {"publish_end_date": "2031-01-01"}),
    ("POST", "/v1/deals/{deal}/terms/1/accept", "party", None),
    ("POST", "/v1/deals/{deal}/cancel", "party", {"reason": "no"}),
    ("POST", "/v1/deals/{deal}/mark-paid", "brand", None),
    ("GET", "/v1/deals/{deal}/usage-rights", "any", None),
    ("GET", "/v1/deals/{deal}/deliverables", "any", None),
    ("GET", "/v1/deals/{deal}/deliverables/{unit}", "any", None),
    ("POST", "/v1/deals/{deal}/deliverables/{unit}/submissions", "creator", factories.draft_body()),
    ("POST", "/v1/deals/{deal}/deliverables/{unit}/submissions/{sub}/approve", "brand", {}),
    (
        "POST",
        "/v1/deals/{deal}/deliverables/{unit}/submissions/{sub}/request-changes",
        "brand",
        {"comments": ["again"]},
    ),
    ("POST", "/v1/deals/{deal}/deliverables/{unit}/publish", "creator", factories.publish_body()),
    ("POST", "/v1/deals/{deal}/deliverables/{unit}/metrics", "party", {"reach": 1}),
    ("GET", "/v1/deals/{deal}/deliverables/{unit}/metrics", "any", None),
    ("GET", "/v1/deals/{deal}/shipping-address", "brand", None),
    ("GET", "/v1/deals/{deal}/shipments", "any", None),
    ("POST", "/v1/deals/{deal}/shipments", "brand", {"carrier": "DHL"}),
    ("PATCH", "/v1/deals/{deal}/shipments/{ship}", "brand", {"carrier": "UPS"}),
]
WRITES = {(m, p) for m, p, _, _ in ENDPOINTS if m != "GET"}


@dataclass
class World:
    brand: Actor
    creator: Actor
    ids: dict[str, str]

    def path(self, template: str, **override: str) -> str:
        return template.format(**{**self.ids, **override})


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    """An active gifted deal: a draft awaiting review, a shipment on its way."""
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    await factories.put_address(client, creator)
    brief = await factories.open_brief(client, brand, **factories.GIFTED)
    deal = await factories.active_deal(client, brand, brief, creator)
    (unit,) = await factories.deliverables(client, creator, deal)
    unit = await factories.submit_draft(client, creator, deal, unit)
    r = await client.post(
        f"/v1/deals/{deal['id']}/shipments", json={"carrier": "DHL"}, headers=brand.headers
    )
    assert r.status_code == 201, r.text
    ids = {
        "deal": deal["id"],
        "unit": unit["id"],
        "sub": unit["submissions"][0]["id"],
        "ship": r.json()["id"],
    }
    return World(brand, creator, ids)


async def _call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.request(method, path, json=body, headers=headers or {})


async def test_anonymous_callers_get_401_everywhere(
    client: httpx.AsyncClient, world: World
) -> None:
    for method, template, _, body in ENDPOINTS:
        r = await _call(client, method, world.path(template), body)
        assert_problem(r, 401, "not_authenticated")
    assert_problem(await client.get("/v1/deals"), 401, "not_authenticated")


async def test_the_wrong_role_gets_403(
    client: httpx.AsyncClient, app: FastAPI, world: World
) -> None:
    admin = await factories.admin(client, app)
    for method, template, who, body in ENDPOINTS:
        path = world.path(template)
        if who == "brand":
            r = await _call(client, method, path, body, world.creator.headers)
            assert_problem(r, 403, "brand_only")
            assert_problem(await _call(client, method, path, body, admin.headers), 403)
        elif who == "creator":
            r = await _call(client, method, path, body, world.brand.headers)
            assert_problem(r, 403, "creator_only")
            assert_problem(await _call(client, method, path, body, admin.headers), 403)
        elif who == "party":
            r = await _call(client, method, path, body, admin.headers)
            assert_problem(r, 403, "party_only")
        else:  # admins read every deal
            r = await _call(client, method, path, body, admin.headers)
            assert r.status_code == 200, (path, r.text)


async def test_anyone_but_the_parties_gets_404(client: httpx.AsyncClient, world: World) -> None:
    rival = await factories.brand(client, name="Rival")
    stranger = await factories.applicant(client)
    unknown = "00000000-0000-4000-8000-000000000000"
    for method, template, who, body in ENDPOINTS:
        outsiders = []
        if who in ("any", "party", "brand"):
            outsiders.append(rival)
        if who in ("any", "party", "creator"):
            outsiders.append(stranger)
        for outsider in outsiders:
            r = await _call(client, method, world.path(template), body, outsider.headers)
            assert_problem(r, 404, "not_found")
        # An unknown deal answers exactly alike.
        insider = world.creator if who == "creator" else world.brand
        r = await _call(client, method, world.path(template, deal=unknown), body, insider.headers)
        assert_problem(r, 404, "not_found")


async def test_malformed_ids_and_bodies_get_4xx(client: httpx.AsyncClient, world: World) -> None:
    for method, template, who, body in ENDPOINTS:
        insider = world.creator if who == "creator" else world.brand
        r = await _call(
            client, method, world.path(template, deal="not-a-uuid"), body, insider.headers
        )
        assert_problem(r, 422, "validation_error")
        if body is not None:
            r = await _call(
                client, method, world.path(template), {**body, "extra": 1}, insider.headers
            )
            assert_problem(r, 422, "validation_error")
            r = await client.request(
                method,
                world.path(template),
                content=b"{not json",
                headers={**insider.headers, "Content-Type": "application/json"},
            )
            assert_problem(r, 400, "malformed_json")
    r = await client.get(world.path("/v1/deals/{deal}/terms/0"), headers=world.brand.headers)
    assert_problem(r, 422, "validation_error")


async def test_api_tokens_need_the_deal_scopes(client: httpx.AsyncClient, world: World) -> None:
    tokens = {}
    for actor in (world.brand, world.creator):
        reader = await factories.api_token(client, actor, ["deals:read"])
        other = await factories.api_token(client, actor, ["briefs:read", "applications:write"])
        tokens[actor.role] = (factories.bearer(reader["token"]), factories.bearer(other["token"]))
    for method, template, who, body in ENDPOINTS:
        role = "creator" if who == "creator" else "brand"
        reader, other = tokens[role]
        path = world.path(template)
        if (method, template) in WRITES:
            r = await _call(client, method, path, body, reader)
            assert_problem(r, 403, "insufficient_scope")
        else:
            assert_problem(
                await _call(client, method, path, body, other), 403, "insufficient_scope"
            )
            r = await _call(client, method, path, body, reader)
            assert r.status_code == 200, (path, r.text)
