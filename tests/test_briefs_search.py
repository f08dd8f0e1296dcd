"""Brief search: each filter, each sort, full text, cursors, and a brand's own list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import GIFTED, OMIT, Actor

NOW = datetime.now(UTC)


def days(n: int) -> str:
    return (NOW.date() + timedelta(days=n)).isoformat()


def at(n_days: float) -> str:
    return (NOW + timedelta(days=n_days)).isoformat()


async def ids(client: httpx.AsyncClient, actor: Actor, **params: Any) -> list[str]:
    """One page (of up to 100) of search results: their ids, in order."""
    r = await client.get("/v1/briefs", params={"limit": 100, **params}, headers=actor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    return [b["id"] for b in r.json()["items"]]


async def all_pages(
    client: httpx.AsyncClient, actor: Actor, limit: int, **params: Any
) -> list[str]:
    out: list[str] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/briefs", params=query, headers=actor.headers)
        assert r.status_code == 200, r.text
        out += [b["id"] for b in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> Actor:
    return await factories.brand(client)


@pytest.fixture
async def reader(client: httpx.AsyncClient) -> Actor:
    return await factories.creator(client)


# --- what search shows --------------------------------------------------------------------------


async def test_search_shows_open_briefs_of_every_brand_and_nothing_else(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    other = await factories.brand(client, name="Other Co")
    mine = await factories.open_brief(client, owner)
    theirs = await factories.open_brief(client, other)
    await factories.brief(client, owner)  # a draft
    closed = await factories.open_brief(client, owner)
    await client.post(f"/v1/briefs/{closed['id']}/close", headers=owner.headers)
    cancelled = await factories.open_brief(client, other)
    await client.post(f"/v1/briefs/{cancelled['id']}/cancel", headers=other.headers)
    assert set(await ids(client, reader)) == {mine["id"], theirs["id"]}


# --- filters ------------------------------------------------------------------------------------


async def test_filter_by_collaboration_and_compensation_type(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    post = await factories.open_brief(client, owner)
    review = await factories.open_brief(client, owner, collaboration_type="product_review")
    seeding = await factories.open_brief(
        client, owner, **GIFTED, collaboration_type="product_seeding"
    )
    assert await ids(client, reader, collaboration_type="product_review") == [review["id"]]
    both = await ids(client, reader, collaboration_type=["sponsored_post", "product_seeding"])
    assert set(both) == {post["id"], seeding["id"]}
    assert await ids(client, reader, compensation_type="gifted") == [seeding["id"]]
    assert set(await ids(client, reader, compensation_type="paid")) == {post["id"], review["id"]}


async def test_filter_by_platform_and_niche_matches_any_value(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    insta = await factories.open_brief(client, owner, niches=["beauty", "fashion"])
    tiktok = await factories.open_brief(
        client,
        owner,
        platforms=["tiktok", "youtube"],
        deliverables=[{"platform": "tiktok", "format": "short_video"}],
        niches=["food"],
    )
    assert await ids(client, reader, platform="tiktok") == [tiktok["id"]]
    assert set(await ids(client, reader, platform=["instagram", "youtube"])) == {
        insta["id"],
        tiktok["id"],
    }
    assert await ids(client, reader, platform="twitch") == []
    assert await ids(client, reader, niche="fashion") == [insta["id"]]
    assert set(await ids(client, reader, niche=["food", "beauty"])) == {insta["id"], tiktok["id"]}


async def test_filter_by_tier_uses_tiers_or_follower_bounds_which_rule(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    micro = await factories.open_brief(client, owner, tiers=["micro"])
    macro = await factories.open_brief(client, owner, tiers=["macro"])
    anyone = await factories.open_brief(client, owner, tiers=[])
    # Bounds 50k-150k overlap micro and macro; they rule over the (contradicting) tiers.
    bounded = await factories.open_brief(
        client, owner, tiers=["nano"], min_followers=50_000, max_followers=150_000
    )
    mega = await factories.open_brief(client, owner, tiers=[], min_followers=1_000_000)
    assert set(await ids(client, reader, tier="micro")) == {
        micro["id"],
        anyone["id"],
        bounded["id"],
    }
    assert set(await ids(client, reader, tier="nano")) == {anyone["id"]}
    assert set(await ids(client, reader, tier="mega")) == {anyone["id"], mega["id"]}
    assert set(await ids(client, reader, tier=["macro", "mega"])) == {
        macro["id"],
        anyone["id"],
        bounded["id"],
        mega["id"],
    }


async def test_filter_by_creator_country_includes_briefs_open_to_anywhere(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    anywhere = await factories.open_brief(client, owner, creator_countries=[])
    germany = await factories.open_brief(client, owner, creator_countries=["DE"])
    north_america = await factories.open_brief(client, owner, creator_countries=["US", "CA"])
    assert set(await ids(client, reader, creator_country="de")) == {anywhere["id"], germany["id"]}
    assert set(await ids(client, reader, creator_country="CA")) == {
        anywhere["id"],
        north_america["id"],
    }
    assert await ids(client, reader, creator_country="FR") == [anywhere["id"]]


async def test_filter_by_fee_range_overlap_in_one_currency(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    low = await factories.open_brief(client, owner, fee_min_minor=20_000, fee_max_minor=50_000)
    high = await factories.open_brief(client, owner, fee_min_minor=60_000, fee_max_minor=100_000)
    dollars = await factories.open_brief(client, owner, currency="USD")
    await factories.open_brief(client, owner, **GIFTED)
    assert await ids(client, reader, currency="EUR", fee_min=55_000) == [high["id"]]
    assert await ids(client, reader, currency="EUR", fee_max=30_000) == [low["id"]]
    assert set(await ids(client, reader, currency="EUR", fee_min=45_000, fee_max=65_000)) == {
        low["id"],
        high["id"],
    }
    assert await ids(client, reader, currency="usd", fee_min=1) == [dollars["id"]]


async def test_fee_filter_needs_a_currency(client: httpx.AsyncClient, reader: Actor) -> None:
    r = await client.get("/v1/briefs", params={"fee_min": 100}, headers=reader.headers)
    problem = factories.problem_of(r, 422, "validation_error")
    assert factories.error_fields(problem) == {"currency"}


async def test_filter_by_publish_date_range_overlapping_the_window(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    soon = await factories.open_brief(client, owner, publish_start_date=days(30))
    window = await factories.open_brief(
        client, owner, publish_start_date=days(50), publish_end_date=days(70)
    )
    later = await factories.open_brief(client, owner, publish_start_date=days(90))
    assert set(await ids(client, reader, publish_from=days(60))) == {window["id"], later["id"]}
    assert await ids(client, reader, publish_to=days(40)) == [soon["id"]]
    assert await ids(client, reader, publish_from=days(55), publish_to=days(65)) == [window["id"]]


async def test_filter_by_deadline(client: httpx.AsyncClient, owner: Actor, reader: Actor) -> None:
    first = await factories.open_brief(client, owner, application_deadline=at(5))
    middle = await factories.open_brief(client, owner, application_deadline=at(10))
    last = await factories.open_brief(client, owner, application_deadline=at(20))
    assert await ids(client, reader, deadline_before=at(7)) == [first["id"]]
    assert await ids(client, reader, deadline_after=at(15)) == [last["id"]]
    assert await ids(client, reader, deadline_after=at(7), deadline_before=at(15)) == [middle["id"]]


async def test_filters_combine(client: httpx.AsyncClient, owner: Actor, reader: Actor) -> None:
    match = await factories.open_brief(client, owner, niches=["pets"], creator_countries=["DE"])
    await factories.open_brief(client, owner, niches=["pets"], creator_countries=["US"])
    await factories.open_brief(client, owner, niches=["food"], creator_countries=["DE"])
    assert await ids(client, reader, niche="pets", creator_country="DE", tier="micro") == [
        match["id"]
    ]


# --- full text ----------------------------------------------------------------------------------


async def test_text_search_ranks_title_matches_above_description_matches(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    in_description = await factories.open_brief(
        client, owner, title="Skincare routine", description="Shot next to our vegan packaging."
    )
    in_title = await factories.open_brief(
        client, owner, title="Vegan protein bars for runners", description="Post-run snack reel."
    )
    await factories.open_brief(client, owner, title="Gaming chair", description="Ergonomics.")
    assert await ids(client, reader, q="vegan") == [in_title["id"], in_description["id"]]
    assert await ids(client, reader, q="runner") == [in_title["id"]]  # stemmed
    assert await ids(client, reader, q="vegan -skincare") == [in_title["id"]]
    assert await ids(client, reader, q='"protein bars"') == [in_title["id"]]
    assert await ids(client, reader, q="the") == []


async def test_text_search_combines_with_filters_and_other_sorts(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    early = await factories.open_brief(
        client, owner, title="Serum reels", application_deadline=at(3)
    )
    late = await factories.open_brief(
        client, owner, title="Serum stories", application_deadline=at(9)
    )
    await factories.open_brief(client, owner, title="Serum posts", niches=["food"])
    found = await ids(client, reader, q="serum", niche="beauty", sort="deadline")
    assert found[:2] == [early["id"], late["id"]]


# --- sorts --------------------------------------------------------------------------------------


async def test_sort_by_publish_date_soonest_first(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    b = await factories.open_brief(client, owner, publish_start_date=days(40))
    a = await factories.open_brief(client, owner, publish_start_date=days(30))
    c = await factories.open_brief(client, owner, publish_start_date=days(50))
    assert await ids(client, reader, sort="publish_date") == [a["id"], b["id"], c["id"]]


async def test_sort_by_deadline_soonest_first(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    b = await factories.open_brief(client, owner, application_deadline=at(8))
    a = await factories.open_brief(client, owner, application_deadline=at(4))
    c = await factories.open_brief(client, owner, application_deadline=at(12))
    assert await ids(client, reader, sort="deadline") == [a["id"], b["id"], c["id"]]


async def test_sort_newest_first_by_publication_is_the_default(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    drafts = [await factories.brief(client, owner) for _ in range(3)]
    for draft in reversed(drafts):  # published in the reverse order of creation
        await client.post(f"/v1/briefs/{draft['id']}/publish", headers=owner.headers)
    expected = [d["id"] for d in drafts]
    assert await ids(client, reader) == expected
    assert await ids(client, reader, sort="newest") == expected


async def test_sort_by_fee_highest_first_unpaid_last(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    gifted = await factories.open_brief(client, owner, **GIFTED)
    mid = await factories.open_brief(client, owner, fee_min_minor=1, fee_max_minor=50_000)
    top = await factories.open_brief(client, owner, fee_min_minor=1, fee_max_minor=90_000)
    assert await ids(client, reader, sort="fee") == [top["id"], mid["id"], gifted["id"]]


async def test_relevance_needs_a_text_query(client: httpx.AsyncClient, reader: Actor) -> None:
    r = await client.get("/v1/briefs", params={"sort": "relevance"}, headers=reader.headers)
    problem = factories.problem_of(r, 422, "validation_error")
    assert factories.error_fields(problem) == {"sort"}


# --- cursors ------------------------------------------------------------------------------------


async def test_pages_cover_every_brief_once(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    made = {(await factories.open_brief(client, owner))["id"] for _ in range(5)}
    seen = await all_pages(client, reader, limit=2)
    assert len(seen) == 5
    assert set(seen) == made


def _keys(sort: str, k: int) -> dict[str, Any]:
    """Sort keys for the k-th brief, with ties (k // 2) so the id tiebreak is exercised."""
    step = k // 2
    if sort == "publish_date":
        return {"publish_start_date": days(30 + step * 3)}
    if sort == "deadline":
        return {"application_deadline": (NOW + timedelta(days=2, hours=step)).isoformat()}
    if sort == "fee":
        return {"fee_min_minor": 1, "fee_max_minor": 10_000 * (step + 1)}
    if sort == "relevance":
        return {"description": "serum " * (step + 1) + "routine"}
    return {}


@pytest.mark.parametrize("sort", ["newest", "publish_date", "deadline", "fee", "relevance"])
async def test_pages_neither_repeat_nor_skip_while_briefs_are_published(
    client: httpx.AsyncClient, owner: Actor, reader: Actor, sort: str
) -> None:
    params = {"sort": sort, **({"q": "serum"} if sort == "relevance" else {})}
    original = [
        (await factories.open_brief(client, owner, **_keys(sort, k)))["id"] for k in range(8)
    ]

    seen: list[str] = []
    r = await client.get("/v1/briefs", params={"limit": 3, **params}, headers=reader.headers)
    seen += [b["id"] for b in r.json()["items"]]
    cursor = r.json()["next_cursor"]
    extra = 0
    while cursor:
        # New briefs land before, between and after the page boundary.
        for k in (0, 4, 7):
            await factories.open_brief(client, owner, **_keys(sort, k))
            extra += 1
        r = await client.get(
            "/v1/briefs", params={"limit": 3, "cursor": cursor, **params}, headers=reader.headers
        )
        assert r.status_code == 200, r.text
        seen += [b["id"] for b in r.json()["items"]]
        cursor = r.json()["next_cursor"]
    assert len(seen) == len(set(seen)), "a brief was repeated"
    assert set(original) <= set(seen), "a brief was skipped"
    assert extra > 0


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyJuZXdlc3QiXQ", "x" * 600])
async def test_a_bad_cursor_is_422(client: httpx.AsyncClient, reader: Actor, cursor: str) -> None:
    r = await client.get("/v1/briefs", params={"cursor": cursor}, headers=reader.headers)
    assert r.status_code == 422, r.text


async def test_a_cursor_only_works_with_its_own_sort(
    client: httpx.AsyncClient, owner: Actor, reader: Actor
) -> None:
    for _ in range(3):
        await factories.open_brief(client, owner)
    r = await client.get(
        "/v1/briefs", params={"limit": 1, "sort": "newest"}, headers=reader.headers
    )
    cursor = r.json()["next_cursor"]
    again = await client.get(
        "/v1/briefs", params={"cursor": cursor, "sort": "publish_date"}, headers=reader.headers
    )
    factories.problem_of(again, 422, "invalid_cursor")


async def test_page_size_has_a_hard_maximum(client: httpx.AsyncClient, reader: Actor) -> None:
    r = await client.get("/v1/briefs", params={"limit": 101}, headers=reader.headers)
    factories.problem_of(r, 422, "page_size_too_large")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"platform": "myspace"}, "platform"),
        ({"tier": "giga"}, "tier"),
        ({"sort": "random"}, "sort"),
        ({"q": "x" * 201}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"niche": ["food"] * 21}, "niche"),
        ({"fee_min": 10**20, "currency": "EUR"}, "fee_min"),
        ({"fee_min": 500, "fee_max": 100, "currency": "EUR"}, "fee_min"),
        ({"publish_from": days(10), "publish_to": days(5)}, "publish_from"),
        ({"deadline_after": at(10), "deadline_before": at(5)}, "deadline_after"),
        ({"deadline_before": "2027-01-01T00:00:00"}, "deadline_before"),
        ({"status": "draft"}, "status"),
    ],
)
async def test_bad_search_parameters_are_422_naming_them(
    client: httpx.AsyncClient, reader: Actor, params: dict[str, Any], field: str
) -> None:
    r = await client.get("/v1/briefs", params=params, headers=reader.headers)
    problem = factories.problem_of(r, 422, "validation_error")
    assert field in factories.error_fields(problem), problem


