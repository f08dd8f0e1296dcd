"""The match tables stay equal to what their views compute, whatever is written."""

# SQL assembled from the tables' own column names.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from api.models.matching import ACCOUNT_FEATURES, BRIEF_FEATURES
from tests import factories
from tests.factories import GIFTED, match_creator


async def _drift(app: FastAPI) -> dict[str, int]:
    """Rows in a match table and not in its view, or the other way round."""
    accounts = ", ".join(ACCOUNT_FEATURES)
    briefs = ", ".join(BRIEF_FEATURES)
    sql = {
        "match_accounts": f"""SELECT count(*) AS n FROM (
            (SELECT {accounts} FROM match_accounts
             EXCEPT ALL SELECT {accounts} FROM match_account_source WHERE slot = 0)
            UNION ALL
            (SELECT {accounts} FROM match_account_source WHERE slot = 0
             EXCEPT ALL SELECT {accounts} FROM match_accounts)) d""",
        "match_briefs": f"""SELECT count(*) AS n FROM (
            (SELECT {briefs} FROM match_briefs
             EXCEPT ALL SELECT {briefs} FROM match_brief_source
                        WHERE status = 'open' AND slot = 0)
            UNION ALL
            (SELECT {briefs} FROM match_brief_source WHERE status = 'open' AND slot = 0
             EXCEPT ALL SELECT {briefs} FROM match_briefs)) d""",
    }
    out = {}
    for table, query in sql.items():
        rows = await factories.db_rows(app, query)
        out[table] = rows[0]["n"]
    return out


async def _count(app: FastAPI, table: str, **where: Any) -> int:
    condition = " AND ".join(f"{k} = :{k}" for k in where) or "true"
    rows = await factories.db_rows(
        app, f"SELECT count(*) AS n FROM {table} WHERE {condition}", **where
    )
    return int(rows[0]["n"])


async def test_every_write_keeps_the_match_tables_exact(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(
        client,
        niches=["beauty", "food"],
        accounts=[{}, {"platform": "tiktok", "followers": 9_000, "avg_likes": 700}],
    )
    # One row per account (niche slots are not stored, 0011).
    assert await _count(app, "match_accounts", creator_id=creator.creator_id) == 2
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}

    # Profile: niches, country, gifting, rate card.
    r = await client.patch(
        "/v1/creators/me",
        json={
            "niches": ["gaming"],
            "country": "PT",
            "accepts_gifting": False,
            "rate_card_currency": "EUR",
            "rate_card": [
                {"platform": "instagram", "format": "reel", "fee_minor": 30_000},
                {"platform": "tiktok", "format": "short_video", "fee_minor": 20_000},
            ],
        },
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    assert await _count(app, "match_accounts", creator_id=creator.creator_id) == 2
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}

    # Accounts: add, change, remove.
    r = await client.post(
        "/v1/creators/me/accounts",
        json=factories.social_account(platform="youtube", followers=120_000),
        headers=creator.headers,
    )
    assert r.status_code == 201, r.text
    youtube = r.json()["id"]
    r = await client.patch(
        f"/v1/creators/me/accounts/{youtube}",
        json={"followers": 130_000, "audience": {"countries": {"PT": 90.0}}},
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}
    r = await client.delete(f"/v1/creators/me/accounts/{youtube}", headers=creator.headers)
    assert r.status_code == 204, r.text
    assert await _count(app, "match_accounts", account_id=youtube) == 0
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}

    # Briefs: a draft has no row; publishing adds them; closing removes them.
    draft = await factories.brief(client, brand, niches=["beauty", "food"])
    assert await _count(app, "match_briefs", brief_id=draft["id"]) == 0
    r = await client.patch(
        f"/v1/briefs/{draft['id']}",
        json={
            "platforms": ["instagram", "tiktok"],
            "deliverables": [
                {"platform": "instagram", "format": "reel", "quantity": 2},
                {"platform": "tiktok", "format": "short_video", "quantity": 1},
            ],
            "target_audience": {"countries": ["PT"], "age_min": 18, "age_max": 30},
        },
        headers={**brand.headers, "If-Match": f'"{draft["version"]}"'},
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/briefs/{draft['id']}/publish", headers=brand.headers)
    assert r.status_code == 200, r.text
    # platforms instagram, tiktok (slot 0 only: niche slots are not stored, 0009)
    assert await _count(app, "match_briefs", brief_id=draft["id"]) == 2
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}
    gifted = await factories.open_brief(client, brand, niches=[], **GIFTED)
    assert await _count(app, "match_briefs", brief_id=gifted["id"]) == 1
    r = await client.post(f"/v1/briefs/{draft['id']}/close", headers=brand.headers)
    assert r.status_code == 200, r.text
    assert await _count(app, "match_briefs", brief_id=draft["id"]) == 0
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}

    # Deals: completed ones count for every row of the creator.
    brief = await factories.open_brief(client, brand)
    applicant = await match_creator(client)
    deal = await factories.deal(client, brand, brief, applicant)
    await factories.db_execute(
        app, "UPDATE deals SET status = 'completed' WHERE id = :id", id=deal["id"]
    )
    rows = await factories.db_rows(
        app,
        "SELECT DISTINCT deals_completed FROM match_accounts WHERE creator_id = :id",
        id=applicant.creator_id,
    )
    assert rows == [{"deals_completed": 1}]
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}


async def test_publishing_updates_the_creators_track_record(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await match_creator(client, niches=["beauty", "food"])
    record = (
        "SELECT DISTINCT deals_completed, published_on_time, published_late"
        " FROM match_accounts WHERE creator_id = :id"
    )
    clean = {"deals_completed": 0, "published_on_time": 0, "published_late": 0}
    assert await factories.db_rows(app, record, id=creator.creator_id) == [clean]

    await factories.published_deliverable(client, app, brand, brief, creator, late=True)
    late = {**clean, "published_late": 1}
    assert await factories.db_rows(app, record, id=creator.creator_id) == [late]
    other = await factories.open_brief(client, brand, title="Second campaign")
    await factories.published_deliverable(client, app, brand, other, creator)
    both = {**late, "published_on_time": 1}
    assert await factories.db_rows(app, record, id=creator.creator_id) == [both]
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}

    # Corrections of the late flag count too; the figures follow every row of the creator.
    await factories.db_execute(
        app,
        "UPDATE deal_deliverables SET late = false WHERE deal_id IN"
        " (SELECT id FROM deals WHERE creator_id = :id)",
        id=creator.creator_id,
    )
    fixed = {**clean, "published_on_time": 2}
    assert await factories.db_rows(app, record, id=creator.creator_id) == [fixed]
    assert await _drift(app) == {"match_accounts": 0, "match_briefs": 0}
