"""Reading deals: each side sees its own, and nobody else's."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem, bearer

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def _deal_ids(client: httpx.AsyncClient, actor: Actor, **params: Any) -> list[str]:
    r = await client.get("/v1/deals", params=params, headers=actor.headers)
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["items"]]


async def _cancel_in_db(app: FastAPI, deal_id: str) -> None:
    """Cancel a deal directly (the deal actions are another issue's endpoints)."""
    from sqlalchemy import text

    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            text(
                "UPDATE deals SET status = 'cancelled', cancel_reason = 'test',"
                " cancelled_at = now() WHERE id = :id"
            ),
            {"id": deal_id},
        )


async def test_each_side_lists_its_own_deals_newest_first(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    rival = await factories.brand(client, name="Rival Labs")
    brief = await factories.open_brief(client, brand)
    rival_brief = await factories.open_brief(client, rival)
    creator = await factories.applicant(client)
    other = await factories.applicant(client)

    first = await factories.deal(client, brand, brief, creator)
    second = await factories.deal(client, brand, brief, other)
    third = await factories.deal(client, rival, rival_brief, creator)

    assert await _deal_ids(client, brand) == [second["id"], first["id"]]
    assert await _deal_ids(client, rival) == [third["id"]]
    assert await _deal_ids(client, creator) == [third["id"], first["id"]]
    assert await _deal_ids(client, other) == [second["id"]]
    lonely = await factories.applicant(client)
    assert await _deal_ids(client, lonely) == []

    r = await client.get("/v1/deals", headers=brand.headers)
    listed = r.json()["items"][1]
    assert listed == first


async def test_deals_filter_by_status(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    kept = await factories.deal(client, brand, brief, await factories.applicant(client))
    dropped = await factories.deal(client, brand, brief, await factories.applicant(client))
    await _cancel_in_db(app, dropped["id"])

    assert await _deal_ids(client, brand, status="pending_terms") == [kept["id"]]
    assert await _deal_ids(client, brand, status="cancelled") == [dropped["id"]]
    both = await _deal_ids(client, brand, status=["pending_terms", "cancelled"])
    assert set(both) == {kept["id"], dropped["id"]}
    assert await _deal_ids(client, brand, status="active") == []
    r = await client.get("/v1/deals", params={"status": "signed"}, headers=brand.headers)
    assert_problem(r, 422, "validation_error")


async def test_deals_page_through_without_repeats(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    ids = [
        (await factories.deal(client, brand, brief, await factories.applicant(client)))["id"]
        for _ in range(5)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/deals", params=params, headers=brand.headers)
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) <= 2
        seen += [d["id"] for d in r.json()["items"]]
        pages += 1
        cursor = r.json().get("next_cursor")
        if not cursor:
            break
    assert pages == 3
    assert seen == list(reversed(ids))
    r = await client.get("/v1/deals", params={"cursor": "garbage"}, headers=brand.headers)
    assert_problem(r, 422, "invalid_cursor")


async def test_deal_is_read_by_its_two_parties_only(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    deal = await factories.deal(client, brand, brief, creator)
    path = f"/v1/deals/{deal['id']}"

    for party in (brand, creator, await factories.admin(client, app)):
        r = await client.get(path, headers=party.headers)
        assert r.status_code == 200, r.text
        assert r.json() == deal

    rival = await factories.brand(client, name="Rival Labs")
    # Another creator, even one who applied to the same brief.
    other = await factories.applicant(client)
    await factories.apply(client, other, brief)
    for outsider in (rival, other):
        assert_problem(await client.get(path, headers=outsider.headers), 404, "not_found")
        assert await _deal_ids(client, outsider) == []
    assert_problem(await client.get(path), 401, "not_authenticated")
    assert_problem(await client.get("/v1/deals"), 401, "not_authenticated")
    assert_problem(
        await client.get(f"/v1/deals/{UNKNOWN_ID}", headers=brand.headers), 404, "not_found"
    )
    assert_problem(
        await client.get("/v1/deals/not-an-id", headers=brand.headers), 422, "validation_error"
    )


async def test_api_tokens_need_deals_read(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    deal = await factories.deal(client, brand, brief, creator)

    for actor in (brand, creator):
        without = await factories.api_token(client, actor, ["applications:read", "briefs:read"])
        for path in ("/v1/deals", f"/v1/deals/{deal['id']}"):
            r = await client.get(path, headers=bearer(without["token"]))
            assert_problem(r, 403, "insufficient_scope")

        reader = await factories.api_token(client, actor, ["deals:read"])
        r = await client.get(f"/v1/deals/{deal['id']}", headers=bearer(reader["token"]))
        assert r.status_code == 200, r.text
        listed = await client.get("/v1/deals", headers=bearer(reader["token"]))
        assert [d["id"] for d in listed.json()["items"]] == [deal["id"]]
