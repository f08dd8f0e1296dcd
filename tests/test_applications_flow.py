"""The journey of issue 4 end to end: apply, shortlist, accept into a deal, slots close."""

from __future__ import annotations

import httpx

from tests import factories
from tests.factories import problem_of


async def _applicant(client: httpx.AsyncClient, **account: object) -> factories.Actor:
    creator = await factories.creator(
        client, profile={"country": "ES", "niches": ["beauty"]}, accounts=[account or {}]
    )
    r = await client.get("/v1/creators/me", headers=creator.headers)
    creator.extra["account_ids"] = [a["id"] for a in r.json()["accounts"]]
    return creator


def _application(creator: factories.Actor, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "pitch": "Morning routines are my thing.",
        "account_ids": creator.extra["account_ids"],
        "proposed_fee_minor": 30_000,
    }
    body.update(overrides)
    return body


async def test_brand_takes_a_brief_from_open_to_full(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=2)
    creators = [await _applicant(client) for _ in range(3)]
    application_ids = []
    for creator in creators:
        r = await client.post(
            f"/v1/briefs/{brief['id']}/applications",
            json=_application(creator),
            headers=creator.headers,
        )
        assert r.status_code == 201, r.text
        assert 0 <= r.json()["match_score"] <= 1
        application_ids.append(r.json()["id"])

    r = await client.post(f"/v1/applications/{application_ids[0]}/shortlist", headers=brand.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "shortlisted"

    first = await client.post(
        f"/v1/applications/{application_ids[0]}/accept", headers=brand.headers
    )
    assert first.status_code == 201, first.text
    deal = first.json()
    assert deal["status"] == "pending_terms"
    assert deal["current_terms"]["fee_minor"] == 30_000
    assert deal["current_terms"]["usage_rights"]["channels"] == [
        "organic_social",
        "website",
        "email",
    ]
    second = await client.post(
        f"/v1/applications/{application_ids[1]}/accept", headers=brand.headers
    )
    assert second.status_code == 201, second.text

    third = await client.post(
        f"/v1/applications/{application_ids[2]}/accept", headers=brand.headers
    )
    problem_of(third, 409, "slots_filled")

    r = await client.get(f"/v1/briefs/{brief['id']}", headers=brand.headers)
    assert r.json()["status"] == "closed"
    assert r.json()["closed_reason"] == "slots_filled"

    r = await client.get(f"/v1/deals/{deal['id']}", headers=creators[0].headers)
    assert r.status_code == 200
    problem_of(
        await client.get(f"/v1/deals/{deal['id']}", headers=creators[2].headers), 404, "not_found"
    )
