"""The match score: each part moves it the right way, and one model scores everywhere.

Parts are read from `GET /v1/briefs/{id}/matches` (SQL ranking); the same pairs are then
checked against `GET /v1/me/matches` (the model on vectors, in memory) and the score stored
at apply time (the model evaluated in Python).
"""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import GIFTED, Actor, all_pages, match_creator


async def _matches(
    client: httpx.AsyncClient, owner: Actor, brief: dict[str, Any]
) -> dict[str, Any]:
    items = await all_pages(client, owner, f"/v1/briefs/{brief['id']}/matches", limit=100)
    return {item["creator"]["id"]: item for item in items}


async def _ranked(client: httpx.AsyncClient, owner: Actor, brief: dict[str, Any]) -> list[str]:
    items = await all_pages(client, owner, f"/v1/briefs/{brief['id']}/matches", limit=100)
    return [item["creator"]["id"] for item in items]


def _id(actor: Actor) -> str:
    return str(actor.creator_id)


# --- each part moves the score the right way --------------------------------------------------


async def test_a_creator_sharing_the_niche_ranks_first(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, niches=["beauty"])
    off = await match_creator(client, niches=["gaming"])
    on = await match_creator(client, niches=["beauty"])
    found = await _matches(client, brand, brief)
    assert await _ranked(client, brand, brief) == [_id(on), _id(off)]
    assert found[_id(on)]["parts"]["niche_overlap"] == 1.0
    assert found[_id(off)]["parts"]["niche_overlap"] == 0.0
    assert "covers beauty" in found[_id(on)]["reasons"]


async def test_niche_overlap_counts_the_briefs_niches_covered(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, niches=["beauty", "fashion"])
    specialist = await match_creator(client, niches=["beauty"])
    half = await match_creator(client, niches=["beauty", "gaming"])
    both = await match_creator(client, niches=["beauty", "fashion"])
    both_and_more = await match_creator(client, niches=["beauty", "fashion", "gaming", "food"])
    found = await _matches(client, brand, brief)
    # Listing more niches never lowers the part: only the brief's list divides.
    assert found[_id(specialist)]["parts"]["niche_overlap"] == 0.5
    assert found[_id(half)]["parts"]["niche_overlap"] == 0.5
    assert found[_id(both)]["parts"]["niche_overlap"] == 1.0
    assert found[_id(both_and_more)]["parts"]["niche_overlap"] == 1.0


async def test_audience_in_the_target_countries_raises_the_score(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, target_audience={"countries": ["DE", "AT"]})
    local = await match_creator(
        client, accounts=[{"audience": {"countries": {"DE": 50.0, "AT": 12.5, "US": 20.0}}}]
    )
    remote = await match_creator(
        client, accounts=[{"audience": {"countries": {"DE": 10.0, "US": 70.0}}}]
    )
    found = await _matches(client, brand, brief)
    assert found[_id(local)]["parts"]["audience_country"] == 0.625
    assert found[_id(remote)]["parts"]["audience_country"] == 0.1
    assert await _ranked(client, brand, brief) == [_id(local), _id(remote)]
    assert "62 % of the audience in AT, DE" in found[_id(local)]["reasons"]


