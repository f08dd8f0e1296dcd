"""Delivery: Standard Webhooks signatures, retries on the schedule, 410, 5 days failing,
rotation, capped reads, no redirects, and two dispatchers at once."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from api.services.webhook_dispatch import RETRY_BASE, RETRY_CAP, retry_delay
from tests import factories
from tests.webhook_helpers import Clock, deliveries, dispatcher, emit, subscribe
from tests.webhook_receiver import receiver


def from_epoch(value: str) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


async def test_event_is_posted_once_signed_per_standard_webhooks(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        hook = await subscribe(client, brand, rx.url)
        await emit(app, "brief.published", brand_id=brand.brand_id, data={"title": "b1"})
        assert await dispatcher(app).run_once() == 1
    assert len(rx.requests) == 1
    request = rx.requests[0]
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "brief.published"
    assert payload["data"] == {"title": "b1"}
    assert request.headers["webhook-id"] == payload["id"]
    assert request.headers["content-type"] == "application/json"
    [delivery] = await deliveries(client, brand, hook)
    assert delivery["status"] == "delivered"
    assert delivery["event_type"] == "brief.published"
    assert delivery["attempts"][0]["status_code"] == 200
    assert delivery["attempts"][0]["response_excerpt"] == "ok"
    # Nothing is sent twice.
    assert await dispatcher(app).run_once() == 0


async def test_a_wrong_secret_fails_verification(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        await subscribe(client, brand, rx.url)
        other = await subscribe(client, await factories.brand(client, "Other"), rx.url)
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app).run_once()
    [request] = rx.requests
    with pytest.raises(Exception, match="signature"):
        Webhook(other["secret"]).verify(request.body, request.headers)


async def test_event_types_filter_exact_names_and_wildcards(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        await subscribe(client, brand, rx.url, event_types=["deal.*", "brief.closed"])
        for event_type in ("deal.created", "deal.paid", "brief.closed", "brief.published"):
            await emit(app, event_type, brand_id=brand.brand_id)
        await dispatcher(app).run_once()
    assert sorted(e["type"] for e in rx.events()) == ["brief.closed", "deal.created", "deal.paid"]


def test_retry_schedule_doubles_from_30_seconds_to_12_hours_with_jitter() -> None:
    import random

    rng = random.Random(1)
    for attempt in range(1, 20):
        nominal = min(RETRY_BASE * 2 ** (attempt - 1), RETRY_CAP)
        delay = retry_delay(attempt, rng)
        assert nominal * 0.8 <= delay <= nominal * 1.2


async def test_failing_receiver_is_retried_on_the_schedule_then_the_delivery_fails(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    clock = Clock()
    start = clock.now
    with receiver() as rx:
        rx.status = 500
        hook = await subscribe(client, brand, rx.url)
        await emit(app, brand_id=brand.brand_id)
        worker = dispatcher(app, clock)
        attempts = 0
        while attempts < 40:
            made = await worker.run_once()
            attempts += made
            [delivery] = await deliveries(client, brand, hook)
            if delivery["status"] != "pending":
                break
            # Not due yet: nothing happens a second before the next attempt...
            due = datetime.fromisoformat(delivery["next_attempt_at"])
            clock.now = due - timedelta(seconds=1)
            assert await worker.run_once() == 0
            clock.now = due
    assert delivery["status"] == "failed"
    assert delivery["next_attempt_at"] is None
    times = [datetime.fromisoformat(a["attempted_at"]) for a in delivery["attempts"]]
    assert len(times) == len(rx.requests) == delivery["attempt_count"]
    for n, (before, after) in enumerate(itertools.pairwise(times), start=1):
        nominal = min(RETRY_BASE * 2 ** (n - 1), RETRY_CAP)
        assert nominal * 0.8 <= after - before <= nominal * 1.2
    # About three days of retries, then it stops.
    assert timedelta(days=2, hours=12) <= times[-1] - start <= timedelta(days=3)
    assert all(a["status_code"] == 500 for a in delivery["attempts"])


async def test_recovered_receiver_gets_the_backlog(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    clock = Clock()
    with receiver() as rx:
        rx.status = 503
        await subscribe(client, brand, rx.url)
        worker = dispatcher(app, clock)
        for i in range(5):
            await emit(app, brand_id=brand.brand_id, data={"n": i})
            await worker.run_once()
            clock.advance(timedelta(minutes=10))
        assert len(rx.requests) >= 5
        rx.status = 204
        rx.requests.clear()
        clock.advance(timedelta(hours=13))
        await worker.run_once()
    assert sorted(e["data"]["n"] for e in rx.events()) == [0, 1, 2, 3, 4]


async def test_gone_disables_the_subscription_and_tells_the_owner(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        rx.status = 410
        hook = await subscribe(client, brand, rx.url)
        await emit(app, brand_id=brand.brand_id)
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app).run_once()
        await dispatcher(app).run_once()
    assert len(rx.requests) in (1, 2)  # both may be in flight together; never retried
    read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=brand.headers)).json()
    assert read["enabled"] is False
    assert read["disabled_reason"] == "gone"
    feed = await client.get("/v1/events?type=webhook.disabled", headers=brand.headers)
    [event] = feed.json()["items"]
    assert event["data"]["id"] == hook["id"]
    assert event["data"]["disabled_reason"] == "gone"


async def test_failing_for_five_days_disables_the_subscription(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    clock = Clock()
    with receiver() as rx:
        rx.status = 500
        hook = await subscribe(client, brand, rx.url)
        other = await subscribe(
            client, brand, "http://127.0.0.1:9/unused", event_types=["webhook.*"]
        )
        worker = dispatcher(app, clock)
        for _ in range(11):  # a new event every 12 hours, each failing
            await emit(app, brand_id=brand.brand_id)
            await worker.run_once()
            read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=brand.headers)).json()
            if not read["enabled"]:
                break
            clock.advance(timedelta(hours=12))
    assert read["enabled"] is False
    assert read["disabled_reason"] == "failing"
    assert datetime.fromisoformat(read["failing_since"]) <= clock.now - timedelta(days=5)
    # The owner hears of it on the feed, and on its other subscriptions.
    feed = await client.get("/v1/events?type=webhook.disabled", headers=brand.headers)
    assert [e["data"]["id"] for e in feed.json()["items"]] == [hook["id"]]
    await worker.fan_out()
    assert [d["event_type"] for d in await deliveries(client, brand, other)] == ["webhook.disabled"]


async def test_a_success_resets_the_failure_clock(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    clock = Clock()
    with receiver() as rx:
        rx.status = 500
        hook = await subscribe(client, brand, rx.url)
        worker = dispatcher(app, clock)
        await emit(app, brand_id=brand.brand_id)
        await worker.run_once()
        read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=brand.headers)).json()
        assert read["failing_since"] is not None
        rx.status = 200
        clock.advance(timedelta(minutes=5))
        await worker.run_once()
    read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=brand.headers)).json()
    assert read["failing_since"] is None
    assert read["enabled"] is True


async def test_rotation_signs_with_both_secrets_for_24_hours(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    clock = Clock()
    with receiver() as rx:
        hook = await subscribe(client, brand, rx.url)
        r = await client.post(f"/v1/webhooks/{hook['id']}/rotate-secret", headers=brand.headers)
        new_secret = r.json()["secret"]
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app, clock).run_once()
        clock.advance(timedelta(hours=24, seconds=1))
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app, clock).run_once()
    during, after = rx.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(hook["secret"]).verify(during.body, during.headers)
    Webhook(new_secret).verify(during.body, during.headers)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    signature = after.headers["webhook-signature"]
    expected = Webhook(new_secret).sign(
        after.headers["webhook-id"],
        from_epoch(after.headers["webhook-timestamp"]),
        after.body,
    )
    assert signature == expected
    old = Webhook(hook["secret"]).sign(
        after.headers["webhook-id"],
        from_epoch(after.headers["webhook-timestamp"]),
        after.body,
    )
    assert signature != old


async def test_redirects_are_not_followed(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    with receiver() as target, receiver() as rx:
        rx.status = 302
        rx.headers = {"location": target.url}
        hook = await subscribe(client, brand, rx.url)
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app).run_once()
    assert target.requests == []
    [delivery] = await deliveries(client, brand, hook)
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["status_code"] == 302


async def test_response_is_read_capped_and_the_excerpt_is_1_kb(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        rx.body = b"x" * 5_000_000
        hook = await subscribe(client, brand, rx.url)
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app).run_once()
    [delivery] = await deliveries(client, brand, hook)
    assert delivery["status"] == "delivered"
    assert delivery["attempts"][0]["response_excerpt"] == "x" * 1024


async def test_slow_receiver_times_out_and_is_retried(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        rx.delay = 1.0
        hook = await subscribe(client, brand, rx.url)
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app, webhooks_timeout_seconds=0.2).run_once()
    [delivery] = await deliveries(client, brand, hook)
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["error"] == "timeout"
    assert delivery["attempts"][0]["status_code"] is None


async def test_two_dispatchers_at_once_deliver_each_event_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        rx.delay = 0.01
        await subscribe(client, brand, rx.url)
        await subscribe(client, brand, rx.url.replace("/hooks", "/second"))
        for i in range(30):
            await emit(app, brand_id=brand.brand_id, data={"n": i})
        first = dispatcher(app, webhooks_dispatch_batch=7)
        second = dispatcher(app, webhooks_dispatch_batch=7)
        made = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(made) == 60
    per_target = Counter((r.path, r.headers["webhook-id"]) for r in rx.requests)
    assert len(per_target) == 60
    assert set(per_target.values()) == {1}
    rows = await factories.db_rows(
        app, "SELECT count(*) AS n, sum(attempt_count) AS a FROM webhook_deliveries"
    )
    assert rows == [{"n": 60, "a": 60}]


async def test_test_ping_and_manual_retry(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        rx.status = 500
        hook = await subscribe(client, brand, rx.url, event_types=["deal.created"])
        r = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=brand.headers)
        assert r.status_code == 202, r.text
        ping = r.json()
        clock = Clock()
        assert ping["event_type"] == "webhook.test"
        await dispatcher(app, clock).run_once()
        assert rx.events()[0]["type"] == "webhook.test"
        rx.status = 200
        # Due later; a manual retry makes it due now.
        assert await dispatcher(app, clock).run_once() == 0
        r = await client.post(
            f"/v1/webhooks/{hook['id']}/deliveries/{ping['id']}/retry", headers=brand.headers
        )
        assert r.status_code == 202, r.text
        clock.now = datetime.fromisoformat(r.json()["next_attempt_at"])
        assert await dispatcher(app, clock).run_once() == 1
    [delivery] = await deliveries(client, brand, hook)
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    # A test ping is not on the feed.
    feed = await client.get("/v1/events", headers=brand.headers)
    assert feed.json()["items"] == []
