"""The seeding journey of issue #18 as one test: a skincare brand seeds a product to 50
creators on Instagram or TikTok (either-or), accepts them in bulk, records the shipments in
bulk, exports the shipping list as CSV and reads the report with the product's value."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor

SEEDS = 50
POST_OR_VIDEO = [
    {
        "platform": "instagram",
        "format": "post",
        "quantity": 1,
        "alternatives": [{"platform": "tiktok", "format": "short_video"}],
    }
]


async def _seeder(client: httpx.AsyncClient, n: int) -> Actor:
    platform = "instagram" if n % 2 == 0 else "tiktok"
    actor = await factories.creator(
        client,
        profile={"country": "ES", "niches": ["beauty"], "display_name": f"Seeder {n}"},
        accounts=[{"platform": platform, "handle": f"@seeder{n}"}],
    )
    r = await client.get("/v1/creators/me", headers=actor.headers)
    actor.extra["account_ids"] = [a["id"] for a in r.json()["accounts"]]
    actor.extra["platform"] = platform
    await factories.put_address(client, actor)
    return actor


async def test_seeding_fifty_creators_on_instagram_or_tiktok(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client, name="Glow Labs")
    brief = await factories.open_brief(
        client,
        brand,
        **factories.GIFTED,
        title="Serum trio seeding",
        collaboration_type="product_seeding",
        platforms=["instagram", "tiktok"],
        deliverables=POST_OR_VIDEO,
        slots=SEEDS,
        disclosure={"hashtags": ["#gifted"], "mentions": ["@glowlabs"]},
    )
    seeders = [await _seeder(client, n) for n in range(SEEDS + 1)]
    applications = []
    for n, seeder in enumerate(seeders):
        # Some TikTok creators say which option they will deliver; the rest leave it open.
        choices = (
            [{"deliverable": 0, "platform": "tiktok", "format": "short_video"}]
            if n % 4 == 1
            else []
        )
        applications.append(
            await factories.apply(client, seeder, brief, deliverable_choices=choices)
        )

    # One bulk accept for all 51: the 50 slots are honoured, the last one is told why.
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications/bulk",
        json={"action": "accept", "application_ids": [a["id"] for a in applications]},
        headers={**brand.headers, "Idempotency-Key": "seed-accept"},
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert (r.json()["succeeded"], r.json()["failed"]) == (SEEDS, 1)
    assert results[-1]["problem"]["code"] == "slots_filled"
    deals = [item["deal"] for item in results[:SEEDS]]
    # Each deal owes one post, on the platform its creator offered.
    for seeder, deal in zip(seeders, deals, strict=False):
        owed = deal["current_terms"]["deliverables"]
        assert [d["platform"] for d in owed] == [seeder.extra["platform"]]
    for seeder, deal in zip(seeders, deals, strict=False):
        await factories.accept_terms(client, seeder, deal)

    # The shipping list, as JSON and as CSV: 50 addresses.
    path = f"/v1/briefs/{brief['id']}/shipping-list"
    r = await client.get(path, params={"limit": 100}, headers=brand.headers)
    assert len(r.json()["items"]) == SEEDS
    assert all(item["address"]["city"] == "Madrid" for item in r.json()["items"])
    r = await client.get(path, params={"format": "csv"}, headers=brand.headers)
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(row["deal_id"] for row in rows) == sorted(d["id"] for d in deals)
    assert {row["product_name"] for row in rows} == {"Serum trio"}

    # The deals were made a week ago (shipments lie within a deal's timeline), and one bulk
    # request records the 50 parcels, delivered yesterday.
    await factories.db_execute(
        app,
        "UPDATE deals SET created_at = created_at - interval '7 days' WHERE brief_id = :id",
        id=brief["id"],
    )
    delivered = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    shipped = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    shipments = [
        {"deal_id": d["id"], "carrier": "DHL", "shipped_at": shipped, "delivered_at": delivered}
        for d in deals
    ]
    r = await client.post(
        f"/v1/briefs/{brief['id']}/shipments",
        json={"shipments": shipments},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["succeeded"], r.json()["failed"]) == (SEEDS, 0)

    # Two creators post (one per platform) and report their figures.
    for seeder, deal in zip(seeders[:2], deals[:2], strict=True):
        (unit,) = await factories.deliverables(client, seeder, deal)
        assert unit["draft_due_date"] is not None  # due 14 days after the delivery
        await factories.publish_unit(
            client, seeder, brand, deal, unit, caption="My routine #gifted @glowlabs"
        )
        r = await client.post(
            f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/metrics",
            json={"impressions": 20_000, "likes": 900, "comments": 100},
            headers=seeder.headers,
        )
        assert r.status_code == 201, r.text

    report_path = f"/v1/briefs/{brief['id']}/report"
    plain = (await client.get(report_path, headers=brand.headers)).json()
    assert (plain["spend_minor"], plain["gifted_value_minor"]) == (0, SEEDS * 7_500)
    r = await client.get(
        report_path, params={"include_product_value": "true"}, headers=brand.headers
    )
    report: dict[str, Any] = r.json()
    assert report["spend_basis"] == "fees_licensing_and_product_value"
    assert report["spend_minor"] == SEEDS * 7_500
    assert report["performance"]["engagements"] == 2_000
    assert report["cost_per_engagement_minor"] == "187.50"  # 375 000 / 2 000
    assert report["cpm_minor"] == "9375.00"  # 375 000 / 40 000 * 1000
    r = await client.get(report_path, params={"format": "csv"}, headers=brand.headers)
    lines = list(csv.DictReader(io.StringIO(r.text)))
    assert len(lines) == SEEDS
    assert sorted(line["platform"] for line in lines[:2]) == ["instagram", "tiktok"]
