"""The events a client needs to follow the workflow without polling, each carrying the
object as the API returns it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from api import maintenance
from tests import factories


async def _events(client: httpx.AsyncClient, actor: factories.Actor, type_: str) -> list[Any]:
    r = await client.get(f"/v1/events?type={type_}&limit=100", headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def test_brief_lifecycle_events_carry_the_brief(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    [published] = await _events(client, brand, "brief.published")
    assert published["data"] == brief
    r = await client.post(f"/v1/briefs/{brief['id']}/close", headers=brand.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/briefs/{brief['id']}/complete", headers=brand.headers)
    assert r.status_code == 200, r.text
    completed = r.json()
    other = await factories.brief(client, brand)
    r = await client.post(f"/v1/briefs/{other['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text
    [closed] = await _events(client, brand, "brief.closed")
    assert closed["data"]["closed_reason"] == "brand"
    [done] = await _events(client, brand, "brief.completed")
    assert done["data"] == completed
    [cancelled] = await _events(client, brand, "brief.cancelled")
    assert cancelled["data"] == r.json()
    # Nobody else hears of the brand's briefs.
    assert await _events(client, await factories.creator(client), "brief.*") == []


async def test_a_brief_closing_at_its_deadline_is_announced_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    await factories.expire_deadline(app, brief["id"])
    # Reads present it closed and write nothing; the sweep closes it as they showed it and
    # announces it, once however often it runs.
    for _ in range(2):
        r = await client.get(f"/v1/briefs/{brief['id']}", headers=brand.headers)
        assert r.json()["status"] == "closed"
    assert await _events(client, brand, "brief.closed") == []
    for _ in range(2):
        await maintenance.run_once(app.state.sessionmaker, app.state.settings)
    [closed] = await _events(client, brand, "brief.closed")
    assert closed["data"]["id"] == brief["id"]
    assert closed["data"]["status"] == "closed"
    assert closed["data"]["closed_reason"] == "deadline"
    assert closed["data"]["version"] == r.json()["version"]
    assert closed["data"]["deliverables"] == r.json()["deliverables"]
    assert closed["data"]["title"] == brief["title"]


async def test_the_deadline_sweep_announces_what_it_closes(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    await factories.expire_deadline(app, brief["id"])
    await maintenance.run_once(app.state.sessionmaker, app.state.settings)
    [closed] = await _events(client, brand, "brief.closed")
    assert closed["data"]["id"] == brief["id"]


async def test_the_last_slot_closes_the_brief_with_an_event(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=1)
    deal = await factories.deal(client, brand, brief, await factories.applicant(client))
    [closed] = await _events(client, brand, "brief.closed")
    assert closed["data"]["closed_reason"] == "slots_filled"
    assert closed["data"]["id"] == deal["brief_id"]


async def test_an_unanswered_invitation_is_announced_as_expired_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    r = await client.post(
        f"/v1/briefs/{brief['id']}/invitations",
        json={"creator_id": str(creator.creator_id)},
        headers=brand.headers,
    )
    assert r.status_code == 201, r.text
    await factories.db_execute(
        app, "UPDATE invitations SET expires_at = now() - interval '1 minute'"
    )
    for _ in range(2):
        await maintenance.run_once(app.state.sessionmaker, app.state.settings)
    for party in (brand, creator):
        [expired] = await _events(client, party, "invitation.expired")
        assert expired["data"]["id"] == r.json()["id"]
        assert expired["data"]["status"] == "expired"
