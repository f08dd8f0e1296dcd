"""Bulk actions over one brief: many applications decided and many shipments recorded in
one request, one result per item; and the brief's shipping list."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


async def _applied(
    client: httpx.AsyncClient, brand: Actor, count: int, **brief: Any
) -> tuple[dict[str, Any], list[Actor], list[dict[str, Any]]]:
    opened = await factories.open_brief(client, brand, **brief)
    creators = [await factories.applicant(client) for _ in range(count)]
    applications = [await factories.apply(client, c, opened) for c in creators]
    return opened, creators, applications


async def _decide(
    client: httpx.AsyncClient,
    actor: Actor,
    brief: dict[str, Any],
    action: str,
    ids: list[str],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/v1/briefs/{brief['id']}/applications/bulk",
        json={"action": action, "application_ids": ids},
        headers={**actor.headers, **(headers or {})},
    )


async def test_bulk_accept_honours_the_slots_and_reports_each_item(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief, _, applications = await _applied(client, brand, 5, slots=3)
    ids = [a["id"] for a in applications]

    r = await _decide(client, brand, brief, "accept", ids)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["succeeded"], body["failed"]) == (3, 2)
    assert [item["application_id"] for item in body["results"]] == ids
    assert [item["status"] for item in body["results"]] == [201, 201, 201, 409, 409]
    for item in body["results"][:3]:
        assert item["deal"]["application_id"] == item["application_id"]
        assert item["deal"]["status"] == "pending_terms"
        assert item["problem"] is None
    for item in body["results"][3:]:
        assert item["deal"] is None
        assert item["problem"]["code"] == "slots_filled"
        assert item["problem"]["status"] == 409

    # The failed items changed nothing; the last slot closed the brief.
    rows = await factories.db_rows(
        app,
        "SELECT status FROM applications WHERE brief_id = :b ORDER BY created_at",
        b=brief["id"],
    )
    assert [r["status"] for r in rows] == ["accepted"] * 3 + ["submitted"] * 2
    r = await client.get(f"/v1/briefs/{brief['id']}", headers=brand.headers)
    assert (r.json()["status"], r.json()["closed_reason"]) == ("closed", "slots_filled")
    deals = await factories.db_rows(app, "SELECT id FROM deals WHERE brief_id = :b", b=brief["id"])
    assert len(deals) == 3


async def test_bulk_decline_and_shortlist_answer_each_item_on_its_own(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief, _, applications = await _applied(client, brand, 3)
    other_brief, _, foreign = await _applied(client, brand, 1)
    ids = [a["id"] for a in applications]

    r = await _decide(client, brand, brief, "decline", [ids[0]])
    assert r.json()["results"][0]["application"]["status"] == "declined"

    unknown = str(uuid.uuid4())
    r = await _decide(client, brand, brief, "shortlist", [*ids, unknown, foreign[0]["id"]])
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(i["status"], (i["problem"] or {}).get("code")) for i in results] == [
        (409, "invalid_state"),  # declined already
        (200, None),
        (200, None),
        (404, "not_found"),
        (404, "not_found"),  # an application of another brief
    ]
    assert [i["application"]["status"] for i in results[1:3]] == ["shortlisted"] * 2
    assert r.json()["succeeded"] == 2
    r = await client.get(f"/v1/applications/{foreign[0]['id']}", headers=brand.headers)
    assert r.json()["status"] == "submitted"
    assert other_brief["id"] != brief["id"]


@pytest.mark.parametrize(
    ("ids", "action"),
    [
        ([], "accept"),
        (["same", "same"], "accept"),
        ([str(uuid.uuid4()) for _ in range(101)], "decline"),
        (["x"], "withdraw"),
    ],
)
async def test_malformed_bulk_requests_are_422(
    client: httpx.AsyncClient, ids: list[str], action: str
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    same = str(uuid.uuid4())
    ids = [same if i == "same" else i for i in ids]
    if action == "withdraw":
        ids = [str(uuid.uuid4())]
    assert_problem(await _decide(client, brand, brief, action, ids), 422, "validation_error")


async def test_only_the_briefs_brand_acts_in_bulk(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief, creators, applications = await _applied(client, brand, 1)
    ids = [applications[0]["id"]]
    other = await factories.brand(client)
    assert_problem(await _decide(client, other, brief, "accept", ids), 404)
    assert_problem(await _decide(client, creators[0], brief, "accept", ids), 403, "brand_only")
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications/bulk",
        json={"action": "accept", "application_ids": ids},
    )
    assert_problem(r, 401)
    token = await factories.api_token(client, brand, ["applications:read"])
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications/bulk",
        json={"action": "accept", "application_ids": ids},
        headers=factories.bearer(token["token"]),
    )
    assert_problem(r, 403, "insufficient_scope")


async def test_a_bulk_accept_retried_with_its_idempotency_key_is_replayed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief, _, applications = await _applied(client, brand, 2)
    ids = [a["id"] for a in applications]
    key = {"Idempotency-Key": "bulk-accept-1"}
    first = await _decide(client, brand, brief, "accept", ids, key)
    assert first.status_code == 200, first.text
    again = await _decide(client, brand, brief, "accept", ids, key)
    assert again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    deals = await factories.db_rows(app, "SELECT id FROM deals WHERE brief_id = :b", b=brief["id"])
    assert len(deals) == 2
    # The same key with another body is refused.
    r = await _decide(client, brand, brief, "decline", ids, key)
    assert_problem(r, 422, "idempotency_key_reused")


# --- shipments and the shipping list ---------------------------------------------------------


async def _gifting(
    client: httpx.AsyncClient, brand: Actor, count: int
) -> tuple[dict[str, Any], list[Actor], list[dict[str, Any]]]:
    brief = await factories.open_brief(client, brand, **factories.GIFTED)
    creators = [await factories.applicant(client) for _ in range(count)]
    deals = []
    for creator in creators:
        await factories.put_address(client, creator)
        deals.append(await factories.deal(client, brand, brief, creator))
    return brief, creators, deals


async def test_bulk_shipments_record_each_deal_and_refuse_those_not_ready(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief, creators, deals = await _gifting(client, brand, 3)
    for creator, deal in zip(creators[:2], deals[:2], strict=True):
        await factories.accept_terms(client, creator, deal)
    _, other_creators, other_deals = await _gifting(client, brand, 1)
    await factories.accept_terms(client, other_creators[0], other_deals[0])

    items = [
        {"deal_id": deals[0]["id"], "carrier": "DHL", "tracking_number": "JD01"},
        {"deal_id": deals[1]["id"], "carrier": "UPS"},
        {"deal_id": deals[2]["id"], "carrier": "DHL"},  # terms not accepted yet
        {"deal_id": other_deals[0]["id"], "carrier": "DHL"},  # another brief's deal
    ]
    r = await client.post(
        f"/v1/briefs/{brief['id']}/shipments", json={"shipments": items}, headers=brand.headers
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(i["status"], (i["problem"] or {}).get("code")) for i in results] == [
        (201, None),
        (201, None),
        (409, "deal_not_active"),
        (404, "not_found"),
    ]
    assert results[0]["shipment"]["tracking_number"] == "JD01"
    assert results[0]["shipment"]["deal_id"] == deals[0]["id"]
    r = await client.get(f"/v1/deals/{other_deals[0]['id']}/shipments", headers=brand.headers)
    assert r.json()["items"] == []


async def test_bulk_shipments_belong_to_the_briefs_brand(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief, creators, deals = await _gifting(client, brand, 1)
    await factories.accept_terms(client, creators[0], deals[0])
    body = {"shipments": [{"deal_id": deals[0]["id"], "carrier": "DHL"}]}
    other = await factories.brand(client)
    path = f"/v1/briefs/{brief['id']}/shipments"
    assert_problem(await client.post(path, json=body, headers=other.headers), 404)
    assert_problem(await client.post(path, json=body, headers=creators[0].headers), 403)
    r = await client.post(path, json={"shipments": []}, headers=brand.headers)
    assert_problem(r, 422, "validation_error")


async def test_shipping_list_shows_the_active_gifting_deals_with_addresses(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief, creators, deals = await _gifting(client, brand, 3)
    no_address = await factories.applicant(client)
    late = await factories.deal(client, brand, brief, no_address)
    for creator, deal in [*zip(creators[:2], deals[:2], strict=True), (no_address, late)]:
        await factories.accept_terms(client, creator, deal)
    # deals[2] is still pending the creator: its address stays private.
    r = await client.post(
        f"/v1/deals/{deals[0]['id']}/shipments", json={"carrier": "DHL"}, headers=brand.headers
    )
    assert r.status_code == 201, r.text

    r = await client.get(f"/v1/briefs/{brief['id']}/shipping-list", headers=brand.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["deal_id"] for i in items] == [deals[0]["id"], deals[1]["id"], late["id"]]
    assert items[0]["address"]["city"] == factories.ADDRESS["city"]
    assert items[0]["gifted_product"]["name"] == factories.GIFTED["gifted_product"]["name"]
    assert (items[0]["shipments"], items[1]["shipments"]) == (1, 0)
    assert items[2]["address"] is None
    assert items[0]["creator_id"] == str(creators[0].creator_id)

    page = await client.get(
        f"/v1/briefs/{brief['id']}/shipping-list", params={"limit": 2}, headers=brand.headers
    )
    assert len(page.json()["items"]) == 2
    rest = await client.get(
        f"/v1/briefs/{brief['id']}/shipping-list",
        params={"cursor": page.json()["next_cursor"]},
        headers=brand.headers,
    )
    assert [i["deal_id"] for i in rest.json()["items"]] == [late["id"]]

    other = await factories.brand(client)
    r = await client.get(f"/v1/briefs/{brief['id']}/shipping-list", headers=other.headers)
    assert_problem(r, 404)
    r = await client.get(f"/v1/briefs/{brief['id']}/shipping-list", headers=creators[0].headers)
    assert_problem(r, 403)


@pytest.mark.parametrize("flag", [0, 1, "true"])
async def test_allow_over_budget_takes_a_json_boolean_only(
    client: httpx.AsyncClient, flag: object
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications/bulk",
        json={
            "action": "accept",
            "application_ids": [str(uuid.uuid4())],
            "allow_over_budget": flag,
        },
        headers=brand.headers,
    )
    assert_problem(r, 422, "validation_error")
    assert r.json()["errors"][0]["loc"] == ["body", "allow_over_budget"]


def test_the_schema_says_each_application_id_once(app: FastAPI) -> None:
    schema = app.openapi()["components"]["schemas"]["BulkApplicationDecision"]
    assert schema["properties"]["application_ids"]["uniqueItems"] is True
