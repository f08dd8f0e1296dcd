"""Role by endpoint: every brand-scoped endpoint asked by an owner, a manager, a viewer, a
member of another brand, a removed member and an agency that runs other brands.

Reads: the three roles 2xx, everybody else 404. Writes that run campaigns: owner and
manager 2xx, viewer 403 `insufficient_role`, everybody else 404. Team and profile upkeep:
owners only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import Actor, assert_problem

OUTSIDERS = ("stranger", "removed", "agency")


@dataclass
class World:
    actors: dict[str, Actor]
    ids: dict[str, str]

    def path(self, template: str) -> str:
        return template.format(**self.ids)


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    owner = await factories.brand(client, name="Glow Labs")
    manager = await factories.member(client, owner, "manager")
    viewer = await factories.member(client, owner, "viewer")
    removed = await factories.member(client, owner, "manager")
    r = await client.delete(
        f"/v1/brands/{owner.brand_id}/members/{removed.user_id}", headers=owner.headers
    )
    assert r.status_code == 204, r.text
    stranger = await factories.brand(client, name="Rival")
    agency = await factories.member(client, stranger, "owner")
    await factories.join(client, await factories.brand(client, name="Other client"), agency)

    creator = await factories.applicant(client)
    invitee = await factories.applicant(client)
    draft = await factories.brief(client, owner)
    brief = await factories.open_brief(client, owner)
    application = await factories.apply(client, creator, brief)
    deal = await factories.deal(client, owner, await factories.open_brief(client, owner), invitee)
    ids = {
        "brand": str(owner.brand_id),
        "draft": draft["id"],
        "brief": brief["id"],
        "application": application["id"],
        "deal": deal["id"],
        "invitee": str(invitee.creator_id),
        "viewer": str(viewer.user_id),
    }
    actors = {
        "owner": owner,
        "manager": manager,
        "viewer": viewer,
        "removed": removed,
        "stranger": stranger,
        "agency": agency,
    }
    return World(actors, ids)


READS = [
    ("GET", "/v1/briefs/{draft}"),
    ("GET", "/v1/briefs/{brief}/applications"),
    ("GET", "/v1/briefs/{brief}/matches"),
    ("GET", "/v1/briefs/{brief}/report"),
    ("GET", "/v1/applications/{application}"),
    ("GET", "/v1/deals/{deal}"),
    ("GET", "/v1/deals/{deal}/terms"),
    ("GET", "/v1/deals/{deal}/deliverables"),
    ("GET", "/v1/brands/{brand}/members"),
]

# (method, path, body, extra headers)
WRITES: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = [
    ("PATCH", "/v1/briefs/{draft}", {"title": "New title"}, {"If-Match": '"1"'}),
    ("POST", "/v1/briefs/{draft}/cancel", None, {}),
    ("POST", "/v1/briefs/{brief}/close", None, {}),
    ("POST", "/v1/briefs/{brief}/invitations", {"creator_id": "{invitee}"}, {}),
    ("POST", "/v1/applications/{application}/shortlist", None, {}),
    ("POST", "/v1/applications/{application}/decline", None, {}),
    ("POST", "/v1/deals/{deal}/cancel", {"reason": "budget cut"}, {}),
    ("POST", "/v1/applications/{application}/accept", None, {}),
]

OWNER_ONLY: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/brands/{brand}/invitations", None),
    ("POST", "/v1/brands/{brand}/invitations", {"email": "new@example.com"}),
    ("PATCH", "/v1/brands/{brand}/members/{viewer}", {"role": "viewer"}),
]


def _body(world: World, body: dict[str, Any] | None) -> dict[str, Any] | None:
    if body is None:
        return None
    return {k: world.path(v) if isinstance(v, str) else v for k, v in body.items()}


@pytest.mark.parametrize(("method", "template"), READS)
async def test_reads_by_role(
    client: httpx.AsyncClient, world: World, method: str, template: str
) -> None:
    for who in ("owner", "manager", "viewer"):
        r = await client.request(method, world.path(template), headers=world.actors[who].headers)
        assert r.status_code == 200, (who, r.text)
    for who in OUTSIDERS:
        r = await client.request(method, world.path(template), headers=world.actors[who].headers)
        assert_problem(r, 404, "not_found")


@pytest.mark.parametrize("actor", ["owner", "manager"])
@pytest.mark.parametrize(("method", "template", "body", "headers"), WRITES)
async def test_writes_by_role(
    client: httpx.AsyncClient,
    world: World,
    actor: str,
    method: str,
    template: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
) -> None:
    path, data = world.path(template), _body(world, body)
    for who in OUTSIDERS:
        r = await client.request(
            method, path, json=data, headers={**world.actors[who].headers, **headers}
        )
        assert_problem(r, 404, "not_found")
    r = await client.request(
        method, path, json=data, headers={**world.actors["viewer"].headers, **headers}
    )
    assert_problem(r, 403, "insufficient_role")
    # Refused calls changed nothing: the allowed one still finds the object as it was.
    r = await client.request(
        method, path, json=data, headers={**world.actors[actor].headers, **headers}
    )
    assert r.status_code in (200, 201), (actor, r.text)


@pytest.mark.parametrize(("method", "template", "body"), OWNER_ONLY)
async def test_team_upkeep_is_for_owners(
    client: httpx.AsyncClient,
    world: World,
    method: str,
    template: str,
    body: dict[str, Any] | None,
) -> None:
    path = world.path(template)
    for who in OUTSIDERS:
        r = await client.request(method, path, json=body, headers=world.actors[who].headers)
        assert_problem(r, 404, "not_found")
    for who in ("manager", "viewer"):
        r = await client.request(method, path, json=body, headers=world.actors[who].headers)
        assert_problem(r, 403, "insufficient_role")
    r = await client.request(method, path, json=body, headers=world.actors["owner"].headers)
    assert r.status_code in (200, 201), r.text


async def test_brand_profile_is_changed_by_owners(client: httpx.AsyncClient, world: World) -> None:
    path = world.path("/v1/brands/{brand}")
    for who in OUTSIDERS:
        r = await client.patch(path, json={"country": "DE"}, headers=world.actors[who].headers)
        assert_problem(r, 403, "not_a_member")
    for who in ("manager", "viewer"):
        r = await client.patch(path, json={"country": "DE"}, headers=world.actors[who].headers)
        assert_problem(r, 403, "insufficient_role")
    r = await client.patch(path, json={"country": "DE"}, headers=world.actors["owner"].headers)
    assert r.status_code == 200, r.text


async def test_creating_briefs_by_role(client: httpx.AsyncClient, world: World) -> None:
    body = factories.brief_body()
    r = await client.post("/v1/briefs", json=body, headers=world.actors["viewer"].headers)
    assert_problem(r, 403, "insufficient_role")
    r = await client.post("/v1/briefs", json=body, headers=world.actors["removed"].headers)
    assert_problem(r, 403, "not_a_member")
    for who in ("stranger", "agency"):
        r = await client.post(
            f"/v1/briefs?brand_id={world.ids['brand']}",
            json=body,
            headers=world.actors[who].headers,
        )
        assert_problem(r, 403, "not_a_member")
    r = await client.post("/v1/briefs", json=body, headers=world.actors["manager"].headers)
    assert r.status_code == 201, r.text
    assert r.json()["brand_id"] == world.ids["brand"]


async def test_mine_lists_by_role(client: httpx.AsyncClient, world: World) -> None:
    for who in ("owner", "manager", "viewer"):
        headers = world.actors[who].headers
        r = await client.get("/v1/briefs?mine=true", headers=headers)
        assert {b["id"] for b in r.json()["items"]} >= {world.ids["draft"], world.ids["brief"]}
        r = await client.get("/v1/deals", headers=headers)
        assert [d["id"] for d in r.json()["items"]] == [world.ids["deal"]]
    for who in OUTSIDERS:
        headers = world.actors[who].headers
        r = await client.get("/v1/briefs?mine=true", headers=headers)
        assert world.ids["draft"] not in {b["id"] for b in r.json()["items"]}
        r = await client.get("/v1/deals", headers=headers)
        assert r.json()["items"] == []
