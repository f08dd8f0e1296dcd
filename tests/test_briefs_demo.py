"""The demo briefs `make run` loads are valid, and cover every kind of brief."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from api.demo_briefs import DEMO_BRIEFS, seed_briefs
from api.models.briefs import CollaborationType, CompensationType
from tests import factories


async def test_demo_briefs_load_through_the_real_rules(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    names = sorted({brand for brand, _, _ in DEMO_BRIEFS})
    owners = {name: await factories.brand(client, name=name) for name in names}
    async with app.state.sessionmaker.begin() as session:
        assert await seed_briefs(session, names) == len(DEMO_BRIEFS)

    reader = await factories.creator(client)
    r = await client.get("/v1/briefs", params={"limit": 100}, headers=reader.headers)
    assert len(r.json()["items"]) == sum(1 for _, state, _ in DEMO_BRIEFS if state == "open")
    states = set()
    for owner in owners.values():
        mine = await client.get("/v1/briefs", params={"mine": "true"}, headers=owner.headers)
        states |= {b["status"] for b in mine.json()["items"]}
    assert {"draft", "open", "closed"} <= states


def test_demo_briefs_cover_every_collaboration_and_compensation_type() -> None:
    assert {b["collaboration_type"] for _, _, b in DEMO_BRIEFS} == set(CollaborationType)
    assert {b["compensation_type"] for _, _, b in DEMO_BRIEFS} == set(CompensationType)
