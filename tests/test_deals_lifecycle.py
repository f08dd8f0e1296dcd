"""The deal's lifecycle: pending_terms -> active -> completed; cancel from either side before
completion; mark paid; completion once everything owed is done."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


async def _deal(
    client: httpx.AsyncClient, *, active: bool = True, **brief: Any
) -> tuple[Actor, Actor, dict[str, Any]]:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    opened = await factories.open_brief(client, brand, **brief)
    deal = await factories.deal(client, brand, opened, creator)
    if active:
        deal = await factories.accept_terms(client, creator, deal)
    return brand, creator, deal


async def _cancel(
    client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any], reason: str = "plans changed"
) -> httpx.Response:
    return await client.post(
        f"/v1/deals/{deal['id']}/cancel", json={"reason": reason}, headers=actor.headers
    )


@pytest.mark.parametrize(("side", "active"), [("brand", False), ("creator", True)])
async def test_either_side_cancels_before_completion(
    client: httpx.AsyncClient, app: FastAPI, side: str, active: bool
) -> None:
    brand, creator, deal = await _deal(client, active=active)
    actor = brand if side == "brand" else creator
    r = await _cancel(client, actor, deal, "  The launch moved to next year.  ")
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "The launch moved to next year."
    assert cancelled["cancelled_by"] == side
    assert cancelled["cancelled_at"] is not None
    events = await factories.deal_events(app, deal["id"], "deal.cancelled")
    assert len(events) == 1
    assert events[0]["brand_id"] == brand.brand_id
    assert events[0]["creator_id"] == creator.creator_id
    assert_problem(await _cancel(client, brand, deal), 409, "invalid_state")
    assert_problem(await _cancel(client, creator, deal), 409, "invalid_state")


async def test_a_cancelled_deal_gives_its_slot_back(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=1)
    first, second, third = [await factories.applicant(client) for _ in range(3)]
    waiting = [await factories.apply(client, c, brief) for c in (second, third)]
    deal = await factories.deal(client, brand, brief, first)
    accept = [f"/v1/applications/{a['id']}/accept" for a in waiting]
    assert_problem(await client.post(accept[0], headers=brand.headers), 409, "slots_filled")

    r = await _cancel(client, first, deal, "I cannot make the dates after all.")
    assert r.status_code == 200, r.text
    r = await client.post(accept[0], headers=brand.headers)
    assert r.status_code == 201, r.text
    # One slot came back, not more: the brief is full again.
    assert_problem(await client.post(accept[1], headers=brand.headers), 409, "slots_filled")
    r = await client.get(f"/v1/briefs/{brief['id']}", headers=brand.headers)
    assert r.json()["status"] == "closed"  # closed when its slot first filled; it stays so


async def test_a_cancellation_needs_a_reason(client: httpx.AsyncClient) -> None:
    brand, _, deal = await _deal(client)
    path = f"/v1/deals/{deal['id']}/cancel"
    for body in ({}, {"reason": "   "}, {"reason": "x" * 2_001}, {"reason": "a\u0000b"}):
        r = await client.post(path, json=body, headers=brand.headers)
        assert_problem(r, 422, "validation_error")


async def test_a_paid_deal_completes_when_published_and_paid(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, deal = await _deal(
        client, deliverables=[{"platform": "instagram", "format": "reel", "quantity": 2}]
    )
    first, second = await factories.deliverables(client, creator, deal)
    paid = f"/v1/deals/{deal['id']}/mark-paid"
    assert_problem(await client.post(paid, headers=creator.headers), 403, "brand_only")
    r = await client.post(paid, headers=brand.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["paid_at"] is not None) == ("active", True)
    assert_problem(await client.post(paid, headers=brand.headers), 409, "already_paid")

    await factories.publish_unit(client, creator, brand, deal, first)
    r = await client.get(f"/v1/deals/{deal['id']}", headers=brand.headers)
    assert r.json()["status"] == "active"
    await factories.publish_unit(client, creator, brand, deal, second)
    r = await client.get(f"/v1/deals/{deal['id']}", headers=brand.headers)
    assert r.json()["status"] == "completed"
    assert r.json()["completed_at"] is not None
    assert len(await factories.deal_events(app, deal["id"], "deal.completed")) == 1
    assert len(await factories.deal_events(app, deal["id"], "deal.paid")) == 1

    # Completed is final.
    assert_problem(await _cancel(client, creator, deal), 409, "invalid_state")
    assert_problem(await client.post(paid, headers=brand.headers), 409, "deal_not_active")
    r = await client.post(
        f"/v1/deals/{deal['id']}/terms",
        json={"fee_minor": 1},
        headers={**brand.headers, "If-Match": '"1.1"'},
    )
    assert_problem(r, 409, "invalid_state")


async def test_publishing_everything_leaves_an_unpaid_deal_active_until_paid(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal = await _deal(client)
    (unit,) = await factories.deliverables(client, creator, deal)
    await factories.publish_unit(client, creator, brand, deal, unit)
    r = await client.get(f"/v1/deals/{deal['id']}", headers=brand.headers)
    assert r.json()["status"] == "active"
    r = await client.post(f"/v1/deals/{deal['id']}/mark-paid", headers=brand.headers)
    assert r.json()["status"] == "completed"


async def test_only_deals_with_a_fee_are_marked_paid(client: httpx.AsyncClient) -> None:
    brand, _, pending = await _deal(client, active=False)
    r = await client.post(f"/v1/deals/{pending['id']}/mark-paid", headers=brand.headers)
    assert_problem(r, 409, "deal_not_active")

    brand, creator, gifted = await _deal(client, **factories.GIFTED)
    r = await client.post(f"/v1/deals/{gifted['id']}/mark-paid", headers=brand.headers)
    assert_problem(r, 409, "not_paid_deal")
    # A gifted deal completes when its content is published: there is nothing to pay.
    (unit,) = await factories.deliverables(client, creator, gifted)
    await factories.publish_unit(client, creator, brand, gifted, unit, caption="#gifted")
    r = await client.get(f"/v1/deals/{gifted['id']}", headers=brand.headers)
    assert r.json()["status"] == "completed"


async def test_admins_read_deals_but_do_not_act(client: httpx.AsyncClient, app: FastAPI) -> None:
    _, _, deal = await _deal(client)
    admin = await factories.admin(client, app)
    r = await client.get(f"/v1/deals/{deal['id']}", headers=admin.headers)
    assert r.status_code == 200
    assert_problem(await _cancel(client, admin, deal), 403, "party_only")
    r = await client.post(f"/v1/deals/{deal['id']}/terms/1/accept", headers=admin.headers)
    assert_problem(r, 403, "party_only")
