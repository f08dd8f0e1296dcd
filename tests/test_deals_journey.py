"""Two campaigns end to end through the API, from publishing the brief to its report: a
gifted product-seeding brief with many slots, and a paid sponsored-post brief."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from api import maintenance
from api.settings import get_settings
from tests import factories
from tests.factories import Actor, assert_problem


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def _post(
    client: httpx.AsyncClient, actor: Actor, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    r = await client.post(path, json=body if body is not None else {}, headers=actor.headers)
    assert r.status_code in (200, 201), r.text
    answer: dict[str, Any] = r.json()
    return answer


async def _report(client: httpx.AsyncClient, brand: Actor, brief: dict[str, Any]) -> dict[str, Any]:
    r = await client.get(f"/v1/briefs/{brief['id']}/report", headers=brand.headers)
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


async def test_seeding_and_sponsored_campaigns_from_publish_to_report(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client, name="Glow Labs")

    # --- a product-seeding brief: gifted, 50 slots, a story each, posting required -------------
    seeding = await factories.open_brief(
        client,
        brand,
        **factories.SEEDING,
        title="Serum trio seeding",
        deliverables=[{"platform": "instagram", "format": "story", "quantity": 1}],
        disclosure={"hashtags": ["#gifted"], "mentions": ["@glowlabs"]},
    )
    assert (seeding["slots"], seeding["collaboration_type"]) == (50, "product_seeding")
    assert seeding["usage_rights"]["channels"] == ["organic_social"]  # the gifted default

    seeders = [await factories.applicant(client) for _ in range(6)]
    deals = []
    for seeder in seeders:
        await factories.put_address(client, seeder)
        deals.append(await factories.deal(client, brand, seeding, seeder))
    # One creator backs out before agreeing; the others accept the brand's terms.
    await _post(client, seeders[5], f"/v1/deals/{deals[5]['id']}/cancel", {"reason": "Moving."})
    r = await client.get(f"/v1/deals/{deals[5]['id']}/shipping-address", headers=brand.headers)
    assert_problem(r, 409, "deal_not_active")
    for i in range(5):
        deals[i] = await factories.accept_terms(client, seeders[i], deals[i])
        assert deals[i]["status"] == "active"

    # The deals were made a week ago: parcels are shipped within a deal's timeline.
    await factories.db_execute(
        app,
        "UPDATE deals SET created_at = created_at - interval '7 days' WHERE brief_id = :id",
        id=seeding["id"],
    )
    units = []
    for i in range(5):
        deal_path = f"/v1/deals/{deals[i]['id']}"
        r = await client.get(f"{deal_path}/shipping-address", headers=brand.headers)
        assert r.json()["city"] == "Madrid"
        shipment = await _post(
            client, brand, f"{deal_path}/shipments", {"carrier": "DHL", "shipped_at": _ago(3)}
        )
        r = await client.patch(
            f"{deal_path}/shipments/{shipment['id']}",
            json={"delivered_at": _ago(1)},
            headers=brand.headers,
        )
        assert r.status_code == 200, r.text
        (unit,) = await factories.deliverables(client, seeders[i], deals[i])
        assert unit["draft_due_date"] is not None  # delivery + 14 days
        # Creator 0 forgets to tag the brand; the check shows it at review.
        caption = "My glow routine #gifted" + ("" if i == 0 else " @glowlabs")
        units.append(
            await factories.submit_draft(client, seeders[i], deals[i], unit, caption=caption)
        )
    assert units[0]["submissions"][0]["disclosure_check"]["missing_mentions"] == ["@glowlabs"]
    assert units[1]["submissions"][0]["disclosure_check"]["compliant"] is True

    # Creator 0 is asked for changes once; creator 1's draft waits past the review window and
    # the timer approves it; the rest are approved by the brand.
    base = f"/v1/deals/{deals[0]['id']}/deliverables/{units[0]['id']}"
    units[0] = await _post(
        client,
        brand,
        f"{base}/submissions/{units[0]['submissions'][0]['id']}/request-changes",
        {"comments": ["Tag us, please."]},
    )
    units[0] = await factories.submit_draft(
        client, seeders[0], deals[0], units[0], caption="Glow #gifted @glowlabs"
    )
    units[0] = await factories.approve_draft(client, brand, deals[0], units[0])
    await factories.db_execute(
        app,
        "UPDATE deliverable_submissions SET submitted_at = now() - interval '4 days'"
        " WHERE deliverable_id = :id",
        id=units[1]["id"],
    )
    await maintenance.run_once(app.state.sessionmaker, get_settings())
    for i in (2, 3, 4):
        units[i] = await factories.approve_draft(client, brand, deals[i], units[i])
    r = await client.get(
        f"/v1/deals/{deals[1]['id']}/deliverables/{units[1]['id']}", headers=seeders[1].headers
    )
    assert r.json()["status"] == "approved"
    assert r.json()["submissions"][0]["auto_approved"] is True

    # Creator 3 posts after the draft was due; creator 4 forgets the mention.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    await factories.db_execute(
        app,
        "UPDATE deal_deliverables SET draft_due_date = :d WHERE id = :id",
        d=yesterday,
        id=units[3]["id"],
    )
    for i in range(5):
        caption = "Obsessed #gifted" if i == 4 else "Obsessed with @glowlabs #gifted"
        published = await _post(
            client,
            seeders[i],
            f"/v1/deals/{deals[i]['id']}/deliverables/{units[i]['id']}/publish",
            factories.publish_body(caption=caption, paid_partnership_label=False),
        )
        assert published["late"] is (i == 3)
        assert published["disclosure_check"]["compliant"] is (i != 4)
        await _post(
            client,
            seeders[i],
            f"/v1/deals/{deals[i]['id']}/deliverables/{units[i]['id']}/metrics",
            {
                "reach": 1_000,
                "impressions": 2_000,
                "likes": 100,
                "comments": 10,
                "shares": 5,
                "saves": 5,
            },
        )
        r = await client.get(f"/v1/deals/{deals[i]['id']}", headers=brand.headers)
        assert r.json()["status"] == "completed"  # gifted: published is done
    # Completed: the address is private again.
    r = await client.get(f"/v1/deals/{deals[0]['id']}/shipping-address", headers=brand.headers)
    assert_problem(r, 409, "deal_not_active")

    seeding_report = await _report(client, brand, seeding)
    assert seeding_report["creators"] == 5
    assert seeding_report["deals_by_status"]["completed"] == 5
    assert seeding_report["deals_by_status"]["cancelled"] == 1
    assert (seeding_report["deliverables"], seeding_report["deliverables_published"]) == (5, 5)
    assert (seeding_report["deliverables_on_time"], seeding_report["deliverables_late"]) == (4, 1)
    assert (seeding_report["spend_minor"], seeding_report["gifted_value_minor"]) == (0, 37_500)
    assert seeding_report["performance"]["engagements"] == 600
    assert seeding_report["engagement_rate"] == 0.06
    assert (seeding_report["cost_per_engagement_minor"], seeding_report["cpm_minor"]) == (
        "0.00",
        "0.00",
    )

    # --- a paid sponsored-post brief: two slots, a reel and a story each --------------------
    sponsored = await factories.open_brief(
        client,
        brand,
        slots=2,
        deliverables=[
            {"platform": "instagram", "format": "reel", "quantity": 1},
            {"platform": "instagram", "format": "story", "quantity": 1},
        ],
        disclosure={"hashtags": ["#ad"], "mentions": ["@glowlabs"], "paid_partnership_label": True},
    )
    ana, ben = await factories.applicant(client), await factories.applicant(client)
    ana_deal = await factories.deal(client, brand, sponsored, ana)
    ben_deal = await factories.deal(client, brand, sponsored, ben)
    r = await client.get(f"/v1/briefs/{sponsored['id']}", headers=brand.headers)
    assert (r.json()["status"], r.json()["closed_reason"]) == ("closed", "slots_filled")

    # Ana negotiates: a higher fee and paid partnership ads, licensed for a fee.
    r = await client.get(f"/v1/deals/{ana_deal['id']}", headers=ana.headers)
    stale = r.headers["etag"]
    counter = {
        "fee_minor": 45_000,
        "usage_rights": {
            "channels": ["organic_social", "website", "email", "paid_social"],
            "duration_days": 365,
            "ad_permission": "partnership_ads",
            "licensing_fee_minor": 5_000,
        },
    }
    r = await client.post(
        f"/v1/deals/{ana_deal['id']}/terms",
        json=counter,
        headers={**ana.headers, "If-Match": stale},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/deals/{ana_deal['id']}/terms",
        json={"fee_minor": 40_000},
        headers={**brand.headers, "If-Match": stale},
    )
    assert_problem(r, 412, "precondition_failed")
    r = await client.post(f"/v1/deals/{ana_deal['id']}/terms/2/accept", headers=ana.headers)
    assert_problem(r, 403, "own_proposal")
    ana_deal = await factories.accept_terms(client, brand, ana_deal, version=2)
    ben_deal = await factories.accept_terms(client, ben, ben_deal)

    figures = {
        ana.email: [
            {
                "reach": 10_000,
                "impressions": 20_000,
                "likes": 900,
                "comments": 60,
                "shares": 20,
                "saves": 20,
            },
            {"reach": 5_000, "impressions": 5_000, "likes": 200},
        ],
        ben.email: [
            {
                "reach": 8_000,
                "impressions": 15_000,
                "likes": 500,
                "comments": 50,
                "shares": 25,
                "saves": 25,
            },
            {"reach": 2_000, "likes": 200},
        ],
    }
    for creator, deal in ((ana, ana_deal), (ben, ben_deal)):
        for unit, numbers in zip(
            await factories.deliverables(client, creator, deal), figures[creator.email], strict=True
        ):
            published = await factories.publish_unit(
                client, creator, brand, deal, unit, caption="Day 1 with @glowlabs #ad"
            )
            assert published["disclosure_check"]["compliant"] is True
            await _post(
                client,
                brand,
                f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/metrics",
                numbers,
            )
        r = await client.get(f"/v1/deals/{deal['id']}", headers=creator.headers)
        assert r.json()["status"] == "active"  # published, not yet paid
        paid = await _post(client, brand, f"/v1/deals/{deal['id']}/mark-paid")
        assert paid["status"] == "completed"

    r = await client.get(f"/v1/deals/{ana_deal['id']}/usage-rights", headers=brand.headers)
    rights = r.json()
    assert (rights["status"], rights["terms_version"], rights["paid_ads_allowed"]) == (
        "in_force",
        2,
        True,
    )
    r = await client.get(f"/v1/deals/{ben_deal['id']}/usage-rights", headers=brand.headers)
    assert r.json()["paid_ads_allowed"] is False

    report = await _report(client, brand, sponsored)
    assert (report["creators"], report["deliverables_published"]) == (2, 4)
    assert report["deliverables_on_time"] == 4
    assert (report["spend_minor"], report["paid_minor"]) == (80_000, 80_000)
    performance = report["performance"]
    assert (performance["reach"], performance["impressions"]) == (25_000, 40_000)
    assert performance["engagements"] == 2_000
    assert report["engagement_rate"] == 0.05
    assert (report["cost_per_engagement_minor"], report["cpm_minor"]) == ("40.00", "2000.00")
    assert {row["spend_minor"] for row in report["rows"]} == {50_000, 30_000}

    r = await client.post(f"/v1/briefs/{sponsored['id']}/complete", headers=brand.headers)
    assert r.json()["status"] == "completed"
    # Every step left its event for both parties.
    for event_type in ("deal.terms_accepted", "deliverable.published", "deal.completed"):
        events = await factories.deal_events(app, ana_deal["id"], event_type)
        assert events, event_type
        assert all(e["brand_id"] and e["creator_id"] for e in events), event_type
