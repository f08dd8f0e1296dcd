"""Reading applications, and what each side may do with one: shortlist, decline, withdraw,
accept into a deal."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import GIFTED, Actor, assert_problem

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def _act(
    client: httpx.AsyncClient, actor: Actor | None, application_id: str, action: str
) -> httpx.Response:
    headers = actor.headers if actor else {}
    return await client.post(f"/v1/applications/{application_id}/{action}", headers=headers)


async def _list(
    client: httpx.AsyncClient, actor: Actor | None, path: str, **params: Any
) -> httpx.Response:
    return await client.get(path, params=params, headers=actor.headers if actor else {})


async def _all_pages(
    client: httpx.AsyncClient, actor: Actor, path: str, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a list, walked page by page with its cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = await _list(client, actor, path, **params, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json().get("next_cursor")
        if not cursor:
            return items


async def _scene(client: httpx.AsyncClient, **brief: Any) -> tuple[Actor, dict[str, Any], Actor]:
    """A brand, its open brief and a creator who can apply to it."""
    brand = await factories.brand(client)
    return (
        brand,
        await factories.open_brief(client, brand, **brief),
        await factories.applicant(client),
    )


async def _events(app: FastAPI) -> list[dict[str, Any]]:
    return await factories.db_rows(
        app,
        "SELECT type, brand_id, creator_id, payload FROM outbox_events"
        " WHERE type NOT LIKE 'brief.%' ORDER BY occurred_at",
    )


# --- reading a brief's applications ---------------------------------------------------------


async def test_brand_lists_its_briefs_applications(client: httpx.AsyncClient) -> None:
    brand, brief, first = await _scene(client)
    second = await factories.applicant(client)
    ids = {(await factories.apply(client, c, brief))["id"] for c in (first, second)}
    other_brief = await factories.open_brief(client, brand)
    await factories.apply(client, first, other_brief)

    r = await _list(client, brand, f"/v1/briefs/{brief['id']}/applications")
    assert r.status_code == 200, r.text
    assert {a["id"] for a in r.json()["items"]} == ids
    assert r.json()["next_cursor"] is None


async def test_only_the_owning_brand_lists_a_briefs_applications(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    _, brief, creator = await _scene(client)
    await factories.apply(client, creator, brief)
    path = f"/v1/briefs/{brief['id']}/applications"

    other_brand = await factories.brand(client, name="Rival Labs")
    assert_problem(await _list(client, other_brand, path), 404, "not_found")
    assert_problem(await _list(client, creator, path), 403, "brand_only")
    assert_problem(await _list(client, None, path), 401, "not_authenticated")
    admin = await factories.admin(client, app)
    assert_problem(await _list(client, admin, path), 403, "brand_only")
    brand = await factories.brand(client)
    assert_problem(
        await _list(client, brand, f"/v1/briefs/{UNKNOWN_ID}/applications"), 404, "not_found"
    )


async def test_brand_filters_applications_by_status(client: httpx.AsyncClient) -> None:
    brand, brief, _ = await _scene(client)
    apps = [await factories.apply(client, await factories.applicant(client), brief) for _ in "abc"]
    assert (await _act(client, brand, apps[0]["id"], "shortlist")).status_code == 200
    assert (await _act(client, brand, apps[1]["id"], "decline")).status_code == 200
    path = f"/v1/briefs/{brief['id']}/applications"

    shortlisted = await _list(client, brand, path, status="shortlisted")
    assert [a["id"] for a in shortlisted.json()["items"]] == [apps[0]["id"]]
    pending = await _list(client, brand, path, status=["submitted", "shortlisted"])
    assert {a["id"] for a in pending.json()["items"]} == {apps[0]["id"], apps[2]["id"]}
    none = await _list(client, brand, path, status="withdrawn")
    assert none.json()["items"] == []
    assert_problem(await _list(client, brand, path, status="maybe"), 422, "validation_error")


async def _five_applications(client: httpx.AsyncClient) -> tuple[Actor, dict[str, Any]]:
    """An open brief (fee up to 50,000) with five applications of distinct fees and scores."""
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, niches=["beauty", "fitness"])
    plans = [
        ({"niches": ["beauty"]}, 45_000),
        ({"niches": ["beauty", "fitness"]}, 60_000),
        ({"niches": ["gaming"]}, 20_000),
        ({"niches": ["beauty", "fitness"]}, 25_000),
        ({"niches": ["fitness"]}, 100_000),
    ]
    for profile, fee in plans:
        creator = await factories.applicant(client, profile=profile)
        await factories.apply(client, creator, brief, proposed_fee_minor=fee)
    return brand, brief


async def test_applications_sort_by_match_score_newest_or_fee(client: httpx.AsyncClient) -> None:
    brand, brief = await _five_applications(client)
    path = f"/v1/briefs/{brief['id']}/applications"
    newest = (await _list(client, brand, path, sort="newest")).json()["items"]
    assert len(newest) == 5
    created = [a["created_at"] for a in newest]
    assert created == sorted(created, reverse=True)

    by_score = (await _list(client, brand, path)).json()["items"]  # the default sort
    scores = [a["match_score"] for a in by_score]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) > 1

    by_fee = (await _list(client, brand, path, sort="proposed_fee")).json()["items"]
    assert [a["proposed_fee_minor"] for a in by_fee] == [20_000, 25_000, 45_000, 60_000, 100_000]

    assert_problem(await _list(client, brand, path, sort="cheapest"), 422, "validation_error")


@pytest.mark.parametrize("sort", ["match_score", "newest", "proposed_fee"])
async def test_applications_page_through_without_repeats(
    client: httpx.AsyncClient, sort: str
) -> None:
    brand, brief = await _five_applications(client)
    path = f"/v1/briefs/{brief['id']}/applications"
    whole = (await _list(client, brand, path, sort=sort)).json()["items"]
    first = await _list(client, brand, path, sort=sort, limit=2)
    assert len(first.json()["items"]) == 2
    assert first.json()["next_cursor"]

    paged = await _all_pages(client, brand, path, sort=sort, limit=2)
    assert [a["id"] for a in paged] == [a["id"] for a in whole]


async def test_bad_cursor_and_page_size_are_422(client: httpx.AsyncClient) -> None:
    brand, brief, _ = await _scene(client)
    path = f"/v1/briefs/{brief['id']}/applications"
    assert_problem(
        await _list(client, brand, path, cursor="bm90LWEtY3Vyc29y"), 422, "invalid_cursor"
    )
    assert_problem(await _list(client, brand, path, limit=1000), 422, "page_size_too_large")


async def test_applications_stay_readable_when_the_brief_closes(
    client: httpx.AsyncClient,
) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    r = await client.post(f"/v1/briefs/{brief['id']}/close", headers=brand.headers)
    assert r.status_code == 200, r.text

    listed = await _list(client, brand, f"/v1/briefs/{brief['id']}/applications")
    assert [a["id"] for a in listed.json()["items"]] == [application["id"]]
    mine = await client.get(f"/v1/applications/{application['id']}", headers=creator.headers)
    assert mine.status_code == 200
    assert mine.json()["status"] == "submitted"


# --- a creator's own applications, and one application ------------------------------------------


async def test_creator_lists_their_own_applications_newest_first(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    briefs = [await factories.open_brief(client, brand) for _ in range(3)]
    creator = await factories.applicant(client)
    others = await factories.applicant(client)
    mine = [(await factories.apply(client, creator, b))["id"] for b in briefs]
    await factories.apply(client, others, briefs[0])
    assert (await _act(client, brand, mine[1], "shortlist")).status_code == 200

    listed = await _all_pages(client, creator, "/v1/me/applications", limit=2)
    assert [a["id"] for a in listed] == list(reversed(mine))
    shortlisted = await _list(client, creator, "/v1/me/applications", status="shortlisted")
    assert [a["id"] for a in shortlisted.json()["items"]] == [mine[1]]


async def test_only_creators_list_their_applications(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    assert_problem(await _list(client, brand, "/v1/me/applications"), 403, "creator_only")
    admin = await factories.admin(client, app)
    assert_problem(await _list(client, admin, "/v1/me/applications"), 403, "creator_only")
    assert_problem(await _list(client, None, "/v1/me/applications"), 401, "not_authenticated")


async def test_application_is_read_by_its_two_parties_only(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    path = f"/v1/applications/{application['id']}"

    for party in (brand, creator, await factories.admin(client, app)):
        r = await client.get(path, headers=party.headers)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == application["id"]

    other_creator = await factories.applicant(client)
    other_brand = await factories.brand(client, name="Rival Labs")
    for outsider in (other_creator, other_brand):
        assert_problem(await client.get(path, headers=outsider.headers), 404, "not_found")
    assert_problem(await client.get(path), 401, "not_authenticated")
    unknown = await client.get(f"/v1/applications/{UNKNOWN_ID}", headers=brand.headers)
    assert_problem(unknown, 404, "not_found")
    bad = await client.get("/v1/applications/not-an-id", headers=brand.headers)
    assert_problem(bad, 422, "validation_error")


# --- shortlist, decline, withdraw -----------------------------------------------------------------


async def test_brand_shortlists_a_submitted_application_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)

    r = await _act(client, brand, application["id"], "shortlist")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "shortlisted"
    assert r.json()["decided_at"] is None
    assert_problem(await _act(client, brand, application["id"], "shortlist"), 409, "invalid_state")

    events = await _events(app)
    assert [e["type"] for e in events] == ["application.created", "application.updated"]
    assert events[1]["payload"]["status"] == "shortlisted"
    assert events[1]["brand_id"] == brand.brand_id
    assert events[1]["creator_id"] == creator.creator_id


@pytest.mark.parametrize("shortlisted_first", [False, True], ids=["submitted", "shortlisted"])
async def test_brand_declines_a_pending_application(
    client: httpx.AsyncClient, app: FastAPI, shortlisted_first: bool
) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    if shortlisted_first:
        assert (await _act(client, brand, application["id"], "shortlist")).status_code == 200

    r = await _act(client, brand, application["id"], "decline")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "declined"
    assert r.json()["decided_at"] is not None
    assert_problem(await _act(client, brand, application["id"], "decline"), 409, "invalid_state")
    seen = await client.get(f"/v1/applications/{application['id']}", headers=creator.headers)
    assert seen.json()["status"] == "declined"
    assert [e["payload"]["status"] for e in await _events(app)][-1] == "declined"


@pytest.mark.parametrize("shortlisted_first", [False, True], ids=["submitted", "shortlisted"])
async def test_creator_withdraws_a_pending_application(
    client: httpx.AsyncClient, app: FastAPI, shortlisted_first: bool
) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    if shortlisted_first:
        assert (await _act(client, brand, application["id"], "shortlist")).status_code == 200

    r = await _act(client, creator, application["id"], "withdraw")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"
    assert_problem(await _act(client, creator, application["id"], "withdraw"), 409, "invalid_state")
    events = await _events(app)
    assert events[-1]["type"] == "application.updated"
    assert events[-1]["payload"]["status"] == "withdrawn"


async def test_only_the_creator_withdraws(client: httpx.AsyncClient) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    other = await factories.applicant(client)
    assert_problem(await _act(client, brand, application["id"], "withdraw"), 403, "creator_only")
    assert_problem(await _act(client, other, application["id"], "withdraw"), 404, "not_found")
    assert_problem(
        await _act(client, None, application["id"], "withdraw"), 401, "not_authenticated"
    )
    r = await client.get(f"/v1/applications/{application['id']}", headers=creator.headers)
    assert r.json()["status"] == "submitted"


async def test_creator_cannot_withdraw_after_acceptance(client: httpx.AsyncClient) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    assert (await _act(client, brand, application["id"], "accept")).status_code == 201
    assert_problem(await _act(client, creator, application["id"], "withdraw"), 409, "invalid_state")


@pytest.mark.parametrize("action", ["shortlist", "decline", "accept"])
async def test_only_the_briefs_brand_decides(
    client: httpx.AsyncClient, app: FastAPI, action: str
) -> None:
    _, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    other_brand = await factories.brand(client, name="Rival Labs")
    admin = await factories.admin(client, app)

    assert_problem(await _act(client, creator, application["id"], action), 403, "brand_only")
    assert_problem(await _act(client, admin, application["id"], action), 403, "brand_only")
    assert_problem(await _act(client, other_brand, application["id"], action), 404, "not_found")
    assert_problem(await _act(client, None, application["id"], action), 401, "not_authenticated")
    r = await client.get(f"/v1/applications/{application['id']}", headers=creator.headers)
    assert r.json()["status"] == "submitted"


async def test_actions_on_an_unknown_application_are_404(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    for actor, action in [
        (brand, "shortlist"),
        (brand, "decline"),
        (brand, "accept"),
        (creator, "withdraw"),
    ]:
        assert_problem(await _act(client, actor, UNKNOWN_ID, action), 404, "not_found")


async def test_api_token_needs_applications_write_to_act(client: httpx.AsyncClient) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    reader = await factories.api_token(client, brand, ["applications:read"])
    headers = factories.bearer(reader["token"])
    r = await client.post(f"/v1/applications/{application['id']}/shortlist", headers=headers)
    assert_problem(r, 403, "insufficient_scope")
    listed = await client.get(f"/v1/briefs/{brief['id']}/applications", headers=headers)
    assert listed.status_code == 200, listed.text

    writer = await factories.api_token(client, brand, ["applications:write"])
    listed = await client.get(
        f"/v1/briefs/{brief['id']}/applications", headers=factories.bearer(writer["token"])
    )
    assert_problem(listed, 403, "insufficient_scope")


# --- illegal transitions ----------------------------------------------------------------------

ACTORS = {"shortlist": "brand", "decline": "brand", "accept": "brand", "withdraw": "creator"}


@pytest.mark.parametrize("state", ["accepted", "declined", "withdrawn"])
@pytest.mark.parametrize("action", list(ACTORS))
async def test_a_decided_application_cannot_change(
    client: httpx.AsyncClient, app: FastAPI, state: str, action: str
) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    to_state = {"accepted": (brand, "accept"), "declined": (brand, "decline")}
    actor, move = to_state.get(state, (creator, "withdraw"))
    assert (await _act(client, actor, application["id"], move)).status_code in (200, 201)

    by = brand if ACTORS[action] == "brand" else creator
    assert_problem(await _act(client, by, application["id"], action), 409, "invalid_state")
    r = await client.get(f"/v1/applications/{application['id']}", headers=creator.headers)
    assert r.json()["status"] == state
    deals = await factories.db_rows(app, "SELECT id FROM deals")
    assert len(deals) == (1 if state == "accepted" else 0)


# --- accepting into a deal --------------------------------------------------------------------


async def test_accepting_a_paid_application_makes_a_deal_with_first_terms(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, brief, creator = await _scene(
        client,
        disclosure={"hashtags": ["#ad", "#glowlabs"], "mentions": ["@glowlabs"]},
        deliverables=[
            {"platform": "instagram", "format": "reel", "quantity": 2},
            {"platform": "instagram", "format": "story", "quantity": 3},
        ],
    )
    application = await factories.apply(client, creator, brief, proposed_fee_minor=42_000)
    r = await _act(client, brand, application["id"], "accept")
    assert r.status_code == 201, r.text
    deal = r.json()
    assert deal["status"] == "pending_terms"
    assert deal["brief_id"] == brief["id"]
    assert deal["application_id"] == application["id"]
    assert deal["brand_id"] == str(brand.brand_id)
    assert deal["creator_id"] == str(creator.creator_id)
    assert deal["current_version"] == 1

    terms = deal["current_terms"]
    assert terms["version"] == 1
    assert terms["fee_minor"] == 42_000
    assert terms["currency"] == "EUR"
    assert terms["gifted_product"] is None
    publish = brief["publish_start_date"]
    assert terms["publish_start_date"] == publish
    assert terms["deliverables"] == [
        {
            "platform": "instagram",
            "format": "reel",
            "quantity": 2,
            "due_date": publish,
            "due_days_after_delivery": None,
        },
        {
            "platform": "instagram",
            "format": "story",
            "quantity": 3,
            "due_date": publish,
            "due_days_after_delivery": None,
        },
    ]
    assert terms["usage_rights"] == brief["usage_rights"]
    assert terms["usage_rights"]["channels"] == ["organic_social", "website", "email"]
    assert terms["usage_rights"]["perpetual"] is False
    assert terms["disclosure"] == brief["disclosure"]
    assert terms["proposed_by"] == "brand"
    assert terms["accepted"] is False

    seen = await client.get(f"/v1/applications/{application['id']}", headers=creator.headers)
    assert seen.json()["status"] == "accepted"
    assert seen.json()["decided_at"] is not None
    as_creator = await client.get(f"/v1/deals/{deal['id']}", headers=creator.headers)
    assert as_creator.json() == deal

    events = await _events(app)
    by_type = {e["type"]: e for e in events}
    assert [e["type"] for e in events].count("deal.created") == 1
    assert by_type["deal.created"]["payload"]["id"] == deal["id"]
    assert by_type["deal.created"]["brand_id"] == brand.brand_id
    assert by_type["deal.created"]["creator_id"] == creator.creator_id
    updates = [e["payload"]["status"] for e in events if e["type"] == "application.updated"]
    assert updates == ["accepted"]


async def test_accepting_a_gifted_application_gives_the_product_and_a_delivery_timer(
    client: httpx.AsyncClient,
) -> None:
    brand, brief, creator = await _scene(client, **GIFTED)
    application = await factories.apply(client, creator, brief)
    r = await _act(client, brand, application["id"], "accept")
    assert r.status_code == 201, r.text
    terms = r.json()["current_terms"]
    assert terms["fee_minor"] is None
    assert terms["gifted_product"] == brief["gifted_product"]
    assert terms["gifted_product"]["name"] == "Serum trio"
    [deliverable] = terms["deliverables"]
    assert deliverable["due_date"] is None
    assert deliverable["due_days_after_delivery"] >= 1
    assert terms["usage_rights"] == brief["usage_rights"]
    assert terms["usage_rights"]["channels"] == ["organic_social"]
    assert terms["disclosure"]["hashtags"] == ["#gifted"]


async def test_accepting_a_hybrid_application_keeps_fee_product_and_commission(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    with_fee = await factories.open_brief(
        client, brand, compensation_type="hybrid", commission_rate_percent=12.5
    )
    product_only = await factories.open_brief(
        client,
        brand,
        compensation_type="hybrid",
        commission_rate_percent=8,
        fee_min_minor=factories.OMIT,
        fee_max_minor=factories.OMIT,
        gifted_product={"name": "Serum trio", "retail_value_minor": 7_500},
    )
    creator = await factories.applicant(client)
    paid = await factories.apply(client, creator, with_fee, proposed_fee_minor=33_000)
    gifted = await factories.apply(client, creator, product_only, proposed_fee_minor=factories.OMIT)

    r = await _act(client, brand, paid["id"], "accept")
    assert r.status_code == 201, r.text
    terms = r.json()["current_terms"]
    assert terms["fee_minor"] == 33_000
    assert terms["commission_rate_percent"] == 12.5
    assert terms["gifted_product"] is None

    r = await _act(client, brand, gifted["id"], "accept")
    assert r.status_code == 201, r.text
    terms = r.json()["current_terms"]
    assert terms["fee_minor"] is None
    assert terms["commission_rate_percent"] == 8
    assert terms["gifted_product"]["name"] == "Serum trio"


async def test_deal_keeps_the_briefs_usage_rights_and_publish_window(
    client: httpx.AsyncClient,
) -> None:
    rights = {
        "channels": ["organic_social", "paid_social"],
        "duration_days": 90,
        "worldwide": False,
        "countries": ["ES", "PT"],
        "ad_permission": "partnership_ads",
    }
    brand = await factories.brand(client)
    start = date.fromisoformat(factories.brief_body()["publish_start_date"])
    end = start + timedelta(days=10)
    brief = await factories.open_brief(
        client, brand, usage_rights=rights, publish_end_date=end.isoformat()
    )
    creator = await factories.applicant(client)
    deal = await factories.deal(client, brand, brief, creator)
    terms = deal["current_terms"]
    assert terms["usage_rights"] == brief["usage_rights"]
    assert terms["usage_rights"]["countries"] == ["ES", "PT"]
    assert terms["publish_start_date"] == start.isoformat()
    assert terms["publish_end_date"] == end.isoformat()
    # Within a publish window the content is due by its last day.
    assert terms["deliverables"][0]["due_date"] == end.isoformat()


async def test_last_slot_closes_the_brief(client: httpx.AsyncClient) -> None:
    brand, brief, creator = await _scene(client, slots=2)
    late = await factories.applicant(client)
    first = await factories.apply(client, creator, brief)
    waiting = await factories.apply(client, late, brief)
    third = await factories.applicant(client)
    await factories.apply(client, third, brief)

    assert (await _act(client, brand, first["id"], "accept")).status_code == 201
    still = await client.get(f"/v1/briefs/{brief['id']}", headers=brand.headers)
    assert still.json()["status"] == "open"

    assert (await _act(client, brand, waiting["id"], "accept")).status_code == 201
    closed = await client.get(f"/v1/briefs/{brief['id']}", headers=brand.headers)
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_reason"] == "slots_filled"

    listed = await _list(client, brand, f"/v1/briefs/{brief['id']}/applications", sort="newest")
    leftover = listed.json()["items"][0]
    assert leftover["status"] == "submitted"
    assert_problem(await _act(client, brand, leftover["id"], "accept"), 409, "slots_filled")
    # The brief is full, not the application: it may still be declined.
    assert (await _act(client, brand, leftover["id"], "decline")).status_code == 200


async def test_brand_accepts_after_the_deadline_closed_the_brief(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    await factories.expire_deadline(app, brief["id"])
    r = await _act(client, brand, application["id"], "accept")
    assert r.status_code == 201, r.text
    read = await client.get(f"/v1/briefs/{brief['id']}", headers=brand.headers)
    assert read.json()["status"] == "closed"
    assert read.json()["closed_reason"] == "deadline"


async def test_accepting_on_a_cancelled_brief_is_refused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, brief, creator = await _scene(client)
    application = await factories.apply(client, creator, brief)
    r = await client.post(f"/v1/briefs/{brief['id']}/cancel", headers=brand.headers)
    assert r.status_code == 200, r.text

    assert_problem(await _act(client, brand, application["id"], "accept"), 409, "brief_not_open")
    assert await factories.db_rows(app, "SELECT id FROM deals") == []
    r = await client.get(f"/v1/applications/{application['id']}", headers=creator.headers)
    assert r.json()["status"] == "submitted"
