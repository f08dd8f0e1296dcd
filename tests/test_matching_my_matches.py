"""GET /v1/me/matches: open briefs ranked for the calling creator."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import GIFTED, Actor, all_pages, assert_problem, match_creator

PATH = "/v1/me/matches"


async def _ids(client: httpx.AsyncClient, actor: Actor, **params: Any) -> list[str]:
    return [item["brief"]["id"] for item in await all_pages(client, actor, PATH, **params)]


async def test_a_match_shows_the_brief_the_account_score_parts_and_reasons(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await match_creator(client)
    r = await client.get(PATH, headers=creator.headers)
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    assert item["brief"]["id"] == brief["id"]
    assert item["brief"]["title"] == brief["title"]
    assert item["brief"]["brand_id"] == brief["brand_id"]
    assert item["account"]["id"] == creator.extra["account_ids"][0]
    assert 0 <= item["score"] <= 1
    assert item["parts"]["niche_overlap"] == 1.0
    assert "covers beauty" in item["reasons"]


async def test_only_open_briefs_the_creator_is_eligible_for(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client, accepts_gifting=False)
    fits = await factories.open_brief(client, brand, title="Fits")
    await factories.brief(client, brand, title="Draft")
    closed = await factories.open_brief(client, brand, title="Closed")
    r = await client.post(f"/v1/briefs/{closed['id']}/close", headers=brand.headers)
    assert r.status_code == 200, r.text
    expired = await factories.open_brief(client, brand, title="Past its deadline")
    await factories.expire_deadline(app, expired["id"])
    await factories.open_brief(
        client,
        brand,
        title="Wrong platform",
        platforms=["youtube"],
        deliverables=[{"platform": "youtube", "format": "long_video"}],
    )
    await factories.open_brief(client, brand, title="Too small", tiers=["macro"])
    await factories.open_brief(client, brand, title="Elsewhere", creator_countries=["DE"])
    await factories.open_brief(client, brand, title="Gifted", **GIFTED)
    await factories.open_brief(client, brand, title="Engaging", min_engagement_rate=0.2)
    assert await _ids(client, creator) == [fits["id"]]


async def test_briefs_the_creator_applied_to_are_left_out(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    applied = await factories.open_brief(client, brand, title="Applied")
    other = await factories.open_brief(client, brand, title="Other")
    await factories.apply(client, creator, applied)
    assert await _ids(client, creator) == [other["id"]]


async def test_better_fitting_briefs_rank_first(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(
        client,
        niches=["food"],
        accounts=[{"audience": {"countries": {"ES": 80.0}}}],
    )
    best = await factories.open_brief(
        client, brand, niches=["food"], target_audience={"countries": ["ES"]}
    )
    good = await factories.open_brief(client, brand, niches=["food"])
    poor = await factories.open_brief(
        client, brand, niches=["gaming"], target_audience={"countries": ["JP"]}
    )
    assert await _ids(client, creator) == [best["id"], good["id"], poor["id"]]


async def test_the_best_of_several_accounts_is_named(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(
        client,
        accounts=[
            {"platform": "instagram", "followers": 40_000, "avg_likes": 300},
            {"platform": "tiktok", "followers": 40_000, "avg_likes": 4_000},
        ],
    )
    both = await factories.open_brief(
        client,
        brand,
        platforms=["instagram", "tiktok"],
        deliverables=[{"platform": "tiktok", "format": "short_video", "quantity": 1}],
    )
    items = await all_pages(client, creator, PATH)
    assert [i["brief"]["id"] for i in items] == [both["id"]]
    assert items[0]["account"]["platform"] == "tiktok"


async def test_pages_follow_each_other_without_repeats(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client, niches=["beauty", "food"])
    for i in range(13):
        niches = [["beauty"], ["food"], ["beauty", "food"], ["gaming"], []][i % 5]
        await factories.open_brief(
            client,
            brand,
            title=f"Brief {i}",
            niches=niches,
            fee_max_minor=30_000 + 10_000 * i,
            target_audience={"countries": ["US", "ES", "GB"][: 1 + i % 3]},
        )
    everything = await all_pages(client, creator, PATH, limit=100)
    paged = await all_pages(client, creator, PATH, limit=4)
    assert len(everything) == 13
    assert [i["brief"]["id"] for i in paged] == [i["brief"]["id"] for i in everything]
    scores = [i["score"] for i in everything]
    assert scores == sorted(scores, reverse=True)


async def test_pages_of_a_creator_with_several_accounts_list_each_brief_once(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(
        client,
        accounts=[
            {"platform": "instagram", "followers": 40_000, "avg_likes": 1_500},
            {"platform": "tiktok", "followers": 40_000, "avg_likes": 3_000},
        ],
    )
    formats = {"instagram": "reel", "tiktok": "short_video"}
    for i in range(9):
        platforms = [["instagram"], ["tiktok"], ["instagram", "tiktok"]][i % 3]
        await factories.open_brief(
            client,
            brand,
            title=f"Brief {i}",
            platforms=platforms,
            deliverables=[{"platform": p, "format": formats[p]} for p in platforms],
            fee_max_minor=20_000 + 15_000 * i,
            target_audience={"countries": ["US", "ES"][: 1 + i % 2]},
        )
    everything = await all_pages(client, creator, PATH, limit=100)
    for limit in (1, 2, 4):
        paged = await all_pages(client, creator, PATH, limit=limit)
        assert [i["brief"]["id"] for i in paged] == [i["brief"]["id"] for i in everything]
    assert len(everything) == 9


async def test_a_creator_without_accounts_has_no_matches(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    await factories.open_brief(client, brand)
    creator = await match_creator(client, accounts=[])
    r = await client.get(PATH, headers=creator.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [], "next_cursor": None}


async def test_anonymous_callers_and_brands_are_refused(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    assert_problem(await client.get(PATH), 401, "not_authenticated")
    assert_problem(await client.get(PATH, headers=brand.headers), 403, "creator_only")


async def test_bad_input_is_a_422(client: httpx.AsyncClient) -> None:
    creator = await match_creator(client)
    for params in ({"cursor": "%%%"}, {"limit": 0}, {"limit": 101}):
        assert_problem(await client.get(PATH, params=params, headers=creator.headers), 422)


async def test_briefs_admitting_the_creators_country_are_listed_once(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    anywhere = await factories.open_brief(client, brand, title="Anywhere")
    iberia = await factories.open_brief(
        client, brand, title="Iberia", creator_countries=["PT", "ES", "FR"]
    )
    gifted = await factories.open_brief(client, brand, title="Gifted", **GIFTED)
    await factories.open_brief(client, brand, title="DACH", creator_countries=["DE", "AT"])
    spanish = await match_creator(client, country="ES", accepts_gifting=True)
    ids = await _ids(client, spanish)
    assert sorted(ids) == sorted([anywhere["id"], iberia["id"], gifted["id"]])
    # Without a country, only briefs open to any country.
    unplaced = await match_creator(client, country=None, accepts_gifting=False)
    assert await _ids(client, unplaced) == [anywhere["id"]]


async def test_briefs_with_equal_scores_page_by_id_without_repeats(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    for i in range(7):
        await factories.open_brief(client, brand, title=f"Same {i}")
    creator = await match_creator(client)
    everything = await all_pages(client, creator, PATH, limit=100)
    assert len({i["score"] for i in everything}) == 1
    ids = [i["brief"]["id"] for i in everything]
    assert ids == sorted(ids, reverse=True)
    for limit in (1, 2, 3):
        paged = await all_pages(client, creator, PATH, limit=limit)
        assert [i["brief"]["id"] for i in paged] == ids
