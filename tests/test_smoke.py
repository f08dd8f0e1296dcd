from __future__ import annotations

import httpx

from tests import factories


async def test_healthz_answers_without_auth(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_brand_registers_and_reads_me(client: httpx.AsyncClient) -> None:
    actor = await factories.brand(client)
    r = await client.get("/v1/me", headers=actor.headers)
    assert r.status_code == 200
    assert r.json()["role"] == "brand"