# --- a brand's own briefs -------------------------------------------------------------------------


async def test_mine_lists_own_briefs_in_every_state_newest_first(
    client: httpx.AsyncClient, owner: Actor
) -> None:
    other = await factories.brand(client, name="Other Co")
    await factories.open_brief(client, other)
    draft = await factories.brief(client, owner, description=OMIT)
    opened = await factories.open_brief(client, owner)
    cancelled = await factories.brief(client, owner)
    await client.post(f"/v1/briefs/{cancelled['id']}/cancel", headers=owner.headers)
    assert await ids(client, owner, mine="true") == [cancelled["id"], opened["id"], draft["id"]]
    assert set(await ids(client, owner, mine="true", status=["draft", "cancelled"])) == {
        draft["id"],
        cancelled["id"],
    }


@pytest.mark.parametrize("sort", ["publish_date", "deadline", "fee", "newest"])
async def test_mine_pages_through_drafts_missing_the_sort_key(
    client: httpx.AsyncClient, owner: Actor, sort: str
) -> None:
    made = set()
    for k in range(3):
        made.add((await factories.brief(client, owner, **_keys(sort, k)))["id"])
        bare = {"title": f"Idea {k}", "collaboration_type": "ugc", "compensation_type": "paid"}
        r = await client.post("/v1/briefs", json=bare, headers=owner.headers)
        made.add(r.json()["id"])
    seen = await all_pages(client, owner, limit=2, mine="true", sort=sort)
    assert len(seen) == len(made) == 6
    assert set(seen) == made


async def test_only_brands_have_their_own_list(client: httpx.AsyncClient, reader: Actor) -> None:
    r = await client.get("/v1/briefs", params={"mine": "true"}, headers=reader.headers)
    factories.problem_of(r, 403, "brand_only")
