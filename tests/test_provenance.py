"""Provenance of the figures parties enter: each carries the date it was true (`as_of`) and
its source; the newest `as_of` counts; old figures are flagged `stale` on reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


def _days_ago(days: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()


async def _published(
    client: httpx.AsyncClient, app: FastAPI, days_ago: int
) -> tuple[Actor, Actor, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A published deliverable, its publication moved `days_ago` days back."""
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    brief = await factories.open_brief(client, brand)
    deal = await factories.active_deal(client, brand, brief, creator)
    (unit,) = await factories.deliverables(client, creator, deal)
    await factories.publish_unit(client, creator, brand, deal, unit)
    await factories.db_execute(
        app,
        "UPDATE deal_deliverables SET published_at = now() - make_interval(days => :d)"
        " WHERE id = :id",
        d=days_ago,
        id=unit["id"],
    )
    return brand, creator, brief, deal, unit


async def _reading(
    client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any], unit: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/metrics",
        json=body,
        headers=actor.headers,
    )


async def test_the_reading_true_most_recently_counts_not_the_last_entered(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, brief, deal, unit = await _published(client, app, days_ago=10)
    r = await _reading(client, creator, deal, unit, likes=100)
    assert r.status_code == 201, r.text
    assert r.json()["as_of"] == _days_ago(0)  # default: today
    assert (r.json()["source"], r.json()["stale"]) == ("creator", False)
    # A screenshot from three days ago, entered afterwards by the brand.
    r = await _reading(client, brand, deal, unit, likes=40, as_of=_days_ago(3))
    assert r.status_code == 201, r.text
    assert (r.json()["as_of"], r.json()["source"]) == (_days_ago(3), "brand")

    report = (await client.get(f"/v1/briefs/{brief['id']}/report", headers=brand.headers)).json()
    assert report["performance"]["likes"] == 100
    r = await client.get(f"/v1/deals/{deal['id']}/deliverables/{unit['id']}", headers=brand.headers)
    assert r.json()["latest_metrics"]["likes"] == 100
    r = await client.get(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/metrics", headers=brand.headers
    )
    assert sorted(m["as_of"] for m in r.json()["items"]) == [_days_ago(3), _days_ago(0)]


async def test_a_reading_is_dated_between_publication_and_today(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    _, creator, _, deal, unit = await _published(client, app, days_ago=2)
    r = await _reading(client, creator, deal, unit, likes=1, as_of=_days_ago(-1))
    assert_problem(r, 422)
    r = await _reading(client, creator, deal, unit, likes=1, as_of=_days_ago(5))
    problem = assert_problem(r, 422)
    assert problem["errors"][0]["loc"] == ["body", "as_of"]
    r = await _reading(client, creator, deal, unit, likes=1, as_of=_days_ago(2))
    assert r.status_code == 201, r.text


async def test_old_readings_are_flagged_stale(client: httpx.AsyncClient, app: FastAPI) -> None:
    _, creator, _, deal, unit = await _published(client, app, days_ago=200)
    r = await _reading(client, creator, deal, unit, likes=5, as_of=_days_ago(120))
    assert r.status_code == 201, r.text
    assert r.json()["stale"] is True
    r = await _reading(client, creator, deal, unit, likes=9, as_of=_days_ago(30))
    assert r.json()["stale"] is False


async def test_old_account_figures_are_flagged_stale(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(
        client,
        accounts=[
            {"platform": "instagram", "handle": "@fresh", "as_of": _days_ago(10)},
            {"platform": "tiktok", "handle": "@old", "as_of": _days_ago(400)},
        ],
    )
    r = await client.get("/v1/creators/me", headers=creator.headers)
    accounts = {a["platform"]: a for a in r.json()["accounts"]}
    assert (accounts["instagram"]["stale"], accounts["tiktok"]["stale"]) == (False, True)
    assert accounts["tiktok"]["source"] == "self_reported"
    # Refreshed figures are no longer stale.
    r = await client.patch(
        f"/v1/creators/me/accounts/{accounts['tiktok']['id']}",
        json={"followers": 51_000, "as_of": _days_ago(0)},
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["stale"] is False
