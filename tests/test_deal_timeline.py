"""Dates and times of a deal's work lie within the deal's own timeline (issue #13, item 17)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import GIFTED, Actor, assert_problem

TODAY = datetime.now(UTC).date()


async def _gifted_active(client: httpx.AsyncClient) -> tuple[Actor, Actor, dict[str, Any]]:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    await factories.put_address(client, creator)
    opened = await factories.open_brief(client, brand, **GIFTED)
    return brand, creator, await factories.active_deal(client, brand, opened, creator)


def _loc_types(problem: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return [(e["loc"], e["type"]) for e in problem["errors"]]


# --- shipments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            {"shipped_at": "2001-01-02T00:00:00Z", "delivered_at": "2001-01-03T00:00:00Z"},
            "shipped_at",
            id="both-before-the-deal",
        ),
        pytest.param({"shipped_at": "2020-06-01T00:00:00Z"}, "shipped_at", id="shipped-before"),
    ],
)
async def test_a_shipment_before_the_deal_existed_is_422(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    brand, _, deal = await _gifted_active(client)
    path = f"/v1/deals/{deal['id']}/shipments"
    r = await client.post(path, json={"carrier": "DHL", **body}, headers=brand.headers)
    problem = assert_problem(r, 422, "validation_error")
    assert (["body", field], "before_deal") in _loc_types(problem)
    r = await client.get(path, headers=brand.headers)
    assert r.json()["items"] == []


async def test_a_shipment_patched_to_before_the_deal_is_422(client: httpx.AsyncClient) -> None:
    brand, creator, deal = await _gifted_active(client)
    path = f"/v1/deals/{deal['id']}/shipments"
    r = await client.post(path, json={"carrier": "DHL"}, headers=brand.headers)
    assert r.status_code == 201, r.text
    shipment = f"{path}/{r.json()['id']}"
    r = await client.patch(
        shipment,
        json={"shipped_at": "2001-01-02T00:00:00Z", "delivered_at": "2001-01-03T00:00:00Z"},
        headers=brand.headers,
    )
    problem = assert_problem(r, 422, "validation_error")
    assert (["body", "shipped_at"], "before_deal") in _loc_types(problem)
    # Nothing fell due from a delivery that never happened.
    unit = (await factories.deliverables(client, creator, deal))[0]
    assert unit["draft_due_date"] is None


async def test_a_delivery_before_its_shipment_is_422(client: httpx.AsyncClient) -> None:
    brand, _, deal = await _gifted_active(client)
    now = datetime.now(UTC)
    r = await client.post(
        f"/v1/deals/{deal['id']}/shipments",
        json={
            "carrier": "DHL",
            "shipped_at": now.isoformat(),
            "delivered_at": (now - timedelta(minutes=1)).isoformat(),
        },
        headers=brand.headers,
    )
    problem = assert_problem(r, 422, "validation_error")
    assert (["body", "delivered_at"], "range") in _loc_types(problem)


async def test_a_shipment_within_the_deal_is_kept(client: httpx.AsyncClient) -> None:
    brand, _, deal = await _gifted_active(client)
    now = datetime.now(UTC)
    r = await client.post(
        f"/v1/deals/{deal['id']}/shipments",
        json={"carrier": "DHL", "shipped_at": now.isoformat(), "delivered_at": now.isoformat()},
        headers=brand.headers,
    )
    assert r.status_code == 201, r.text


# --- terms ----------------------------------------------------------------------------------


async def _propose(
    client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any], body: dict[str, Any]
) -> httpx.Response:
    r = await client.get(f"/v1/deals/{deal['id']}", headers=actor.headers)
    return await client.post(
        f"/v1/deals/{deal['id']}/terms",
        json=body,
        headers={**actor.headers, "If-Match": r.headers["etag"]},
    )


async def _paid_deal(client: httpx.AsyncClient) -> tuple[Actor, Actor, dict[str, Any]]:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    opened = await factories.open_brief(client, brand)
    return brand, creator, await factories.deal(client, brand, opened, creator)


def _deliverables(due: date) -> list[dict[str, Any]]:
    return [{"platform": "instagram", "format": "reel", "quantity": 1, "due_date": due.isoformat()}]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"publish_start_date": "2001-01-01"}, ["publish_start_date"], id="publish"),
        pytest.param(
            {"deliverables": _deliverables(date(2001, 1, 1))},
            ["deliverables", 0, "due_date"],
            id="due-date",
        ),
        pytest.param(
            {
                "usage_rights": {
                    "channels": ["organic_social", "paid_social"],
                    "duration_days": 365,
                    "ad_permission": "partnership_ads",
                    "ad_start_date": (TODAY - timedelta(days=3)).isoformat(),
                }
            },
            ["usage_rights", "ad_start_date"],
            id="ad-window",
        ),
    ],
)
async def test_terms_dates_before_the_deal_was_made_are_422(
    client: httpx.AsyncClient, body: dict[str, Any], loc: list[Any]
) -> None:
    _, creator, deal = await _paid_deal(client)
    r = await _propose(client, creator, deal, body)
    problem = factories.problem_of(r, 422, "terms_invalid")
    assert (["body", *loc], "before_deal") in _loc_types(problem)


async def test_terms_dates_from_the_deals_first_day_on_are_kept(
    client: httpx.AsyncClient,
) -> None:
    _, creator, deal = await _paid_deal(client)
    r = await _propose(
        client,
        creator,
        deal,
        {"publish_start_date": TODAY.isoformat(), "deliverables": _deliverables(TODAY)},
    )
    assert r.status_code == 201, r.text


async def test_a_past_date_carried_over_from_the_current_terms_does_not_block_a_proposal(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, creator, deal = await _paid_deal(client)
    # The brief's publish date passed before the brand accepted (brands accept late).
    await factories.db_execute(
        app,
        "UPDATE deal_terms SET publish_start_date = :d,"
        " deliverables = jsonb_set(deliverables, '{0,due_date}', to_jsonb(CAST(:s AS text)))"
        " WHERE deal_id = :id",
        d=TODAY - timedelta(days=5),
        s=(TODAY - timedelta(days=5)).isoformat(),
        id=deal["id"],
    )
    r = await client.get(f"/v1/deals/{deal['id']}", headers=creator.headers)
    carried = r.json()["current_terms"]["deliverables"]
    r = await _propose(client, creator, deal, {"fee_minor": 31_000, "deliverables": carried})
    assert r.status_code == 201, r.text
