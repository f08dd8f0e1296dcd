"""The campaign report of a brief: counts, spend and performance, with its formulas."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


async def _metrics(
    client: httpx.AsyncClient,
    actor: Actor,
    deal: dict[str, Any],
    unit: dict[str, Any],
    **figures: int,
) -> None:
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/metrics",
        json=figures,
        headers=actor.headers,
    )
    assert r.status_code == 201, r.text


async def _report(client: httpx.AsyncClient, brand: Actor, brief: dict[str, Any]) -> dict[str, Any]:
    r = await client.get(f"/v1/briefs/{brief['id']}/report", headers=brand.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_the_report_sums_spend_and_the_newest_metrics(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=5)
    empty = await _report(client, brand, brief)
    assert (empty["creators"], empty["spend_minor"], empty["engagement_rate"]) == (0, 0, None)
    assert (empty["cost_per_engagement_minor"], empty["cpm_minor"]) == (None, None)

    ana, ben, cy = [await factories.applicant(client) for _ in range(3)]
    deal_a = await factories.active_deal(client, brand, brief, ana)  # fee 30 000
    deal_b = await factories.active_deal(client, brand, brief, ben)
    deal_c = await factories.deal(client, brand, brief, cy)
    r = await client.post(
        f"/v1/deals/{deal_c['id']}/cancel", json={"reason": "no reply"}, headers=brand.headers
    )
    assert r.status_code == 200

    (unit_a,) = await factories.deliverables(client, ana, deal_a)
    await factories.publish_unit(client, ana, brand, deal_a, unit_a)
    # An older reading is replaced by the newer one.
    await _metrics(client, ana, deal_a, unit_a, reach=1, impressions=1, likes=1)
    await _metrics(
        client,
        brand,
        deal_a,
        unit_a,
        reach=8_000,
        impressions=10_000,
        likes=400,
        comments=50,
        shares=30,
        saves=20,
        clicks=90,
    )
    (unit_b,) = await factories.deliverables(client, ben, deal_b)
    late = date(2020, 1, 1)
    await factories.db_execute(
        app, "UPDATE deal_deliverables SET due_date = :d WHERE id = :id", d=late, id=unit_b["id"]
    )
    await factories.publish_unit(client, ben, brand, deal_b, unit_b)
    await _metrics(
        client, ben, deal_b, unit_b, reach=2_000, impressions=5_000, likes=300, conversions=4
    )
    r = await client.post(f"/v1/deals/{deal_a['id']}/mark-paid", headers=brand.headers)
    assert r.json()["status"] == "completed"

    report = await _report(client, brand, brief)
    assert report["currency"] == "EUR"
    assert report["creators"] == 2
    assert report["deals_by_status"] == {
        "pending_terms": 0,
        "active": 1,
        "completed": 1,
        "cancelled": 1,
    }
    assert (report["deliverables"], report["deliverables_published"]) == (2, 2)
    assert (report["deliverables_on_time"], report["deliverables_late"]) == (1, 1)
    assert (report["spend_minor"], report["paid_minor"]) == (60_000, 30_000)
    assert report["performance"] == {
        "reach": 10_000,
        "impressions": 15_000,
        "likes": 700,
        "comments": 50,
        "shares": 30,
        "saves": 20,
        "clicks": 90,
        "conversions": 4,
        "engagements": 800,
    }
    # 800 / 15 000; 60 000 / 800; 60 000 / 15 000 * 1000.
    assert report["engagement_rate"] == round(800 / 15_000, 6)
    assert report["engagement_rate_basis"] == "impressions"
    assert report["cost_per_engagement_minor"] == "75.00"
    assert report["cpm_minor"] == "4000.00"
    rows = {row["deal_id"]: row for row in report["rows"]}
    assert rows[deal_c["id"]]["deal_status"] == "cancelled"
    assert rows[deal_a["id"]]["performance"]["engagements"] == 500
    assert (rows[deal_b["id"]]["on_time"], rows[deal_b["id"]]["published"]) == (0, 1)


async def test_reach_stands_in_when_no_impressions_were_recorded(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **factories.GIFTED)
    creator = await factories.applicant(client)
    deal = await factories.active_deal(client, brand, brief, creator)
    (unit,) = await factories.deliverables(client, creator, deal)
    await factories.publish_unit(client, creator, brand, deal, unit, caption="#gifted")
    await _metrics(client, creator, deal, unit, reach=4_000, likes=150, comments=50)
    report = await _report(client, brand, brief)
    assert (report["engagement_rate"], report["engagement_rate_basis"]) == (0.05, "reach")
    assert report["spend_minor"] == 0
    assert report["gifted_value_minor"] == 7_500
    assert (report["cost_per_engagement_minor"], report["cpm_minor"]) == ("0.00", None)


async def test_only_the_owning_brand_reads_the_report(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    await factories.active_deal(client, brand, brief, creator)
    path = f"/v1/briefs/{brief['id']}/report"
    assert_problem(await client.get(path), 401, "not_authenticated")
    assert_problem(await client.get(path, headers=creator.headers), 403, "brand_only")
    rival = await factories.brand(client, name="Rival")
    assert_problem(await client.get(path, headers=rival.headers), 404, "not_found")
    draft = await factories.brief(client, rival)
    r = await client.get(f"/v1/briefs/{draft['id']}/report", headers=brand.headers)
    assert_problem(r, 404, "not_found")
    r = await client.get("/v1/briefs/not-a-brief/report", headers=brand.headers)
    assert_problem(r, 422, "validation_error")
    token = await factories.api_token(client, brand, ["briefs:read"])
    r = await client.get(path, headers=factories.bearer(token["token"]))
    assert_problem(r, 403, "insufficient_scope")
