"""Operating the dispatcher: counters by outcome, the oldest-undelivered gauge, and one log
line per attempt that holds neither secrets nor bodies."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.webhook_helpers import Clock, dispatcher, emit, subscribe
from tests.webhook_receiver import receiver


def _sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_attempts_are_counted_by_outcome_on_metrics(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    before = (await client.get("/metrics")).text
    with receiver() as rx:
        await subscribe(client, brand, rx.url)
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app).run_once()
        rx.status = 500
        await emit(app, brand_id=brand.brand_id)
        await dispatcher(app).run_once()
    after = (await client.get("/metrics")).text
    name = "briefboard_webhook_attempts_total"
    for outcome in ("delivered", "http_error"):
        label = f'{{outcome="{outcome}"}}'
        assert _sample(after, name, label) - _sample(before, name, label) == 1
    delivered = 'briefboard_webhook_deliveries_total{status="delivered"}'
    assert _sample(after, delivered) - _sample(before, delivered) == 1


async def test_oldest_undelivered_gauge_tracks_the_backlog(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    clock = Clock()
    with receiver() as rx:
        rx.status = 503
        await subscribe(client, brand, rx.url)
        await emit(app, brand_id=brand.brand_id)
        worker = dispatcher(app, clock)
        await worker.run_once()
        clock.advance(timedelta(minutes=10))
        assert 590 <= await worker.measure() < 700
        gauge = _sample(
            (await client.get("/metrics")).text, "briefboard_webhook_oldest_undelivered_seconds"
        )
        assert gauge >= 590
        rx.status = 200
        await worker.run_once()
        assert await worker.measure() == 0


async def test_one_log_line_per_attempt_without_secrets_or_bodies(
    client: httpx.AsyncClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    brand = await factories.brand(client)
    with receiver("/hooks/token-in-path?key=s3cret") as rx:
        hook = await subscribe(client, brand, rx.url)
        await emit(app, brand_id=brand.brand_id, data={"private": "body-content"})
        with caplog.at_level(logging.INFO, logger="briefboard.webhooks"):
            await dispatcher(app).run_once()
    [record] = [r for r in caplog.records if r.getMessage() == "webhook attempt"]
    fields = {k: v for k, v in vars(record).items() if not k.startswith("_")}
    assert fields["outcome"] == "delivered"
    assert fields["status_code"] == 200
    assert fields["webhook_id"] == hook["id"]
    assert fields["target_host"] == "127.0.0.1"
    dumped = repr(fields)
    for secret in (hook["secret"], hook["secret"].removeprefix("whsec_"), "body-content", "s3cret"):
        assert secret not in dumped
    assert rx.requests[0].headers["webhook-signature"] not in dumped
