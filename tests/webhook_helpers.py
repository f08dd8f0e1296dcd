"""Helpers for webhook tests: a clock to move by hand, dispatchers, events, subscriptions."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from api.models.base import utcnow
from api.services import events
from api.services.webhook_dispatch import Dispatcher
from tests import factories


class Clock:
    """Now, as the dispatcher sees it; tests move it instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def dispatcher(app: FastAPI, clock: Clock | None = None, **settings: Any) -> Dispatcher:
    base = app.state.settings
    return Dispatcher(
        app.state.sessionmaker,
        base.model_copy(update=settings) if settings else base,
        clock=clock or utcnow,
        rng=random.Random(15),
    )


async def subscribe(
    client: httpx.AsyncClient, actor: factories.Actor, url: str, **body: Any
) -> dict[str, Any]:
    r = await client.post("/v1/webhooks", json={"url": url, **body}, headers=actor.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def emit(
    app: FastAPI,
    event_type: str = "deal.created",
    *,
    brand_id: uuid.UUID | None = None,
    creator_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Record an event the way services do, in its own transaction. Its default payload
    names no object (`ref`, not `id`): the activity trail links real objects only."""
    async with app.state.sessionmaker.begin() as session:
        await events.record(
            session,
            event_type,
            data or {"ref": str(uuid.uuid4())},
            brand_id=brand_id,
            creator_id=creator_id,
        )


async def deliveries(
    client: httpx.AsyncClient, actor: factories.Actor, hook: dict[str, Any]
) -> Any:
    r = await client.get(f"/v1/webhooks/{hook['id']}/deliveries?limit=100", headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]
