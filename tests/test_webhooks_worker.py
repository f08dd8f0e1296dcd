"""`briefboard worker`: a separate process delivering webhooks, stopped cleanly by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
from fastapi import FastAPI
from standardwebhooks import Webhook

from tests import factories
from tests.webhook_helpers import emit, subscribe
from tests.webhook_receiver import receiver

BIN = Path(sys.executable).parent / "briefboard"


async def test_worker_process_delivers_and_stops_on_sigterm(
    client: httpx.AsyncClient, app: FastAPI, database_url: str
) -> None:
    brand = await factories.brand(client)
    with receiver() as rx:
        hook = await subscribe(client, brand, rx.url)
        await emit(app, "deal.paid", brand_id=brand.brand_id)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "WEBHOOKS_DISPATCH_INTERVAL_SECONDS": "0.1",
            "LOG_LEVEL": "WARNING",
        }
        process = await asyncio.create_subprocess_exec(str(BIN), "worker", env=env)
        try:
            await factories.until(lambda: len(rx.requests) == 1, seconds=30)
        finally:
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), timeout=30)
    assert code == 0
    [request] = rx.requests
    assert Webhook(hook["secret"]).verify(request.body, request.headers)["type"] == "deal.paid"


async def test_api_workers_dispatch_in_the_background_when_configured(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    from api.main import create_app, lifespan

    brand = await factories.brand(client)
    settings = app.state.settings.model_copy(
        update={"webhooks_dispatch_interval_seconds": 0.05, "maintenance_interval_seconds": 0}
    )
    worker = create_app(settings)
    with receiver() as rx:
        await subscribe(client, brand, rx.url)
        async with lifespan(worker):
            await emit(app, "deal.paid", brand_id=brand.brand_id)
            await factories.until(lambda: len(rx.requests) == 1, seconds=20)
    assert rx.events()[0]["type"] == "deal.paid"
