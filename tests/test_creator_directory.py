"""GET /v1/creators: the creator directory for brands."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories
from tests.factories import Actor, all_pages, assert_problem, match_creator

PATH = "/v1/creators"


async def _ids(client: httpx.AsyncClient, brand: Actor, **params: Any) -> list[str]:
    return [item["id"] for item in await all_pages(client, brand, PATH, **params)]


def _id(actor: Actor) -> str:
    return str(actor.creator_id)


async def _cast(client: httpx.AsyncClient) -> dict[str, Actor]:
    """A handful of creators with distinct figures."""
    return {
        "nano_es": await match_creator(
            client,
            accounts=[
                {"followers": 5_000, "avg_likes": 400, "audience": {"countries": {"ES": 70.0}}}
            ],
            niches=["food"],
        ),
        "micro_es": await match_creator(
            client,
            accounts=[{"followers": 48_000, "audience": {"countries": {"US": 60.0}}}],
            niches=["beauty"],
        ),
        "macro_de": await match_creator(
            client,
            country="DE",
            niches=["beauty", "travel"],
            accounts=[
                {"platform": "youtube", "followers": 400_000, "avg_likes": 4_000, "audience": {}},
                {"platform": "tiktok", "followers": 20_000, "avg_likes": 3_000, "audience": {}},
            ],
        ),
        "no_country": await match_creator(
            client,
            country=None,
            niches=[],
            accounts=[
                {
                    "platform": "tiktok",
                    "followers": 900,
                    "avg_likes": 10,
                    "avg_comments": 1,
                    "audience": {},
                }
            ],
        ),
    }


async def test_the_directory_lists_largest_accounts_first_with_public_fields_only(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    cast = await _cast(client)
    await factories.put_address(client, cast["micro_es"])
    r = await client.patch(
        "/v1/creators/me",
        json={
            "rate_card_currency": "EUR",
            "rate_card": [{"platform": "instagram", "format": "reel", "fee_minor": 30_000}],
        },
        headers=cast["micro_es"].headers,
    )
    assert r.status_code == 200, r.text
    items = await all_pages(client, brand, PATH)
    order = ["macro_de", "micro_es", "nano_es", "no_country"]
    assert [i["id"] for i in items] == [_id(cast[name]) for name in order]
    for item in items:
        assert "rate_card" not in item
        assert "rate_card_currency" not in item
        assert "has_shipping_address" not in item
        assert "shipping_address" not in item
    assert len(items[0]["accounts"]) == 2


async def test_filters(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    cast = await _cast(client)

    async def names(**params: Any) -> set[str]:
        found = set(await _ids(client, brand, **params))
        return {name for name, actor in cast.items() if _id(actor) in found}

    assert await names(tier="micro") == {"micro_es", "macro_de"}  # the latter by its TikTok
    assert await names(tier=["nano", "macro"]) == {"nano_es", "macro_de"}
    assert await names(platform="youtube") == {"macro_de"}
    assert await names(niche="beauty") == {"micro_es", "macro_de"}
    assert await names(niche=["food", "travel"]) == {"nano_es", "macro_de"}
    assert await names(country="ES") == {"nano_es", "micro_es"}
    assert await names(min_followers=10_000, max_followers=100_000) == {"micro_es", "macro_de"}
    assert await names(min_engagement_rate=0.1) == {"macro_de"}  # TikTok: 15 %
    assert await names(audience_country="US") == {"micro_es"}
    assert await names(audience_country="US", min_audience_share=70) == set()
    # Account filters hold for one account: no single account is on YouTube and micro.
    assert await names(platform="youtube", tier="micro") == set()
    assert await names(platform="tiktok", tier="micro", niche="travel") == {"macro_de"}


async def test_pages_follow_each_other_without_repeats(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    for i in range(11):
        await match_creator(
            client,
            accounts=[
                {"followers": 10_000 + 1_000 * (i % 4)},
                {"platform": "tiktok", "followers": 9_000 + 500 * i},
            ],
        )
    everything = await all_pages(client, brand, PATH, limit=100)
    paged = await all_pages(client, brand, PATH, limit=3)
    assert len(everything) == 11
    assert [i["id"] for i in paged] == [i["id"] for i in everything]


async def test_anonymous_callers_and_creators_are_refused(client: httpx.AsyncClient) -> None:
    creator = await match_creator(client)
    assert_problem(await client.get(PATH), 401, "not_authenticated")
    assert_problem(await client.get(PATH, headers=creator.headers), 403, "brand_only")


async def test_the_other_creator_routes_still_work(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    r = await client.get(f"{PATH}/{creator.creator_id}", headers=brand.headers)
    assert r.status_code == 200, r.text
    r = await client.get(f"{PATH}/me", headers=creator.headers)
    assert r.status_code == 200, r.text


async def test_bad_input_is_a_422(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    for params in (
        {"tier": "giga"},
        {"platform": "myspace"},
        {"niche": "knitting"},
        {"country": "ESP"},
        {"min_followers": -5},
        {"min_followers": 100, "max_followers": 10},
        {"min_engagement_rate": 2},
        {"min_audience_share": 10},
        {"audience_country": "US", "min_audience_share": 0},
        {"cursor": "x"},
        {"limit": 500},
    ):
        assert_problem(await client.get(PATH, params=params, headers=brand.headers), 422)