async def test_no_target_country_is_neutral_for_everybody(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await match_creator(client)
    parts = (await _matches(client, brand, brief))[_id(creator)]["parts"]
    assert parts["audience_country"] == 0.5
    assert parts["audience_gender"] == 0.5
    assert parts["audience_age"] == 0.5


async def test_audience_gender_and_age_fit(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client,
        brand,
        target_audience={"genders": ["female"], "age_min": 18, "age_max": 24},
    )
    young = await match_creator(
        client,
        accounts=[
            {"audience": {"genders": {"female": 80.0, "male": 20.0}, "ages": {"18-24": 70.0}}}
        ],
    )
    older = await match_creator(
        client,
        accounts=[
            {
                "audience": {
                    "genders": {"female": 20.0, "male": 80.0},
                    "ages": {"18-24": 10.0, "35-44": 60.0},
                }
            }
        ],
    )
    found = await _matches(client, brand, brief)
    assert found[_id(young)]["parts"]["audience_gender"] == 0.8
    assert found[_id(young)]["parts"]["audience_age"] == 0.7
    assert found[_id(older)]["parts"]["audience_gender"] == 0.2
    assert found[_id(older)]["parts"]["audience_age"] == 0.1
    assert await _ranked(client, brand, brief) == [_id(young), _id(older)]


async def test_an_age_range_counts_the_part_of_each_bucket_inside_it(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    # 30-39: half of 25-34 (30..34 of 25..34) and half of 35-44 (35..39 of 35..44).
    brief = await factories.open_brief(
        client, brand, target_audience={"age_min": 30, "age_max": 39}
    )
    creator = await match_creator(
        client, accounts=[{"audience": {"ages": {"25-34": 40.0, "35-44": 20.0}}}]
    )
    parts = (await _matches(client, brand, brief))[_id(creator)]["parts"]
    assert parts["audience_age"] == 0.3


async def test_higher_engagement_for_the_tier_ranks_higher(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    # Instagram micro norm: 3-7 %. 1.5 %: below it; 5 %: inside it; 9 %: above it.
    low = await match_creator(client, accounts=[{"followers": 40_000, "avg_likes": 600}])
    mid = await match_creator(client, accounts=[{"followers": 40_000, "avg_likes": 2_000}])
    high = await match_creator(client, accounts=[{"followers": 40_000, "avg_likes": 3_600}])
    for actor in (low, mid, high):  # the factory's 96 comments would blur the numbers
        r = await client.patch(
            f"/v1/creators/me/accounts/{actor.extra['account_ids'][0]}",
            json={"avg_comments": 0},
            headers=actor.headers,
        )
        assert r.status_code == 200, r.text
    found = await _matches(client, brand, brief)
    assert found[_id(low)]["parts"]["engagement"] == 0.25
    assert found[_id(mid)]["parts"]["engagement"] == 0.75
    assert found[_id(high)]["parts"]["engagement"] == 1.0
    assert await _ranked(client, brand, brief) == [_id(high), _id(mid), _id(low)]


async def test_price_fit_compares_the_rate_card_with_the_budget(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    # 2 reels for at most 500.00 EUR.
    brief = await factories.open_brief(
        client,
        brand,
        fee_max_minor=50_000,
        deliverables=[{"platform": "instagram", "format": "reel", "quantity": 2}],
    )

    def card(fee: int) -> list[dict[str, Any]]:
        return [{"platform": "instagram", "format": "reel", "fee_minor": fee}]

    cheap = await match_creator(client, rate_card=card(20_000), rate_card_currency="EUR")
    dear = await match_creator(client, rate_card=card(100_000), rate_card_currency="EUR")
    other_currency = await match_creator(client, rate_card=card(20_000), rate_card_currency="USD")
    no_card = await match_creator(client)
    wrong_format = await match_creator(
        client,
        rate_card=[{"platform": "instagram", "format": "story", "fee_minor": 1_000}],
        rate_card_currency="EUR",
    )
    found = await _matches(client, brand, brief)
    assert found[_id(cheap)]["parts"]["price_fit"] == 1.0  # 400 <= 500
    assert found[_id(dear)]["parts"]["price_fit"] == 0.25  # 500 / 2000
    for unknown in (other_currency, no_card, wrong_format):
        assert found[_id(unknown)]["parts"]["price_fit"] == 0.5
    ranked = await _ranked(client, brand, brief)
    assert ranked[0] == _id(cheap)
    assert ranked[-1] == _id(dear)
    assert any("within budget" in r for r in found[_id(cheap)]["reasons"])


async def test_gifted_briefs_weigh_the_rate_card_against_the_product_value(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client, brand, **{**GIFTED, "gifted_product": {"name": "Kit", "retail_value_minor": 8_000}}
    )
    card = [{"platform": "instagram", "format": "reel", "fee_minor": 32_000}]
    pricey = await match_creator(client, rate_card=card, rate_card_currency="EUR")
    found = await _matches(client, brand, brief)
    assert found[_id(pricey)]["parts"]["price_fit"] == 0.25


async def test_completed_deals_raise_reliability(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    past = await factories.open_brief(client, brand, title="Earlier campaign")
    proven = await match_creator(client)
    newcomer = await match_creator(client)
    deal = await factories.deal(client, brand, past, proven)
    await factories.db_execute(
        app, "UPDATE deals SET status = 'completed' WHERE id = :id", id=deal["id"]
    )
    brief = await factories.open_brief(client, brand)
    found = await _matches(client, brand, brief)
    assert found[_id(newcomer)]["parts"]["reliability"] == 0.5
    assert found[_id(proven)]["parts"]["reliability"] == 0.6667
    assert await _ranked(client, brand, brief) == [_id(proven), _id(newcomer)]
    assert "1 completed deal" in found[_id(proven)]["reasons"]
    # A deal that is undone stops counting.
    await factories.db_execute(
        app, "UPDATE deals SET status = 'cancelled' WHERE id = :id", id=deal["id"]
    )
    found = await _matches(client, brand, brief)
    assert found[_id(proven)]["parts"]["reliability"] == 0.5


async def test_on_time_publishing_outranks_late_publishing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    past = await factories.open_brief(client, brand, title="Earlier campaign")
    punctual = await match_creator(client)
    tardy = await match_creator(client)
    await factories.published_deliverable(client, app, brand, past, punctual)
    await factories.published_deliverable(client, app, brand, past, tardy, late=True)
    brief = await factories.open_brief(client, brand)
    found = await _matches(client, brand, brief)
    # (completed + on time + 1) / (completed + on time + late + 2)
    assert found[_id(punctual)]["parts"]["reliability"] == 0.6667
    assert found[_id(tardy)]["parts"]["reliability"] == 0.3333
    assert await _ranked(client, brand, brief) == [_id(punctual), _id(tardy)]
    assert (
        "no completed deals yet, 1 of 1 posts published on time"
        in (found[_id(punctual)]["reasons"])
    )
    assert (
        "no completed deals yet, 0 of 1 posts published on time" in (found[_id(tardy)]["reasons"])
    )
    # The other direction and apply time use the same figures.
    for actor, expected in ((punctual, 0.6667), (tardy, 0.3333)):
        mine = await all_pages(client, actor, "/v1/me/matches", limit=100)
        assert {m["brief"]["id"]: m["parts"]["reliability"] for m in mine}[brief["id"]] == expected
        application = await factories.apply(client, actor, brief)
        assert application["match_parts"]["reliability"] == expected


async def test_reliability_pools_deals_and_posts(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    past = await factories.open_brief(client, brand, title="Earlier campaign")
    veteran = await match_creator(client)
    published = await factories.published_deliverable(client, app, brand, past, veteran)
    await factories.db_execute(
        app, "UPDATE deals SET status = 'completed' WHERE id = :id", id=published["deal_id"]
    )
    brief = await factories.open_brief(client, brand)
    found = await _matches(client, brand, brief)
    assert found[_id(veteran)]["parts"]["reliability"] == 0.75  # (1 + 1 + 1) / (1 + 1 + 2)
    assert "1 completed deal, 1 of 1 posts published on time" in found[_id(veteran)]["reasons"]


async def test_tier_fit_peaks_in_the_middle_of_explicit_bounds(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client, brand, tiers=[], min_followers=10_000, max_followers=1_000_000
    )
    middle = await match_creator(client, accounts=[{"followers": 100_000, "avg_likes": 4_000}])
    edge = await match_creator(client, accounts=[{"followers": 10_000, "avg_likes": 400}])
    found = await _matches(client, brand, brief)
    assert found[_id(middle)]["parts"]["tier_fit"] == 1.0
    assert found[_id(edge)]["parts"]["tier_fit"] == 0.5


async def test_tier_fit_is_full_in_a_wanted_tier_and_neutral_without_size_wishes(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    tiered = await factories.open_brief(client, brand, tiers=["micro"])
    any_size = await factories.open_brief(client, brand, tiers=[])
    creator = await match_creator(client)
    assert (await _matches(client, brand, tiered))[_id(creator)]["parts"]["tier_fit"] == 1.0
    assert (await _matches(client, brand, any_size))[_id(creator)]["parts"]["tier_fit"] == 0.5


async def test_weights_come_from_settings(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.settings import MatchWeights, get_settings

    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, niches=["beauty"])
    on = await match_creator(client, niches=["beauty"])
    off = await match_creator(client, niches=["gaming"])
    only_niches = MatchWeights(
        **{**dict.fromkeys(MatchWeights.model_fields, 0.0), "niche_overlap": 1.0}
    )
    monkeypatch.setattr(get_settings(), "match_weights", only_niches)
    found = await _matches(client, brand, brief)
    assert found[_id(on)]["score"] == 1.0
    assert found[_id(off)]["score"] == 0.0


def test_weights_must_not_all_be_zero() -> None:
    from pydantic import ValidationError

    from api.settings import MatchWeights

    with pytest.raises(ValidationError):
        MatchWeights(**dict.fromkeys(MatchWeights.model_fields, 0.0))


# --- one model everywhere ----------------------------------------------------------------------


async def test_both_directions_and_apply_time_agree(client: httpx.AsyncClient) -> None:
    """Random creators and briefs: the same pairs match both ways with the same score and
    parts, and the score stored when applying is the model's (bar the proposed fee)."""
    rng = random.Random(6)
    brand = await factories.brand(client)
    countries = ["ES", "DE", "US", "GB"]
    niches = ["beauty", "fashion", "food", "gaming"]
    creators = []
    for _ in range(10):
        platforms = rng.sample(["instagram", "tiktok", "youtube"], rng.randint(1, 2))
        accounts = []
        for platform in platforms:
            followers = rng.choice([3_000, 20_000, 60_000, 300_000])
            accounts.append(
                {
                    "platform": platform,
                    "followers": followers,
                    "avg_likes": int(followers * rng.uniform(0.005, 0.09)),
                    "audience": {
                        "countries": dict(
                            zip(
                                rng.sample(countries, 3),
                                [rng.uniform(5, 30) for _ in range(3)],
                                strict=True,
                            )
                        ),
                        "genders": {"female": rng.uniform(0, 60), "male": rng.uniform(0, 40)},
                        "ages": {"18-24": rng.uniform(0, 50), "25-34": rng.uniform(0, 50)},
                    },
                }
            )
        rates = [
            {"platform": p, "format": f, "fee_minor": rng.randint(5_000, 90_000)}
            for p, f in (
                ("instagram", "reel"),
                ("tiktok", "short_video"),
                ("youtube", "long_video"),
            )
            if rng.random() < 0.7
        ]
        creators.append(
            await match_creator(
                client,
                niches=rng.sample(niches, rng.randint(1, 2)),
                country=rng.choice(countries),
                accounts=accounts,
                accepts_gifting=rng.random() < 0.7,
                **({"rate_card": rates, "rate_card_currency": "EUR"} if rates else {}),
            )
        )
    briefs = []
    for i in range(5):
        platforms = rng.sample(["instagram", "tiktok", "youtube"], rng.randint(1, 2))
        formats = {"instagram": "reel", "tiktok": "short_video", "youtube": "long_video"}
        gifted = i % 3 == 2
        briefs.append(
            await factories.open_brief(
                client,
                brand,
                title=f"Brief {i}",
                platforms=platforms,
                deliverables=[
                    {"platform": p, "format": formats[p], "quantity": rng.randint(1, 3)}
                    for p in platforms
                ],
                tiers=rng.sample(["nano", "micro", "macro"], rng.randint(1, 2)) if i != 3 else [],
                min_followers=5_000 if i == 3 else factories.OMIT,
                max_followers=200_000 if i == 3 else factories.OMIT,
                niches=rng.sample(niches, rng.randint(1, 2)),
                creator_countries=rng.sample(countries, 3) if i % 2 else [],
                min_engagement_rate=0.01 if i == 1 else factories.OMIT,
                target_audience={
                    "countries": rng.sample(countries, 2),
                    "genders": ["female"],
                    "age_min": 20,
                    "age_max": 30,
                },
                **(GIFTED if gifted else {"fee_max_minor": rng.randint(30_000, 200_000)}),
            )
        )
    brand_side = {b["id"]: await _matches(client, brand, b) for b in briefs}
    creator_side = {}
    for actor in creators:
        items = await all_pages(client, actor, "/v1/me/matches", limit=100)
        creator_side[_id(actor)] = {item["brief"]["id"]: item for item in items}

    pairs = 0
    for brief in briefs:
        for actor in creators:
            by_brand = brand_side[brief["id"]].get(_id(actor))
            by_creator = creator_side[_id(actor)].get(brief["id"])
            assert (by_brand is None) == (by_creator is None), (brief["title"], _id(actor))
            if by_brand is None:
                continue
            pairs += 1
            assert by_brand["score"] == pytest.approx(by_creator["score"], abs=1e-4)
            assert by_brand["account"]["id"] == by_creator["account"]["id"]
            for name, value in by_brand["parts"].items():
                assert value == pytest.approx(by_creator["parts"][name], abs=1e-4), name
    assert pairs >= 8  # the data must exercise the comparison

    # Apply: eligible exactly when matched, and the stored score is the model's.
    for brief in briefs:
        for actor in creators:
            matched = brand_side[brief["id"]].get(_id(actor))
            paid = brief["compensation_type"] != "gifted"
            body = factories.application_body(
                actor, proposed_fee_minor=40_000 if paid else factories.OMIT
            )
            r = await client.post(
                f"/v1/briefs/{brief['id']}/applications", json=body, headers=actor.headers
            )
            if matched is None:
                assert r.status_code == 422, r.text
                assert r.json()["code"] == "ineligible"
                continue
            assert r.status_code == 201, r.text
            stored = r.json()
            for name, value in matched["parts"].items():
                if name != "price_fit" or not paid:
                    assert stored["match_parts"][name] == pytest.approx(value, abs=1e-4), name
            if not paid:
                assert stored["match_score"] == pytest.approx(matched["score"], abs=1e-4)
