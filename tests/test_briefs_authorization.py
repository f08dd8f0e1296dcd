"""Briefs: who may create, read, change and move a brief through its lifecycle."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor

ACTIONS = ["publish", "close", "cancel", "complete"]


async def _state(client: httpx.AsyncClient, owner: Actor, state: str) -> dict[str, Any]:
    brief = await factories.brief(client, owner)
    steps = {"draft": [], "open": ["publish"], "closed": ["publish", "close"]}
    steps["cancelled"] = ["cancel"]
    steps["completed"] = ["publish", "close", "complete"]
    for action in steps[state]:
        r = await client.post(f"/v1/briefs/{brief['id']}/{action}", headers=owner.headers)
        brief = r.json()
    return brief


# --- anonymous ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/briefs"),
        ("GET", "/v1/briefs"),
        ("GET", "/v1/briefs/{id}"),
        ("PATCH", "/v1/briefs/{id}"),
        *[("POST", f"/v1/briefs/{{id}}/{a}") for a in ACTIONS],
    ],
)
async def test_anonymous_callers_get_401(client: httpx.AsyncClient, method: str, path: str) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    r = await client.request(method, path.format(id=brief["id"]), json={})
    factories.problem_of(r, 401, "not_authenticated")
    assert r.headers["www-authenticate"] == "Bearer"


# --- creators -----------------------------------------------------------------------------------


async def test_creator_cannot_create_a_brief(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.post("/v1/briefs", json=factories.brief_body(), headers=creator.headers)
    factories.problem_of(r, 403, "brand_only")


@pytest.mark.parametrize("action", ACTIONS)
async def test_creator_cannot_run_the_lifecycle(client: httpx.AsyncClient, action: str) -> None:
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    brief = await factories.open_brief(client, owner)
    r = await client.post(f"/v1/briefs/{brief['id']}/{action}", headers=creator.headers)
    factories.problem_of(r, 403, "brand_only")


async def test_creator_cannot_edit(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    brief = await factories.open_brief(client, owner)
    r = await client.patch(
        f"/v1/briefs/{brief['id']}",
        json={"description": "hijacked"},
        headers={**creator.headers, "If-Match": '"2"'},
    )
    factories.problem_of(r, 403, "brand_only")


@pytest.mark.parametrize(
    ("state", "visible"),
    [
        ("draft", False),
        ("cancelled", False),
        ("open", True),
        ("closed", True),
        ("completed", True),
    ],
)
async def test_what_others_may_read(client: httpx.AsyncClient, state: str, visible: bool) -> None:
    owner = await factories.brand(client)
    brief = await _state(client, owner, state)
    creator = await factories.creator(client)
    other_brand = await factories.brand(client, name="Rival Co")
    for reader in (creator, other_brand):
        r = await client.get(f"/v1/briefs/{brief['id']}", headers=reader.headers)
        if visible:
            assert r.status_code == 200, r.text
            assert r.json()["id"] == brief["id"]
            assert r.headers["etag"] == f'"{brief["version"]}"'
        else:
            factories.problem_of(r, 404, "not_found")
    own = await client.get(f"/v1/briefs/{brief['id']}", headers=owner.headers)
    assert own.status_code == 200, own.text


async def test_unknown_and_private_briefs_answer_alike(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    draft = await factories.brief(client, owner)
    private = await client.get(f"/v1/briefs/{draft['id']}", headers=creator.headers)
    unknown = await client.get(f"/v1/briefs/{uuid.uuid4()}", headers=creator.headers)
    assert private.status_code == unknown.status_code == 404
    assert private.json()["detail"] == unknown.json()["detail"]


async def test_admin_reads_drafts(client: httpx.AsyncClient, app: FastAPI) -> None:
    owner = await factories.brand(client)
    admin = await factories.admin(client, app)
    draft = await factories.brief(client, owner)
    r = await client.get(f"/v1/briefs/{draft['id']}", headers=admin.headers)
    assert r.status_code == 200, r.text


# --- other brands -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "open", "closed"])
async def test_other_brand_cannot_edit_any_brief(client: httpx.AsyncClient, state: str) -> None:
    owner = await factories.brand(client)
    rival = await factories.brand(client, name="Rival Co")
    brief = await _state(client, owner, state)
    r = await client.patch(
        f"/v1/briefs/{brief['id']}",
        json={"description": "hijacked"},
        headers={**rival.headers, "If-Match": f'"{brief["version"]}"'},
    )
    factories.problem_of(r, 404, "not_found")


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("draft", "publish"),
        ("draft", "cancel"),
        ("open", "close"),
        ("open", "cancel"),
        ("closed", "complete"),
    ],
)
async def test_other_brand_cannot_move_a_brief(
    client: httpx.AsyncClient, state: str, action: str
) -> None:
    owner = await factories.brand(client)
    rival = await factories.brand(client, name="Rival Co")
    brief = await _state(client, owner, state)
    r = await client.post(f"/v1/briefs/{brief['id']}/{action}", headers=rival.headers)
    factories.problem_of(r, 404, "not_found")
    after = await client.get(f"/v1/briefs/{brief['id']}", headers=owner.headers)
    assert after.json()["status"] == state


# --- scoped API tokens and bad input ------------------------------------------------------------


async def _token(client: httpx.AsyncClient, actor: Actor, scopes: list[str]) -> dict[str, str]:
    r = await client.post(
        "/v1/me/api-tokens", json={"name": "Agency tool", "scopes": scopes}, headers=actor.headers
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_read_only_token_searches_but_cannot_write(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    headers = await _token(client, owner, ["briefs:read"])
    assert (await client.get("/v1/briefs", headers=headers)).status_code == 200
    assert (await client.get(f"/v1/briefs/{brief['id']}", headers=headers)).status_code == 200
    r = await client.post("/v1/briefs", json=factories.brief_body(), headers=headers)
    factories.problem_of(r, 403, "insufficient_scope")
    r = await client.post(f"/v1/briefs/{brief['id']}/publish", headers=headers)
    factories.problem_of(r, 403, "insufficient_scope")


async def test_token_without_brief_scopes_cannot_search(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    headers = await _token(client, creator, ["profile:read"])
    r = await client.get("/v1/briefs", headers=headers)
    factories.problem_of(r, 403, "insufficient_scope")


async def test_write_token_manages_briefs(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    headers = await _token(client, owner, ["briefs:write"])
    r = await client.post("/v1/briefs", json=factories.brief_body(), headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post(f"/v1/briefs/{r.json()['id']}/publish", headers=headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("method", ["GET", "PATCH", "POST"])
async def test_a_malformed_brief_id_is_422(client: httpx.AsyncClient, method: str) -> None:
    owner = await factories.brand(client)
    path = "/v1/briefs/not-a-uuid" + ("/publish" if method == "POST" else "")
    headers = {**owner.headers, "If-Match": '"1"'}
    r = await client.request(method, path, json={}, headers=headers)
    factories.problem_of(r, 422, "validation_error")
