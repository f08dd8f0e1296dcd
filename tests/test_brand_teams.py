"""Brand teams: members and roles, invitations, the last owner, agencies, brand-limited
tokens, and losing access at once."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import assert_problem


async def test_sign_up_makes_the_founder_the_owner(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client, name="Glow Labs")
    r = await client.get("/v1/me", headers=owner.headers)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["brand_id"] == str(owner.brand_id)
    assert me["memberships"] == [
        {"brand_id": str(owner.brand_id), "brand_name": "Glow Labs", "role": "owner"}
    ]
    r = await client.get(f"/v1/brands/{owner.brand_id}/members", headers=owner.headers)
    assert [(m["email"], m["role"]) for m in r.json()] == [(owner.email, "owner")]


async def test_invitation_is_shown_once_stored_as_digest_and_single_use(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    joiner = await factories.brand(client, name="Joiner's own")
    invitation = await factories.brand_invitation(client, owner, joiner.email, "viewer")
    token = invitation["token"]
    assert token.startswith("bbi_")
    assert len(token) > 40
    rows = await factories.db_rows(app, "SELECT token_hash FROM brand_invitations")
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()

    r = await client.post(
        "/v1/brand-invitations/accept", json={"token": token}, headers=joiner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "viewer"
    r = await client.post(
        "/v1/brand-invitations/accept", json={"token": token}, headers=joiner.headers
    )
    assert_problem(r, 404, "invitation_invalid")
    r = await client.get(f"/v1/brands/{owner.brand_id}/members", headers=owner.headers)
    assert {m["email"]: m["role"] for m in r.json()} == {
        owner.email: "owner",
        joiner.email: "viewer",
    }


async def test_expired_and_unknown_invitations_are_refused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    joiner = await factories.brand(client)
    invitation = await factories.brand_invitation(client, owner, joiner.email)
    await factories.db_execute(
        app,
        "UPDATE brand_invitations SET expires_at = :t",
        t=datetime.now(UTC) - timedelta(seconds=1),
    )
    for token in (invitation["token"], "bbi_guessed"):
        r = await client.post(
            "/v1/brand-invitations/accept", json={"token": token}, headers=joiner.headers
        )
        assert_problem(r, 404, "invitation_invalid")


async def test_an_invitation_works_only_for_its_email(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    thief = await factories.brand(client)
    invitation = await factories.brand_invitation(client, owner, "someone@example.com")
    r = await client.post(
        "/v1/brand-invitations/accept", json={"token": invitation["token"]}, headers=thief.headers
    )
    assert_problem(r, 403, "invitation_email_mismatch")


async def test_creators_cannot_join_a_brand(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    invitation = await factories.brand_invitation(client, owner, creator.email)
    r = await client.post(
        "/v1/brand-invitations/accept",
        json={"token": invitation["token"]},
        headers=creator.headers,
    )
    assert_problem(r, 403, "brand_only")


async def test_registering_with_an_invitation_joins_without_a_new_brand(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    manager = await factories.member(client, owner, "manager")
    assert manager.brand_id == owner.brand_id
    assert len(await factories.db_rows(app, "SELECT id FROM brands")) == 1
    r = await client.post(
        "/v1/auth/register",
        json={"email": "x@example.com", "password": factories.PASSWORD, "role": "brand"},
    )
    problem = assert_problem(r, 422, "validation_error")
    assert ["body", "brand"] in [e["loc"] for e in problem["errors"]]


async def test_only_owners_manage_the_team(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    manager = await factories.member(client, owner, "manager")
    viewer = await factories.member(client, owner, "viewer")
    path = f"/v1/brands/{owner.brand_id}"
    for actor in (manager, viewer):
        r = await client.post(
            f"{path}/invitations", json={"email": "a@example.com"}, headers=actor.headers
        )
        assert_problem(r, 403, "insufficient_role")
        r = await client.patch(
            f"{path}/members/{viewer.user_id}", json={"role": "owner"}, headers=actor.headers
        )
        assert_problem(r, 403, "insufficient_role")
        r = await client.delete(f"{path}/members/{owner.user_id}", headers=actor.headers)
        assert_problem(r, 403, "insufficient_role")
    r = await client.patch(
        f"{path}/members/{viewer.user_id}", json={"role": "manager"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "manager"


async def test_the_last_owner_can_neither_leave_nor_be_demoted(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    manager = await factories.member(client, owner, "manager")
    path = f"/v1/brands/{owner.brand_id}/members"
    r = await client.delete(f"{path}/{owner.user_id}", headers=owner.headers)
    assert_problem(r, 409, "last_owner")
    r = await client.patch(
        f"{path}/{owner.user_id}", json={"role": "viewer"}, headers=owner.headers
    )
    assert_problem(r, 409, "last_owner")
    # With a second owner, the first may step down.
    r = await client.patch(
        f"{path}/{manager.user_id}", json={"role": "owner"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"{path}/{owner.user_id}", json={"role": "viewer"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    r = await client.delete(f"{path}/{manager.user_id}", headers=manager.headers)
    assert_problem(r, 409, "last_owner")


async def test_a_member_may_leave(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    viewer = await factories.member(client, owner, "viewer")
    r = await client.delete(
        f"/v1/brands/{owner.brand_id}/members/{viewer.user_id}", headers=viewer.headers
    )
    assert r.status_code == 204, r.text
    r = await client.get("/v1/me", headers=viewer.headers)
    assert r.json()["memberships"] == []
    assert r.json()["brand_id"] is None


async def test_a_removed_member_loses_access_at_once_tokens_included(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    manager = await factories.member(client, owner, "manager")
    draft = await factories.brief(client, owner)
    token = await factories.api_token(client, manager, ["briefs:read", "briefs:write"])
    api = factories.bearer(token["token"])
    for headers in (manager.headers, api):
        r = await client.get(f"/v1/briefs/{draft['id']}", headers=headers)
        assert r.status_code == 200, r.text

    r = await client.delete(
        f"/v1/brands/{owner.brand_id}/members/{manager.user_id}", headers=owner.headers
    )
    assert r.status_code == 204, r.text
    for headers in (manager.headers, api):
        r = await client.get(f"/v1/briefs/{draft['id']}", headers=headers)
        assert_problem(r, 404, "not_found")
        r = await client.get("/v1/briefs?mine=true", headers=headers)
        assert r.status_code == 200
        assert r.json()["items"] == []
        r = await client.post("/v1/briefs", json=factories.brief_body(), headers=headers)
        assert_problem(r, 403, "not_a_member")


async def test_membership_changes_are_events(client: httpx.AsyncClient, app: FastAPI) -> None:
    owner = await factories.brand(client)
    viewer = await factories.member(client, owner, "viewer")
    path = f"/v1/brands/{owner.brand_id}/members/{viewer.user_id}"
    await client.patch(path, json={"role": "manager"}, headers=owner.headers)
    await client.delete(path, headers=owner.headers)
    rows = await factories.db_rows(
        app, "SELECT type, brand_id, payload FROM outbox_events ORDER BY occurred_at, type"
    )
    assert [(r["type"], r["payload"]["role"]) for r in rows] == [
        ("brand.member_added", "viewer"),
        ("brand.member_updated", "manager"),
        ("brand.member_removed", None),
    ]
    assert {r["brand_id"] for r in rows} == {owner.brand_id}


# --- agencies -------------------------------------------------------------------------------


async def test_an_agency_names_the_brand_when_it_has_several(client: httpx.AsyncClient) -> None:
    first = await factories.brand(client, name="First")
    second = await factories.brand(client, name="Second")
    agency = await factories.member(client, first, "manager")
    await factories.join(client, second, agency, "manager")

    r = await client.get("/v1/me", headers=agency.headers)
    assert r.json()["brand_id"] is None
    assert [(m["brand_name"], m["role"]) for m in r.json()["memberships"]] == [
        ("First", "manager"),
        ("Second", "manager"),
    ]
    r = await client.post("/v1/briefs", json=factories.brief_body(), headers=agency.headers)
    assert_problem(r, 422, "brand_required")
    r = await client.post(
        f"/v1/briefs?brand_id={second.brand_id}",
        json=factories.brief_body(),
        headers=agency.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["brand_id"] == str(second.brand_id)
    # The brief's brand decides: the agency acts on it without naming the brand again.
    r = await client.post(f"/v1/briefs/{r.json()['id']}/publish", headers=agency.headers)
    assert r.status_code == 200, r.text

    draft = await factories.brief(client, first)
    r = await client.get("/v1/briefs?mine=true", headers=agency.headers)
    assert len(r.json()["items"]) == 2
    r = await client.get(f"/v1/briefs?mine=true&brand_id={first.brand_id}", headers=agency.headers)
    assert [b["id"] for b in r.json()["items"]] == [draft["id"]]
    outsider = await factories.brand(client)
    r = await client.get(
        f"/v1/briefs?mine=true&brand_id={outsider.brand_id}", headers=agency.headers
    )
    assert_problem(r, 403, "not_a_member")


async def test_a_brand_limited_token_sees_one_brand(client: httpx.AsyncClient) -> None:
    first = await factories.brand(client, name="First")
    second = await factories.brand(client, name="Second")
    agency = await factories.member(client, first, "manager")
    await factories.join(client, second, agency, "manager")
    first_draft = await factories.brief(client, first)
    second_draft = await factories.brief(client, second)
    r = await client.post(
        "/v1/me/api-tokens",
        json={"name": "Second only", "scopes": ["briefs:read"], "brand_id": str(second.brand_id)},
        headers=agency.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["brand_id"] == str(second.brand_id)
    limited = factories.bearer(r.json()["token"])
    r = await client.get(f"/v1/briefs/{first_draft['id']}", headers=limited)
    assert_problem(r, 404, "not_found")
    r = await client.get(f"/v1/briefs/{second_draft['id']}", headers=limited)
    assert r.status_code == 200, r.text
    r = await client.get("/v1/briefs?mine=true", headers=limited)
    assert [b["id"] for b in r.json()["items"]] == [second_draft["id"]]

    outsider = await factories.brand(client)
    r = await client.post(
        "/v1/me/api-tokens",
        json={"name": "x", "scopes": ["briefs:read"], "brand_id": str(outsider.brand_id)},
        headers=agency.headers,
    )
    assert_problem(r, 403, "not_a_member")


async def test_deals_list_filters_by_brand(client: httpx.AsyncClient) -> None:
    first = await factories.brand(client, name="First")
    second = await factories.brand(client, name="Second")
    agency = await factories.member(client, first, "manager")
    await factories.join(client, second, agency, "viewer")
    creator = await factories.applicant(client)
    deal_1 = await factories.deal(client, first, await factories.open_brief(client, first), creator)
    deal_2 = await factories.deal(
        client, second, await factories.open_brief(client, second), creator
    )
    r = await client.get("/v1/deals", headers=agency.headers)
    assert {d["id"] for d in r.json()["items"]} == {deal_1["id"], deal_2["id"]}
    r = await client.get(f"/v1/deals?brand_id={second.brand_id}", headers=agency.headers)
    assert [d["id"] for d in r.json()["items"]] == [deal_2["id"]]
    # Viewer in the second brand: reads, but cannot cancel there; manager in the first can.
    r = await client.post(
        f"/v1/deals/{deal_2['id']}/cancel", json={"reason": "x"}, headers=agency.headers
    )
    assert_problem(r, 403, "insufficient_role")
    r = await client.post(
        f"/v1/deals/{deal_1['id']}/cancel", json={"reason": "x"}, headers=agency.headers
    )
    assert r.status_code == 200, r.text


async def test_owners_list_and_revoke_pending_invitations(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    joiner = await factories.brand(client)
    invitation = await factories.brand_invitation(client, owner, joiner.email)
    path = f"/v1/brands/{owner.brand_id}/invitations"
    r = await client.get(path, headers=owner.headers)
    assert [(i["id"], i["email"]) for i in r.json()["items"]] == [(invitation["id"], joiner.email)]
    assert "token" not in r.json()["items"][0]
    r = await client.delete(f"{path}/{invitation['id']}", headers=owner.headers)
    assert r.status_code == 204, r.text
    r = await client.get(path, headers=owner.headers)
    assert r.json()["items"] == []
    r = await client.post(
        "/v1/brand-invitations/accept",
        json={"token": invitation["token"]},
        headers=joiner.headers,
    )
    assert_problem(r, 404, "invitation_invalid")
    rival = await factories.brand(client)
    r = await client.delete(f"{path}/{invitation['id']}", headers=rival.headers)
    assert_problem(r, 404, "not_found")


async def test_two_owners_stepping_down_at_once_leave_one_owner(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    other = await factories.member(client, owner, "owner")
    path = f"/v1/brands/{owner.brand_id}/members"
    for _ in range(3):
        results = await asyncio.gather(
            client.patch(
                f"{path}/{owner.user_id}", json={"role": "manager"}, headers=owner.headers
            ),
            client.patch(
                f"{path}/{other.user_id}", json={"role": "manager"}, headers=other.headers
            ),
        )
        assert sorted(r.status_code for r in results) == [200, 409]
        owners = await factories.db_rows(
            app, "SELECT user_id FROM brand_memberships WHERE role = 'owner'"
        )
        assert len(owners) == 1
        # Restore both owners for the next round.
        (kept,) = owners
        actor = owner if kept["user_id"] == owner.user_id else other
        demoted = other if actor is owner else owner
        r = await client.patch(
            f"{path}/{demoted.user_id}", json={"role": "owner"}, headers=actor.headers
        )
        assert r.status_code == 200, r.text
