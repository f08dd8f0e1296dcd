"""GET /v1/events, and the one visibility rule it shares with webhook deliveries."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from api.services.event_catalog import EVENT_TYPES
from tests import factories
from tests.factories import assert_problem
from tests.webhook_helpers import deliveries, dispatcher, emit, subscribe
from tests.webhook_receiver import receiver

# Brief events concern the brand alone; everything else, the brand and the creator.
BRAND_ONLY = {t for t in EVENT_TYPES if t.startswith("brief.")}
ON_FEED = sorted(set(EVENT_TYPES) - {"webhook.test"})


async def _feed(client: httpx.AsyncClient, actor: factories.Actor, query: str = "") -> list:  # type: ignore[type-arg]
    r = await client.get(f"/v1/events{query}", headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def test_feed_is_oldest_first_and_resumes_from_the_cursor(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    for n in range(5):
        await emit(app, "deal.paid", brand_id=brand.brand_id, data={"n": n})
    r = await client.get("/v1/events?limit=2", headers=brand.headers)
    page = r.json()
    assert [e["data"]["n"] for e in page["items"]] == [0, 1]
    seen = [e["data"]["n"] for e in page["items"]]
    while page["items"]:
        cursor = page["next_cursor"]
        page = (
            await client.get(f"/v1/events?limit=2&cursor={cursor}", headers=brand.headers)
        ).json()
        seen += [e["data"]["n"] for e in page["items"]]
    assert seen == [0, 1, 2, 3, 4]
    # The end of the feed still has a cursor: polling with it returns what came since.
    assert page["next_cursor"] == cursor
    await emit(app, "deal.completed", brand_id=brand.brand_id, data={"n": 5})
    resumed = await _feed(client, brand, f"?limit=5&cursor={cursor}")
    assert [e["data"]["n"] for e in resumed] == [5]


async def test_feed_filters_by_type_and_wildcard(client: httpx.AsyncClient, app: FastAPI) -> None:
    creator = await factories.creator(client)
    for event_type in ("deal.created", "application.updated", "deal.paid", "shipment.created"):
        await emit(app, event_type, creator_id=creator.creator_id)
    types = [e["type"] for e in await _feed(client, creator, "?type=deal.*&type=shipment.created")]
    assert types == ["deal.created", "deal.paid", "shipment.created"]
    r = await client.get("/v1/events?type=deal.nope", headers=creator.headers)
    assert_problem(r, 422, "unknown_event_type")


async def test_feed_keeps_30_days(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    await emit(app, "deal.paid", brand_id=brand.brand_id, data={"n": "old"})
    await emit(app, "deal.paid", brand_id=brand.brand_id, data={"n": "new"})
    await factories.db_execute(
        app,
        "UPDATE outbox_events SET occurred_at = now() - interval '31 days'"
        " WHERE payload->>'n' = 'old'",
    )
    assert [e["data"]["n"] for e in await _feed(client, brand)] == ["new"]


async def test_feed_needs_the_events_read_scope(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    token = await factories.api_token(client, brand, ["deals:read"])
    assert_problem(await client.get("/v1/events", headers=factories.bearer(token["token"])), 403)
    ok = await factories.api_token(client, brand, ["events:read"])
    assert (
        await client.get("/v1/events", headers=factories.bearer(ok["token"]))
    ).status_code == 200
    assert_problem(await client.get("/v1/events"), 401)


@pytest.mark.parametrize("event_type", ON_FEED)
async def test_an_event_reaches_only_the_parties_of_its_object(
    client: httpx.AsyncClient, app: FastAPI, event_type: str
) -> None:
    """The visibility matrix: for every event type, the object's brand (and creator, where
    it has one) see it on the feed and get it delivered; another brand and an unrelated
    creator get nothing, by either path."""
    brand, other_brand = await factories.brand(client), await factories.brand(client, "Other")
    creator, other_creator = await factories.creator(client), await factories.creator(client)
    parties = [brand] if event_type in BRAND_ONLY else [brand, creator]
    strangers = [other_brand, other_creator] + ([creator] if event_type in BRAND_ONLY else [])
    with receiver() as rx:
        hooks = {a.email: await subscribe(client, a, rx.url) for a in [*parties, *strangers]}
        marker = str(uuid.uuid4())
        await emit(
            app,
            event_type,
            brand_id=brand.brand_id,
            creator_id=None if event_type in BRAND_ONLY else creator.creator_id,
            data={"marker": marker},
        )
        await dispatcher(app).run_once()
    for actor in parties:
        assert [e["data"]["marker"] for e in await _feed(client, actor)] == [marker]
        assert len(await deliveries(client, actor, hooks[actor.email])) == 1
    for actor in strangers:
        assert await _feed(client, actor) == []
        assert await deliveries(client, actor, hooks[actor.email]) == []
    assert len(rx.requests) == len(parties)


async def test_events_before_a_subscription_are_not_delivered_to_it(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    await emit(app, brand_id=brand.brand_id)
    await factories.db_execute(
        app, "UPDATE outbox_events SET occurred_at = now() - interval '1 minute'"
    )
    with receiver() as rx:
        await subscribe(client, brand, rx.url)
        await dispatcher(app).run_once()
    assert rx.requests == []
    assert len(await _feed(client, brand)) == 1


async def test_deliveries_list_pages_newest_first(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        hook = await subscribe(client, brand, rx.url)
        for n in range(3):
            await emit(app, brand_id=brand.brand_id, data={"n": n})
            await dispatcher(app).run_once()
    path = f"/v1/webhooks/{hook['id']}/deliveries"
    first = (await client.get(path + "?limit=2", headers=brand.headers)).json()
    rest = (
        await client.get(f"{path}?limit=2&cursor={first['next_cursor']}", headers=brand.headers)
    ).json()
    ids = [d["event_id"] for d in first["items"] + rest["items"]]
    sent = [e["id"] for e in rx.events()]
    assert ids == sent[::-1]
    assert rest["next_cursor"] is None


async def test_the_newest_events_are_held_back_by_the_settle_time(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    await emit(app, "deal.paid", brand_id=brand.brand_id, data={"n": "old"})
    await factories.db_execute(
        app, "UPDATE outbox_events SET occurred_at = now() - interval '2 minutes'"
    )
    await emit(app, "deal.paid", brand_id=brand.brand_id, data={"n": "new"})
    original = app.state.settings
    app.state.settings = original.model_copy(update={"events_feed_settle_seconds": 30})
    try:
        held = await _feed(client, brand)
    finally:
        app.state.settings = original
    assert [e["data"]["n"] for e in held] == ["old"]
    assert [e["data"]["n"] for e in await _feed(client, brand)] == ["old", "new"]
