"""Deliverables: drafts and review rounds, publishing (late flag, disclosure check) and
performance figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


async def _active(
    client: httpx.AsyncClient, **brief: Any
) -> tuple[Actor, Actor, dict[str, Any], dict[str, Any]]:
    """An active deal and its first deliverable."""
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    opened = await factories.open_brief(client, brand, **brief)
    deal = await factories.active_deal(client, brand, opened, creator)
    return brand, creator, deal, (await factories.deliverables(client, creator, deal))[0]


def _unit_path(deal: dict[str, Any], unit: dict[str, Any]) -> str:
    return f"/v1/deals/{deal['id']}/deliverables/{unit['id']}"


async def _review(
    client: httpx.AsyncClient,
    brand: Actor,
    deal: dict[str, Any],
    unit: dict[str, Any],
    action: str,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    submission = unit["submissions"][-1]["id"]
    return await client.post(
        f"{_unit_path(deal, unit)}/submissions/{submission}/{action}",
        json=body if body is not None else {},
        headers=brand.headers,
    )


async def test_review_rounds_stop_at_the_briefs_limit(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, deal, unit = await _active(client, max_revision_rounds=1)
    assert unit["revision_rounds_left"] == 1
    unit = await factories.submit_draft(client, creator, deal, unit)
    assert unit["status"] == "in_review"
    assert unit["submissions"][0]["round"] == 1

    changes = {"comments": ["Show the bottle in the first 3 seconds.", "Louder music."]}
    r = await _review(client, brand, deal, unit, "request-changes", changes)
    assert r.status_code == 200, r.text
    unit = r.json()
    assert unit["status"] == "changes_requested"
    assert unit["revision_rounds_left"] == 0
    assert unit["submissions"][0]["status"] == "changes_requested"
    assert unit["submissions"][0]["comments"] == changes["comments"]
    # Reviewing the same round again is refused.
    assert_problem(await _review(client, brand, deal, unit, "approve"), 409, "already_reviewed")

    unit = await factories.submit_draft(client, creator, deal, unit)
    assert [s["round"] for s in unit["submissions"]] == [1, 2]
    r = await _review(client, brand, deal, unit, "request-changes", changes)
    assert_problem(r, 409, "revision_limit")
    r = await _review(client, brand, deal, unit, "approve", {"comment": "Lovely."})
    assert r.status_code == 200, r.text
    unit = r.json()
    assert unit["status"] == "approved"
    assert unit["approved_at"] is not None
    assert unit["submissions"][1]["comments"] == ["Lovely."]
    assert unit["submissions"][1]["auto_approved"] is False

    reviewed = await factories.deal_events(app, deal["id"], "deliverable.reviewed")
    assert [(e["payload"]["decision"], e["payload"]["automatic"]) for e in reviewed] == [
        ("changes_requested", False),
        ("approved", False),
    ]
    assert all(e["brand_id"] and e["creator_id"] for e in reviewed)
    assert len(await factories.deal_events(app, deal["id"], "deliverable.submitted")) == 2


async def test_a_brief_without_revision_rounds_only_approves(client: httpx.AsyncClient) -> None:
    brand, creator, deal, unit = await _active(client, max_revision_rounds=0)
    unit = await factories.submit_draft(client, creator, deal, unit)
    r = await _review(client, brand, deal, unit, "request-changes", {"comments": ["No."]})
    assert_problem(r, 409, "revision_limit")


async def test_drafts_follow_the_deliverable_state_machine(client: httpx.AsyncClient) -> None:
    brand, creator, deal, unit = await _active(client)
    path = f"{_unit_path(deal, unit)}/submissions"
    unit = await factories.submit_draft(client, creator, deal, unit)
    # One draft under review at a time.
    r = await client.post(path, json=factories.draft_body(), headers=creator.headers)
    assert_problem(r, 409, "invalid_state")
    unit = await factories.approve_draft(client, brand, deal, unit)
    r = await client.post(path, json=factories.draft_body(), headers=creator.headers)
    assert_problem(r, 409, "invalid_state")
    assert_problem(await _review(client, brand, deal, unit, "approve"), 409, "already_reviewed")
    r = await client.post(
        f"{_unit_path(deal, unit)}/publish", json=factories.publish_body(), headers=creator.headers
    )
    assert r.status_code == 200, r.text
    r = await client.post(path, json=factories.draft_body(), headers=creator.headers)
    assert_problem(r, 409, "invalid_state")
    r = await client.post(
        f"{_unit_path(deal, unit)}/publish", json=factories.publish_body(), headers=creator.headers
    )
    assert_problem(r, 409, "already_published")


async def test_a_cancelled_deal_takes_no_drafts(client: httpx.AsyncClient) -> None:
    _brand, creator, deal, unit = await _active(client)
    r = await client.post(
        f"/v1/deals/{deal['id']}/cancel", json={"reason": "paused"}, headers=creator.headers
    )
    assert r.status_code == 200
    r = await client.post(
        f"{_unit_path(deal, unit)}/submissions",
        json=factories.draft_body(),
        headers=creator.headers,
    )
    assert_problem(r, 409, "deal_not_active")


async def test_publishing_needs_an_approved_draft(client: httpx.AsyncClient) -> None:
    _brand, creator, deal, unit = await _active(client)
    publish = f"{_unit_path(deal, unit)}/publish"
    r = await client.post(publish, json=factories.publish_body(), headers=creator.headers)
    assert_problem(r, 409, "not_approved")
    await factories.submit_draft(client, creator, deal, unit)
    r = await client.post(publish, json=factories.publish_body(), headers=creator.headers)
    assert_problem(r, 409, "not_approved")


async def test_a_post_after_the_due_date_is_flagged_late(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, deal, unit = await _active(client)
    on_time = await factories.publish_unit(client, creator, brand, deal, unit)
    assert on_time["late"] is False

    brand2, creator2, deal2, unit2 = await _active(client)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    await factories.db_execute(
        app,
        "UPDATE deal_deliverables SET due_date = :d WHERE id = :id",
        d=yesterday,
        id=unit2["id"],
    )
    late = await factories.publish_unit(client, creator2, brand2, deal2, unit2)
    assert late["late"] is True
    assert late["status"] == "published"
    r = await client.get(f"/v1/deals/{deal2['id']}", headers=brand2.headers)
    assert r.json()["rights_start_date"] == late["published_at"][:10]


async def test_the_published_caption_is_checked_against_the_disclosure(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    disclosure: dict[str, Any] = {
        "hashtags": ["#ad", "#GlowLabs"],
        "mentions": ["@glowlabs"],
        "paid_partnership_label": True,
    }
    brand, creator, deal, unit = await _active(client, disclosure=disclosure)
    assert unit["disclosure"] == disclosure

    published = await factories.publish_unit(
        client,
        creator,
        brand,
        deal,
        unit,
        caption="New #adventure with #glowlabs, thanks @GlowLabs.",
        paid_partnership_label=False,
    )
    # Published all the same; what is missing is reported.
    assert published["status"] == "published"
    assert published["disclosure_check"] == {
        "compliant": False,
        "missing_hashtags": ["#ad"],
        "missing_mentions": [],
        "paid_partnership_label_missing": True,
    }
    events = await factories.deal_events(app, deal["id"], "deliverable.published")
    assert events[0]["payload"]["disclosure_check"]["compliant"] is False

    brand2, creator2, deal2, unit2 = await _active(client, disclosure=disclosure)
    ok = await factories.publish_unit(
        client, creator2, brand2, deal2, unit2, caption="#AD #glowlabs @glowlabs"
    )
    assert ok["disclosure_check"]["compliant"] is True


async def test_published_at_lies_between_the_deal_and_now(client: httpx.AsyncClient) -> None:
    brand, creator, deal, unit = await _active(client)
    unit = await factories.approve_draft(
        client, brand, deal, await factories.submit_draft(client, creator, deal, unit)
    )
    publish = f"{_unit_path(deal, unit)}/publish"
    for when in (datetime.now(UTC) + timedelta(hours=2), datetime(2020, 1, 1, tzinfo=UTC)):
        body = factories.publish_body(published_at=when.isoformat())
        problem = assert_problem(
            await client.post(publish, json=body, headers=creator.headers), 422
        )
        assert factories.error_fields(problem) == {"published_at"}
    body = factories.publish_body(published_at="2026-01-01T10:00:00")  # no time zone
    assert_problem(await client.post(publish, json=body, headers=creator.headers), 422)
    body = factories.publish_body(live_url="javascript:alert(1)")
    assert_problem(await client.post(publish, json=body, headers=creator.headers), 422)


async def test_either_party_records_metrics_and_each_reading_is_kept(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal, unit = await _active(client)
    metrics = f"{_unit_path(deal, unit)}/metrics"
    r = await client.post(metrics, json={"reach": 10}, headers=creator.headers)
    assert_problem(r, 409, "not_published")
    await factories.publish_unit(client, creator, brand, deal, unit)

    r = await client.post(
        metrics, json={"reach": 1_000, "impressions": 1_500, "likes": 90}, headers=creator.headers
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["source"], first["reach"], first["shares"]) == ("creator", 1_000, None)
    assert first["recorded_at"]
    r = await client.post(
        metrics, json={"reach": 1_200, "impressions": 2_000, "likes": 120}, headers=brand.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "brand"

    r = await client.get(metrics, headers=creator.headers)
    assert [(m["source"], m["reach"]) for m in r.json()["items"]] == [
        ("brand", 1_200),
        ("creator", 1_000),
    ]
    r = await client.get(_unit_path(deal, unit), headers=brand.headers)
    assert r.json()["latest_metrics"]["reach"] == 1_200

    for body in ({}, {"reach": -1}, {"likes": 10**19}, {"reach": "many"}, {"views": 3}):
        assert_problem(
            await client.post(metrics, json=body, headers=brand.headers), 422, "validation_error"
        )


async def test_deliverables_list_and_filter(client: httpx.AsyncClient) -> None:
    brand, creator, deal, _ = await _active(
        client, deliverables=[{"platform": "instagram", "format": "reel", "quantity": 3}]
    )
    units = await factories.deliverables(client, brand, deal)
    await factories.submit_draft(client, creator, deal, units[1])
    path = f"/v1/deals/{deal['id']}/deliverables"
    r = await client.get(path, params={"status": "in_review"}, headers=brand.headers)
    assert [u["unit"] for u in r.json()["items"]] == [2]
    r = await client.get(path, params={"limit": 2}, headers=creator.headers)
    assert [u["unit"] for u in r.json()["items"]] == [1, 2]
    r = await client.get(
        path, params={"limit": 2, "cursor": r.json()["next_cursor"]}, headers=creator.headers
    )
    assert [u["unit"] for u in r.json()["items"]] == [3]
    r = await client.get(path, params={"status": "lost"}, headers=brand.headers)
    assert_problem(r, 422, "validation_error")


async def test_unknown_deliverables_and_submissions_are_404(client: httpx.AsyncClient) -> None:
    brand, creator, deal, unit = await _active(client)
    _, _, _, other_unit = await _active(client)
    unknown = "00000000-0000-4000-8000-000000000000"
    r = await client.get(f"/v1/deals/{deal['id']}/deliverables/{unknown}", headers=brand.headers)
    assert_problem(r, 404, "not_found")
    # Another deal's deliverable is not reachable through this deal.
    r = await client.get(
        f"/v1/deals/{deal['id']}/deliverables/{other_unit['id']}", headers=brand.headers
    )
    assert_problem(r, 404, "not_found")
    unit = await factories.submit_draft(client, creator, deal, unit)
    r = await client.post(
        f"{_unit_path(deal, unit)}/submissions/{unknown}/approve", json={}, headers=brand.headers
    )
    assert_problem(r, 404, "not_found")
