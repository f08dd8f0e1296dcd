"""A whole campaign, brief to shipment, heard by a real receiver on 127.0.0.1: every event
of each party arrives, signed (verified with the `standardwebhooks` package), and nothing
of theirs reaches anyone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from standardwebhooks import Webhook

from api.routers.webhook_docs import envelope
from api.services.event_catalog import EVENT_TYPES
from tests import factories
from tests.webhook_helpers import dispatcher, subscribe
from tests.webhook_receiver import receiver


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def _feed(client: httpx.AsyncClient, actor: factories.Actor) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        r = await client.get(f"/v1/events?limit=100{cursor}", headers=actor.headers)
        page = r.json()
        if not page["items"]:
            return items
        items += page["items"]
        cursor = f"&cursor={page['next_cursor']}"


async def test_a_campaign_is_heard_by_its_parties_and_no_one_else(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client, "Glow Labs")
    creator = await factories.applicant(client)
    stranger = await factories.brand(client, "Nosy Inc")
    with (
        receiver("/brand") as brand_rx,
        receiver("/creator") as creator_rx,
        receiver("/stranger") as stranger_rx,
    ):
        brand_hook = await subscribe(client, brand, brand_rx.url)
        creator_hook = await subscribe(client, creator, creator_rx.url)
        await subscribe(client, stranger, stranger_rx.url)
        worker = dispatcher(app)

        brief = await factories.open_brief(
            client,
            brand,
            **factories.SEEDING,
            deliverables=[{"platform": "instagram", "format": "story", "quantity": 1}],
        )
        await factories.put_address(client, creator)
        deal = await factories.deal(client, brand, brief, creator)
        await worker.run_once()  # part of the way: deliveries follow the work
        deal = await factories.accept_terms(client, creator, deal)
        deal_path = f"/v1/deals/{deal['id']}"
        r = await client.post(
            f"{deal_path}/shipments",
            json={"carrier": "DHL", "shipped_at": _ago(2 / 1440)},  # minutes: after the deal
            headers=brand.headers,
        )
        assert r.status_code == 201, r.text
        r = await client.patch(
            f"{deal_path}/shipments/{r.json()['id']}",
            json={"delivered_at": _ago(1 / 1440)},
            headers=brand.headers,
        )
        assert r.status_code == 200, r.text
        (unit,) = await factories.deliverables(client, creator, deal)
        await factories.publish_unit(client, creator, brand, deal, unit)
        await worker.run_once()

    brand_events = await _feed(client, brand)
    creator_events = await _feed(client, creator)
    expected_brand = {
        "brief.published",
        "application.created",
        "application.updated",
        "deal.created",
        "deal.terms_accepted",
        "shipment.created",
        "shipment.updated",
        "deliverable.submitted",
        "deliverable.reviewed",
        "deliverable.published",
        "deal.completed",
    }
    assert expected_brand <= {e["type"] for e in brand_events}
    assert expected_brand - {"brief.published"} <= {e["type"] for e in creator_events}
    for rx, hook, feed in (
        (brand_rx, brand_hook, brand_events),
        (creator_rx, creator_hook, creator_events),
    ):
        verifier = Webhook(hook["secret"])
        received = [verifier.verify(r.body, r.headers) for r in rx.requests]
        assert {e["id"] for e in received} == {e["id"] for e in feed}
        assert all(
            r.headers["webhook-id"] == e["id"] for r, e in zip(rx.requests, received, strict=True)
        )
        by_id = {e["id"]: e for e in feed}
        for event in received:
            assert event == by_id[event["id"]]
            # Each payload matches the schema the OpenAPI `webhooks` section documents.
            spec = EVENT_TYPES[event["type"]]
            envelope(event["type"], spec.data).model_validate(event)
    assert stranger_rx.requests == []
