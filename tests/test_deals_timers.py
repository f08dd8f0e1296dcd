"""Timers that keep deals moving: drafts approved after the review window, and usage-rights
expiry notices 14 days ahead, each once, whichever worker runs them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from api import maintenance
from api.services import usage_rights
from api.settings import get_settings
from tests import factories
from tests.factories import Actor

TODAY = datetime.now(UTC).date()


async def _active(
    client: httpx.AsyncClient, **brief: Any
) -> tuple[Actor, Actor, dict[str, Any], list[dict[str, Any]]]:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    opened = await factories.open_brief(client, brand, **brief)
    deal = await factories.active_deal(client, brand, opened, creator)
    return brand, creator, deal, await factories.deliverables(client, creator, deal)


async def _age_drafts(app: FastAPI, deal: dict[str, Any], days: float) -> None:
    await factories.db_execute(
        app,
        "UPDATE deliverable_submissions SET submitted_at = now() - make_interval(secs => :s)"
        " WHERE deliverable_id IN (SELECT id FROM deal_deliverables WHERE deal_id = :id)",
        s=days * 86_400,
        id=deal["id"],
    )


async def test_a_draft_unreviewed_past_the_window_is_approved(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    deliverables = [{"platform": "instagram", "format": "reel", "quantity": 2}]
    brand, creator, deal, (old, fresh) = await _active(
        client, review_window_days=2, deliverables=deliverables
    )
    await factories.submit_draft(client, creator, deal, old)
    await _age_drafts(app, deal, 2.01)
    await factories.submit_draft(client, creator, deal, fresh)
    # A cancelled deal's draft is left alone.
    _, creator2, cancelled, (unit,) = await _active(client)
    await factories.submit_draft(client, creator2, cancelled, unit)
    await _age_drafts(app, cancelled, 30)
    r = await client.post(
        f"/v1/deals/{cancelled['id']}/cancel", json={"reason": "x"}, headers=creator2.headers
    )
    assert r.status_code == 200

    await maintenance.run_once(app.state.sessionmaker, get_settings())
    old_now, fresh_now = await factories.deliverables(client, brand, deal)
    assert old_now["status"] == "approved"
    assert old_now["submissions"][0]["auto_approved"] is True
    assert old_now["submissions"][0]["status"] == "approved"
    assert fresh_now["status"] == "in_review"
    assert (await factories.deliverables(client, creator2, cancelled))[0]["status"] == "in_review"
    events = await factories.deal_events(app, deal["id"], "deliverable.reviewed")
    assert [(e["payload"]["decision"], e["payload"]["automatic"]) for e in events] == [
        ("approved", True)
    ]
    # The creator may publish the auto-approved draft.
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{old['id']}/publish",
        json=factories.publish_body(),
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    # Nothing left to do on a second run.
    again = await maintenance.run_once(app.state.sessionmaker, get_settings())
    assert again["drafts approved after the review window"] == 0


async def test_workers_racing_approve_each_draft_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    deliverables = [{"platform": "instagram", "format": "reel", "quantity": 5}]
    _, creator, deal, units = await _active(client, deliverables=deliverables)
    for unit in units:
        await factories.submit_draft(client, creator, deal, unit)
    await _age_drafts(app, deal, 10)
    settings = get_settings()
    results = await asyncio.gather(
        *(maintenance.run_once(app.state.sessionmaker, settings) for _ in range(3))
    )
    # (The app's own background sweep may have taken some: at most five in all.)
    assert sum(r["drafts approved after the review window"] for r in results) <= 5
    assert len(await factories.deal_events(app, deal["id"], "deliverable.reviewed")) == 5
    assert {u["status"] for u in await factories.deliverables(client, creator, deal)} == {
        "approved"
    }


async def _warn(app: FastAPI, today: Any) -> int:
    async with app.state.sessionmaker.begin() as session:
        return await usage_rights.warn_expiring(session, limit=100, today=today)


async def test_both_parties_are_told_14_days_before_rights_expire_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    rights = {"channels": ["organic_social"], "duration_days": 20}
    brand, creator, deal, (unit,) = await _active(client, usage_rights=rights)
    assert await _warn(app, TODAY + timedelta(days=6)) == 0  # nothing published: no term yet
    await factories.publish_unit(client, creator, brand, deal, unit)

    assert await _warn(app, TODAY + timedelta(days=5)) == 0
    assert await _warn(app, TODAY + timedelta(days=6)) == 1
    assert await _warn(app, TODAY + timedelta(days=7)) == 0
    (event,) = await factories.deal_events(app, deal["id"], "usage_rights.expiring")
    assert event["brand_id"] == brand.brand_id
    assert event["creator_id"] == creator.creator_id
    assert event["payload"]["expires_on"] == (TODAY + timedelta(days=20)).isoformat()
    assert (event["payload"]["days_left"], event["payload"]["terms_version"]) == (14, 1)

    # A new version of the terms in force is a new grant: it is announced again.
    r = await client.get(f"/v1/deals/{deal['id']}", headers=brand.headers)
    r = await client.post(
        f"/v1/deals/{deal['id']}/terms",
        json={"usage_rights": {"channels": ["organic_social"], "duration_days": 25}},
        headers={**brand.headers, "If-Match": r.headers["etag"]},
    )
    await factories.accept_terms(client, creator, {**deal, "current_version": 2})
    assert await _warn(app, TODAY + timedelta(days=11)) == 1
    assert len(await factories.deal_events(app, deal["id"], "usage_rights.expiring")) == 2


async def test_no_notice_for_perpetual_expired_or_cancelled_rights(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    perpetual = {"channels": ["organic_social"], "perpetual": True}
    brand, creator, deal, (unit,) = await _active(client, usage_rights=perpetual)
    await factories.publish_unit(client, creator, brand, deal, unit)
    short = {"channels": ["organic_social"], "duration_days": 20}
    brand2, creator2, deal2, (unit2,) = await _active(client, usage_rights=short)
    await factories.publish_unit(client, creator2, brand2, deal2, unit2)
    brand3, creator3, deal3, (unit3,) = await _active(client, usage_rights=short)
    await factories.publish_unit(client, creator3, brand3, deal3, unit3)
    await client.post(
        f"/v1/deals/{deal3['id']}/cancel", json={"reason": "x"}, headers=brand3.headers
    )

    assert await _warn(app, TODAY + timedelta(days=3650)) == 0  # perpetual; deal2 expired
    # deal2's rights expire in 14 days then; deal3 is cancelled.
    assert await _warn(app, TODAY + timedelta(days=6)) == 1
    assert len(await factories.deal_events(app, deal2["id"], "usage_rights.expiring")) == 1
