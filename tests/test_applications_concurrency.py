"""Racing requests: slots are never exceeded and a creator applies once, whatever the timing.

The requests run concurrently through the real app and its connection pool, each in its
own transaction, against PostgreSQL.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import application_body, assert_problem


async def test_concurrent_accepts_never_exceed_the_slots(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=3)
    creators = await asyncio.gather(*(factories.applicant(client) for _ in range(30)))
    applications = [await factories.apply(client, c, brief) for c in creators]

    responses = await asyncio.gather(
        *(
            client.post(f"/v1/applications/{a['id']}/accept", headers=brand.headers)
            for a in applications
        )
    )

    accepted = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(accepted) == 3, [r.text for r in responses if r.status_code not in (201, 409)]
    assert len(refused) == 27
    for r in refused:
        assert_problem(r, 409, "slots_filled")
    assert len({r.json()["application_id"] for r in accepted}) == 3

    [counts] = await factories.db_rows(
        app,
        "SELECT (SELECT count(*) FROM deals WHERE brief_id = :id) AS deals,"
        " (SELECT count(*) FROM deal_terms) AS terms,"
        " (SELECT count(*) FROM applications WHERE brief_id = :id AND status = 'accepted')"
        " AS accepted_applications,"
        " accepted_count, status, closed_reason FROM briefs WHERE id = :id",
        id=brief["id"],
    )
    assert counts == {
        "deals": 3,
        "terms": 3,
        "accepted_applications": 3,
        "accepted_count": 3,
        "status": "closed",
        "closed_reason": "slots_filled",
    }
    deal_ids = {r.json()["id"] for r in accepted}
    stored = await factories.db_rows(app, "SELECT id FROM deals")
    assert {str(row["id"]) for row in stored} == deal_ids
    events = await factories.db_rows(
        app, "SELECT count(*) AS n FROM outbox_events WHERE type = 'deal.created'"
    )
    assert events == [{"n": 3}]


async def test_one_application_accepted_concurrently_makes_one_deal(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=5)
    application = await factories.apply(client, await factories.applicant(client), brief)

    responses = await asyncio.gather(
        *(
            client.post(f"/v1/applications/{application['id']}/accept", headers=brand.headers)
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    for r in responses:
        if r.status_code == 409:
            assert_problem(r, 409, "invalid_state")
    [row] = await factories.db_rows(
        app,
        "SELECT (SELECT count(*) FROM deals) AS deals, accepted_count FROM briefs WHERE id = :id",
        id=brief["id"],
    )
    assert row == {"deals": 1, "accepted_count": 1}


async def test_concurrent_applies_by_one_creator_make_one_application(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    body = application_body(creator)

    responses = await asyncio.gather(
        *(
            client.post(
                f"/v1/briefs/{brief['id']}/applications", json=body, headers=creator.headers
            )
            for _ in range(10)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert_problem(r, 409, "already_applied")
    rows = await factories.db_rows(
        app, "SELECT id FROM applications WHERE brief_id = :id", id=brief["id"]
    )
    [created] = [r.json() for r in responses if r.status_code == 201]
    assert [str(row["id"]) for row in rows] == [created["id"]]
    events = await factories.db_rows(
        app, "SELECT type FROM outbox_events WHERE type NOT LIKE 'brief.%'"
    )
    assert events == [{"type": "application.created"}]


async def test_concurrent_invited_applies_use_the_invitation_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    invited = await client.post(
        f"/v1/briefs/{brief['id']}/invitations",
        json={"creator_id": str(creator.creator_id)},
        headers=brand.headers,
    )
    assert invited.status_code == 201, invited.text
    body = application_body(creator)

    responses = await asyncio.gather(
        *(
            client.post(
                f"/v1/briefs/{brief['id']}/applications", json=body, headers=creator.headers
            )
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    [created] = [r.json() for r in responses if r.status_code == 201]
    assert created["invitation_id"] == invited.json()["id"]
    [invitation] = (await client.get("/v1/me/invitations", headers=creator.headers)).json()["items"]
    assert invitation["status"] == "applied"
    rows = await factories.db_rows(app, "SELECT invitation_id FROM applications")
    assert [str(row["invitation_id"]) for row in rows] == [invited.json()["id"]]
