"""Gifting logistics: the creator's private address, shipments, and drafts due after
delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


async def _gifted(
    client: httpx.AsyncClient, *, address: bool = True, **brief: Any
) -> tuple[Actor, Actor, dict[str, Any]]:
    """A gifted brief's deal, still pending the creator's acceptance."""
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    if address:
        await factories.put_address(client, creator)
    opened = await factories.open_brief(client, brand, **{**factories.GIFTED, **brief})
    return brand, creator, await factories.deal(client, brand, opened, creator)


def _at(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


async def _made_a_week_ago(app: FastAPI, deal: dict[str, Any]) -> None:
    """Shipments lie within the deal's timeline: give it a past to ship in."""
    await factories.db_execute(
        app,
        "UPDATE deals SET created_at = created_at - interval '7 days' WHERE id = :id",
        id=deal["id"],
    )


async def test_the_address_goes_to_the_brand_of_an_active_deal_only(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, deal = await _gifted(client)
    path = f"/v1/deals/{deal['id']}/shipping-address"

    # Before the creator accepted the terms: not yet.
    assert_problem(await client.get(path, headers=brand.headers), 409, "deal_not_active")
    await factories.accept_terms(client, creator, deal)
    r = await client.get(path, headers=brand.headers)
    assert r.status_code == 200, r.text
    assert r.json()["line1"] == factories.ADDRESS["line1"]
    assert r.json()["postal_code"] == factories.ADDRESS["postal_code"]

    # Never to anyone else: not the creator through this route, not another brand or
    # creator, not an admin, not a token without the deals:read scope.
    assert_problem(await client.get(path, headers=creator.headers), 403, "brand_only")
    rival = await factories.brand(client, name="Rival")
    assert_problem(await client.get(path, headers=rival.headers), 404, "not_found")
    stranger = await factories.applicant(client)
    assert_problem(await client.get(path, headers=stranger.headers), 403, "brand_only")
    admin = await factories.admin(client, app)
    assert_problem(await client.get(path, headers=admin.headers), 403, "brand_only")
    token = await factories.api_token(client, brand, ["briefs:read"])
    r = await client.get(path, headers=factories.bearer(token["token"]))
    assert_problem(r, 403, "insufficient_scope")
    assert_problem(await client.get(path), 401, "not_authenticated")

    # Not after cancellation.
    r = await client.post(
        f"/v1/deals/{deal['id']}/cancel", json={"reason": "out of stock"}, headers=creator.headers
    )
    assert r.status_code == 200
    assert_problem(await client.get(path, headers=brand.headers), 409, "deal_not_active")


async def test_no_address_for_deals_that_send_nothing(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    await factories.put_address(client, creator)
    paid = await factories.active_deal(
        client, brand, await factories.open_brief(client, brand), creator
    )
    r = await client.get(f"/v1/deals/{paid['id']}/shipping-address", headers=brand.headers)
    assert_problem(r, 409, "nothing_to_ship")
    r = await client.post(
        f"/v1/deals/{paid['id']}/shipments", json={"carrier": "DHL"}, headers=brand.headers
    )
    assert_problem(r, 409, "nothing_to_ship")

    brand2, creator2, gifted = await _gifted(client, address=False)
    await factories.accept_terms(client, creator2, gifted)
    r = await client.get(f"/v1/deals/{gifted['id']}/shipping-address", headers=brand2.headers)
    assert_problem(r, 404, "no_shipping_address")


async def test_delivery_sets_the_draft_due_date(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand, creator, deal = await _gifted(client)
    await _made_a_week_ago(app, deal)
    path = f"/v1/deals/{deal['id']}/shipments"
    r = await client.post(path, json={"carrier": "DHL"}, headers=brand.headers)
    assert_problem(r, 409, "deal_not_active")
    deal = await factories.accept_terms(client, creator, deal)
    unit = (await factories.deliverables(client, creator, deal))[0]
    assert (unit["due_date"], unit["due_days_after_delivery"], unit["draft_due_date"]) == (
        None,
        14,
        None,
    )

    r = await client.post(
        path,
        json={"carrier": "DHL", "tracking_number": "JD0146", "shipped_at": _at(3)},
        headers=brand.headers,
    )
    assert r.status_code == 201, r.text
    shipment = r.json()
    assert (shipment["carrier"], shipment["delivered_at"]) == ("DHL", None)

    delivered = datetime.now(UTC) - timedelta(days=1)
    r = await client.patch(
        f"{path}/{shipment['id']}",
        json={"delivered_at": delivered.isoformat()},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["tracking_number"] == "JD0146"
    unit = (await factories.deliverables(client, creator, deal))[0]
    assert unit["draft_due_date"] == (delivered.date() + timedelta(days=14)).isoformat()

    # The creator follows the parcel.
    r = await client.get(path, headers=creator.headers)
    assert [s["tracking_number"] for s in r.json()["items"]] == ["JD0146"]
    events = await factories.deal_events(app, deal["id"], "shipment.updated")
    assert events[0]["creator_id"] is not None

    # A draft after its due date is marked late; so is the post.
    past = datetime.now(UTC).date() - timedelta(days=1)
    await factories.db_execute(
        app,
        "UPDATE deal_deliverables SET draft_due_date = :d WHERE id = :id",
        d=past,
        id=unit["id"],
    )
    unit = await factories.submit_draft(client, creator, deal, unit)
    assert unit["submissions"][0]["late"] is True
    unit = await factories.approve_draft(client, brand, deal, unit)
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/publish",
        json=factories.publish_body(caption="Thanks #gifted"),
        headers=creator.headers,
    )
    assert r.json()["late"] is True
    r = await client.get(f"/v1/deals/{deal['id']}", headers=creator.headers)
    assert r.json()["status"] == "completed"  # gifted: nothing to pay


async def test_shipment_times_are_checked(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand, creator, deal = await _gifted(client)
    await _made_a_week_ago(app, deal)
    await factories.accept_terms(client, creator, deal)
    path = f"/v1/deals/{deal['id']}/shipments"
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for body, field in (
        ({"carrier": "DHL", "delivered_at": _at(1)}, "shipped_at"),
        ({"carrier": "DHL", "shipped_at": _at(1), "delivered_at": _at(2)}, "delivered_at"),
        ({"carrier": "DHL", "shipped_at": future}, "shipped_at"),
    ):
        problem = assert_problem(await client.post(path, json=body, headers=brand.headers), 422)
        assert factories.error_fields(problem) == {field}
    for body in (
        {},
        {"carrier": ""},
        {"carrier": "DHL", "tracking_number": "<script>"},
        {"carrier": "DHL", "shipped_at": "yesterday"},
        {"carrier": "DHL", "cost": 5},
    ):
        r = await client.post(path, json=body, headers=brand.headers)
        assert_problem(r, 422, "validation_error")

    r = await client.post(
        path, json={"carrier": "DHL", "shipped_at": _at(2)}, headers=brand.headers
    )
    shipment = f"{path}/{r.json()['id']}"
    r = await client.patch(shipment, json={"delivered_at": _at(3)}, headers=brand.headers)
    assert_problem(r, 422, "validation_error")
    r = await client.patch(shipment, json={"carrier": None}, headers=brand.headers)
    assert_problem(r, 422, "validation_error")
    r = await client.patch(shipment, json={"carrier": "UPS"}, headers=creator.headers)
    assert_problem(r, 403, "brand_only")
    unknown = f"{path}/00000000-0000-4000-8000-000000000000"
    r = await client.patch(unknown, json={"carrier": "UPS"}, headers=brand.headers)
    assert_problem(r, 404, "not_found")
    # Another deal's shipment is not reachable through this one.
    brand2, creator2, other = await _gifted(client)
    await factories.accept_terms(client, creator2, other)
    r = await client.patch(
        f"/v1/deals/{other['id']}/shipments/{shipment.rsplit('/', 1)[1]}",
        json={"carrier": "UPS"},
        headers=brand2.headers,
    )
    assert_problem(r, 404, "not_found")


async def test_gifted_deal_without_required_posting_completes_on_delivery(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, deal = await _gifted(client, posting_required=False)
    await _made_a_week_ago(app, deal)
    deal = await factories.accept_terms(client, creator, deal)
    unit = (await factories.deliverables(client, creator, deal))[0]
    assert unit["optional"] is True
    r = await client.post(
        f"/v1/deals/{deal['id']}/shipments",
        json={"carrier": "DHL", "shipped_at": _at(2), "delivered_at": _at(1)},
        headers=brand.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.get(f"/v1/deals/{deal['id']}", headers=brand.headers)
    assert r.json()["status"] == "completed"
    assert len(await factories.deal_events(app, deal["id"], "deal.completed")) == 1
    # The post is welcome still: optional deliverables may follow the completed deal.
    published = await factories.publish_unit(
        client, creator, brand, deal, unit, caption="Loving it #gifted"
    )
    assert published["status"] == "published"
    # But a completed deal's address is private again.
    r = await client.get(f"/v1/deals/{deal['id']}/shipping-address", headers=brand.headers)
    assert_problem(r, 409, "deal_not_active")
