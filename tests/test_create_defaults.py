"""Every create endpoint with only its required fields: the documented defaults are what is
stored (read back, or from the database) and what is returned.

A schema default that never reaches the database (a create dumped with `exclude_unset`)
answered 422 or stored nothing; tests that always send every field cannot see it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import GIFTED, PASSWORD, Actor, db_rows, unique_email

MINIMAL_ACCOUNT = {
    "platform": "tiktok",
    "handle": "@minimal",
    "followers": 12_000,
    "avg_likes": 600,
    "avg_comments": 30,
    "as_of": "2026-11-01",
}


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_account_without_source_is_stored_self_reported(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    actor = await factories.creator(client)
    created = await _created(
        await client.post("/v1/creators/me/accounts", json=MINIMAL_ACCOUNT, headers=actor.headers)
    )
    expected = {
        "source": "self_reported",
        "avg_views": None,
        "reach": None,
        "impressions": None,
        "audience": {"countries": {}, "genders": {}, "ages": {}},
        "tier": "micro",
        "engagement_rate": 0.0525,
    }
    assert {k: created[k] for k in expected} == expected

    profile = (await client.get("/v1/creators/me", headers=actor.headers)).json()
    [stored] = profile["accounts"]
    assert {k: stored[k] for k in expected} == expected
    [row] = await db_rows(
        app, "SELECT source FROM social_accounts WHERE id = :id", id=created["id"]
    )
    assert row["source"] == "self_reported"


async def test_account_patch_leaves_unsent_fields_alone(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    created = await _created(
        await client.post(
            "/v1/creators/me/accounts",
            json={**MINIMAL_ACCOUNT, "reach": 9_000, "audience": {"countries": {"ES": 50.0}}},
            headers=actor.headers,
        )
    )
    r = await client.patch(
        f"/v1/creators/me/accounts/{created['id']}",
        json={"followers": 13_000},
        headers=actor.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["followers"] == 13_000
    assert r.json()["reach"] == 9_000
    assert r.json()["audience"]["countries"] == {"ES": 50.0}
    assert r.json()["source"] == "self_reported"


async def test_creator_registration_with_only_the_required_fields(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email("creator")
    body = {"email": email, "password": PASSWORD, "role": "creator"}
    me = await _created(await client.post("/v1/auth/register", json=body))
    assert me["brand_id"] is None
    assert me["creator_id"] is not None
    token = (await factories.login(client, email)).json()["access_token"]
    profile = (await client.get("/v1/creators/me", headers=factories.bearer(token))).json()
    assert profile["accounts"] == []
    assert profile["niches"] == []
    assert profile["rate_card"] == []
    assert profile["has_shipping_address"] is False


async def test_brief_with_only_the_required_fields_gets_the_documented_defaults(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    body = {
        "title": "Minimal",
        "collaboration_type": "sponsored_post",
        "compensation_type": "paid",
    }
    created = await _created(await client.post("/v1/briefs", json=body, headers=owner.headers))
    stored = (await client.get(f"/v1/briefs/{created['id']}", headers=owner.headers)).json()
    for brief in (created, stored):
        assert brief["status"] == "draft"
        assert brief["posting_required"] is True
        assert brief["max_revision_rounds"] == 2
        assert brief["review_window_days"] == 3
        for name in ("platforms", "deliverables", "tiers", "niches", "creator_countries"):
            assert brief[name] == [], name
        assert brief["screening_questions"] == []
        # Paid: #ad with the paid-partnership label; organic social, website and email for
        # 12 months worldwide, never perpetual.
        assert "#ad" in brief["disclosure"]["hashtags"]
        rights = brief["usage_rights"]
        assert set(rights["channels"]) == {"organic_social", "website", "email"}
        assert rights["duration_days"] == 365
        assert rights["perpetual"] is False


async def test_gifted_brief_defaults_to_organic_reposting_and_gifted_disclosure(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    body = {"title": "Gift", "collaboration_type": "product_seeding", "compensation_type": "gifted"}
    created = await _created(await client.post("/v1/briefs", json=body, headers=owner.headers))
    stored = (await client.get(f"/v1/briefs/{created['id']}", headers=owner.headers)).json()
    for brief in (created, stored):
        assert "#gifted" in brief["disclosure"]["hashtags"]
        assert brief["usage_rights"]["channels"] == ["organic_social"]
        assert brief["usage_rights"]["perpetual"] is False


async def test_api_token_without_expiry_never_expires(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    body = {"name": "dashboard", "scopes": ["briefs:read"]}
    created = await _created(
        await client.post("/v1/me/api-tokens", json=body, headers=actor.headers)
    )
    assert created["expires_at"] is None
    listed = (await client.get("/v1/me/api-tokens", headers=actor.headers)).json()["items"]
    assert [t["expires_at"] for t in listed] == [None]


async def _gifted_brief_and_applicant(
    client: httpx.AsyncClient,
) -> tuple[Actor, dict[str, Any], Actor]:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner, **GIFTED)
    creator = await factories.applicant(client, profile={"accepts_gifting": True})
    return owner, brief, creator


async def test_application_with_only_pitch_and_accounts(client: httpx.AsyncClient) -> None:
    _, brief, creator = await _gifted_brief_and_applicant(client)
    body = {"pitch": "I love this serum.", "account_ids": creator.extra["account_ids"]}
    created = await _created(
        await client.post(
            f"/v1/briefs/{brief['id']}/applications", json=body, headers=creator.headers
        )
    )
    stored = (await client.get(f"/v1/applications/{created['id']}", headers=creator.headers)).json()
    for application in (created, stored):
        assert application["status"] == "submitted"
        assert application["answers"] == []
        assert application["available_for_publish_date"] is True
        assert application["proposed_fee_minor"] is None
        assert application["invitation_id"] is None


async def test_invitation_without_a_message(client: httpx.AsyncClient) -> None:
    owner, brief, creator = await _gifted_brief_and_applicant(client)
    created = await _created(
        await client.post(
            f"/v1/briefs/{brief['id']}/invitations",
            json={"creator_id": str(creator.creator_id)},
            headers=owner.headers,
        )
    )
    listed = (await client.get("/v1/me/invitations", headers=creator.headers)).json()["items"]
    for invitation in (created, *listed):
        assert invitation["message"] is None
        assert invitation["status"] == "pending"
    # Invitations expire after 7 days.
    expires_at = datetime.fromisoformat(created["expires_at"])
    created_at = datetime.fromisoformat(created["created_at"])
    assert expires_at - created_at == timedelta(days=7)


async def _gifted_deal(client: httpx.AsyncClient) -> tuple[Actor, Actor, dict[str, Any]]:
    owner, brief, creator = await _gifted_brief_and_applicant(client)
    await factories.put_address(client, creator)
    deal = await factories.active_deal(client, owner, brief, creator)
    return owner, creator, deal


async def test_shipment_with_only_a_carrier(client: httpx.AsyncClient) -> None:
    owner, _, deal = await _gifted_deal(client)
    created = await _created(
        await client.post(
            f"/v1/deals/{deal['id']}/shipments", json={"carrier": "DHL"}, headers=owner.headers
        )
    )
    listed = (await client.get(f"/v1/deals/{deal['id']}/shipments", headers=owner.headers)).json()
    for shipment in (created, *listed["items"]):
        assert shipment["carrier"] == "DHL"
        assert shipment["tracking_number"] is None
        assert shipment["shipped_at"] is None
        assert shipment["delivered_at"] is None


async def test_publish_and_metrics_with_only_the_required_fields(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner, creator, deal = await _gifted_deal(client)
    [unit] = await factories.deliverables(client, creator, deal)
    unit = await factories.approve_draft(
        client, owner, deal, await factories.submit_draft(client, creator, deal, unit)
    )
    before = datetime.now(UTC)
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/publish",
        json={"live_url": "https://instagram.com/reel/min", "caption": "Gift from @acme #gifted"},
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    [row] = await db_rows(
        app,
        "SELECT published_at, paid_partnership_label FROM deal_deliverables WHERE id = :id",
        id=unit["id"],
    )
    # published_at defaults to now; the paid-partnership label to off.
    assert before <= row["published_at"] <= datetime.now(UTC)
    assert row["paid_partnership_label"] is False
    assert datetime.fromisoformat(r.json()["published_at"]) == row["published_at"]

    metrics = await _created(
        await client.post(
            f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/metrics",
            json={"reach": 1_000},
            headers=creator.headers,
        )
    )
    assert metrics["reach"] == 1_000
    assert metrics["likes"] is None
    assert metrics["source"] == "creator"


async def test_shipping_address_with_only_the_required_fields(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.put(
        "/v1/creators/me/shipping-address", json=factories.ADDRESS, headers=creator.headers
    )
    assert r.status_code == 200, r.text
    stored = (await client.get("/v1/creators/me/shipping-address", headers=creator.headers)).json()
    for address in (r.json(), stored):
        assert address["line2"] is None
        assert address["region"] is None
        assert address["phone"] is None


async def test_brief_patch_stores_the_defaults_of_a_nested_object_it_sends(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # A PATCH sends whole nested objects: their unsent fields take the documented defaults
    # (AI/likeness reuse prohibited, credit required), not a hole in the stored JSON.
    owner = await factories.brand(client)
    draft = await factories.brief(client, owner)
    r = await client.patch(
        f"/v1/briefs/{draft['id']}",
        json={"usage_rights": {"channels": ["paid_social"], "duration_days": 90}},
        headers={**owner.headers, "If-Match": f'"{draft["version"]}"'},
    )
    assert r.status_code == 200, r.text
    [row] = await db_rows(app, "SELECT usage_rights FROM briefs WHERE id = :id", id=draft["id"])
    stored = row["usage_rights"]
    assert stored["channels"] == ["paid_social"]
    assert stored["ai_likeness_reuse_prohibited"] is True
    assert stored["credit_required"] is True
    assert stored["perpetual"] is False
    assert stored["worldwide"] is True
