"""Applying to a brief: open and before its deadline, once, by an eligible creator."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import (
    GIFTED,
    OMIT,
    application_body,
    assert_problem,
    error_fields,
    problem_of,
)

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def _post(
    client: httpx.AsyncClient, actor: factories.Actor, brief_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/v1/briefs/{brief_id}/applications", json=body, headers=actor.headers
    )


def _unmet(problem: dict[str, Any]) -> dict[str, str]:
    """The unmet requirements a 422 `ineligible` lists, by name, with their messages."""
    out = {}
    for error in problem["errors"]:
        assert error["loc"][0] == "requirement", error
        assert error["type"] == "ineligible", error
        out[error["loc"][1]] = error["msg"]
    return out


# --- success --------------------------------------------------------------------------------


async def test_creator_applies_to_an_open_brief(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client,
        brand,
        screening_questions=[
            {"question": "Have you used a vitamin C serum before?"},
            {"question": "Anything else?", "required": False},
        ],
    )
    creator = await factories.applicant(client)
    body = application_body(
        creator,
        answers=[{"question_index": 0, "answer": "Yes, every morning."}],
        available_for_publish_date=False,
    )
    r = await _post(client, creator, brief["id"], body)
    assert r.status_code == 201, r.text
    application = r.json()
    assert application["status"] == "submitted"
    assert application["brief_id"] == brief["id"]
    assert application["creator_id"] == str(creator.creator_id)
    assert application["invitation_id"] is None
    assert application["pitch"] == body["pitch"]
    assert application["account_ids"] == creator.extra["account_ids"]
    assert application["proposed_fee_minor"] == 30_000
    assert application["currency"] == "EUR"
    assert application["answers"] == [{"question_index": 0, "answer": "Yes, every morning."}]
    assert application["available_for_publish_date"] is False
    assert application["decided_at"] is None

    stored = await client.get(f"/v1/applications/{application['id']}", headers=creator.headers)
    assert stored.status_code == 200, stored.text
    assert stored.json() == application


async def test_application_stores_its_match_score_with_its_parts(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, fee_max_minor=50_000)
    fitting = await factories.applicant(client)
    pricey = await factories.applicant(client, profile={"niches": ["gaming"]})

    good = await factories.apply(client, fitting, brief, proposed_fee_minor=40_000)
    poor = await factories.apply(client, pricey, brief, proposed_fee_minor=100_000)

    for application in (good, poor):
        assert 0 <= application["match_score"] <= 1
        parts = application["match_parts"]
        # The same named parts as the matching endpoints (see api/matching/service.py).
        assert {"niche_overlap", "price_fit", "tier_fit", "reliability"} <= set(parts)
        assert all(0 <= value <= 1 for value in parts.values())
    assert good["match_parts"]["niche_overlap"] == 1
    assert good["match_parts"]["price_fit"] == 1
    assert poor["match_parts"]["niche_overlap"] == 0
    assert poor["match_parts"]["price_fit"] == pytest.approx(0.5)
    assert good["match_score"] > poor["match_score"]


async def test_application_is_announced_as_an_event(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    application = await factories.apply(client, creator, brief)

    events = await factories.db_rows(
        app,
        "SELECT type, brand_id, creator_id, payload FROM outbox_events"
        " WHERE type NOT LIKE 'brief.%'",
    )
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "application.created"
    assert event["brand_id"] == brand.brand_id
    assert event["creator_id"] == creator.creator_id
    assert event["payload"]["id"] == application["id"]
    assert event["payload"]["status"] == "submitted"


async def test_failed_application_leaves_no_trace(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, creator_countries=["DE"])
    creator = await factories.applicant(client)
    r = await _post(client, creator, brief["id"], application_body(creator))
    problem_of(r, 422, "ineligible")

    assert await factories.db_rows(app, "SELECT id FROM applications") == []
    assert (
        await factories.db_rows(app, "SELECT id FROM outbox_events WHERE type NOT LIKE 'brief.%'")
        == []
    )


# --- the brief must be open, before its deadline ----------------------------------------------


async def test_creator_cannot_see_or_apply_to_a_draft(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    draft = await factories.brief(client, brand)
    creator = await factories.applicant(client)
    r = await _post(client, creator, draft["id"], application_body(creator))
    assert_problem(r, 404, "not_found")


async def test_creator_cannot_apply_to_an_unknown_brief(client: httpx.AsyncClient) -> None:
    creator = await factories.applicant(client)
    r = await _post(client, creator, UNKNOWN_ID, application_body(creator))
    assert_problem(r, 404, "not_found")


@pytest.mark.parametrize(
    "actions",
    [["close"], ["close", "complete"], ["cancel"]],
    ids=["closed", "completed", "cancelled"],
)
async def test_creator_cannot_apply_to_a_brief_that_is_not_open(
    client: httpx.AsyncClient, actions: list[str]
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    for action in actions:
        r = await client.post(f"/v1/briefs/{brief['id']}/{action}", headers=brand.headers)
        assert r.status_code == 200, r.text
    creator = await factories.applicant(client)
    r = await _post(client, creator, brief["id"], application_body(creator))
    if actions == ["cancel"]:
        # A cancelled brief is private to its brand: unknown and forbidden answer alike.
        assert_problem(r, 404, "not_found")
    else:
        assert_problem(r, 409, "brief_not_open")


async def test_creator_cannot_apply_after_the_deadline(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    await factories.expire_deadline(app, brief["id"])

    r = await _post(client, creator, brief["id"], application_body(creator))
    assert_problem(r, 409, "brief_not_open")
    read = await client.get(f"/v1/briefs/{brief['id']}", headers=creator.headers)
    assert read.json()["status"] == "closed"
    assert read.json()["closed_reason"] == "deadline"


# --- hard requirements --------------------------------------------------------------------------

TIKTOK_BRIEF = {
    "platforms": ["tiktok"],
    "deliverables": [{"platform": "tiktok", "format": "short_video", "quantity": 1}],
}
# The default account: Instagram, 48,200 followers (micro), engagement (2150 + 96) / 48200 = 4.66 %.
REQUIREMENTS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # name, brief overrides, (ineligible profile, account), (eligible profile, account)
    ("platform", TIKTOK_BRIEF, {}, {}, {"platform": "tiktok"}),
    ("followers", {"tiers": ["macro"]}, {}, {}, {"followers": 150_000, "avg_likes": 4_000}),
    (
        "followers",
        {"tiers": ["micro"], "min_followers": 50_000, "max_followers": 200_000},
        {},
        {},
        {"followers": 150_000, "avg_likes": 4_000},
    ),
    ("country", {"creator_countries": ["DE", "AT"]}, {}, {"country": "AT"}, {}),
    ("engagement_rate", {"min_engagement_rate": 0.05}, {}, {}, {"avg_likes": 2_500}),
    ("accepts_gifting", GIFTED, {"accepts_gifting": False}, {"accepts_gifting": True}, {}),
]


@pytest.mark.parametrize(
    ("requirement", "brief_overrides", "ineligible_profile", "eligible_profile", "account"),
    REQUIREMENTS,
    ids=["platform", "tier", "follower-bounds", "country", "engagement-rate", "gifting"],
)
async def test_each_hard_requirement_is_checked_at_apply_time(
    client: httpx.AsyncClient,
    requirement: str,
    brief_overrides: dict[str, Any],
    ineligible_profile: dict[str, Any],
    eligible_profile: dict[str, Any],
    account: dict[str, Any],
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **brief_overrides)
    fee = 30_000 if brief["compensation_type"] == "paid" else OMIT

    missing = await factories.applicant(client, profile=ineligible_profile)
    r = await _post(client, missing, brief["id"], application_body(missing, proposed_fee_minor=fee))
    problem = assert_problem(r, 422, "ineligible")
    assert set(_unmet(problem)) == {requirement}

    meeting = await factories.applicant(client, profile=eligible_profile, **account)
    r = await _post(client, meeting, brief["id"], application_body(meeting, proposed_fee_minor=fee))
    assert r.status_code == 201, r.text


async def test_explicit_follower_bounds_rule_over_tiers(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    # 48,200 followers is a micro account, outside the macro tier but within the bounds.
    brief = await factories.open_brief(
        client, brand, tiers=["macro"], min_followers=40_000, max_followers=60_000
    )
    creator = await factories.applicant(client)
    await factories.apply(client, creator, brief)


async def test_ineligible_creator_learns_every_unmet_requirement_at_once(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client, brand, tiers=["macro"], min_engagement_rate=0.1, creator_countries=["DE"]
    )
    creator = await factories.applicant(client)
    r = await _post(client, creator, brief["id"], application_body(creator))
    problem = assert_problem(r, 422, "ineligible")
    unmet = _unmet(problem)
    assert set(unmet) == {"followers", "engagement_rate", "country"}
    # Each says what was required and what the creator has.
    assert "macro" in unmet["followers"]
    assert "48,200" in unmet["followers"]
    assert "10.00%" in unmet["engagement_rate"]
    assert "4.66%" in unmet["engagement_rate"]
    assert "DE" in unmet["country"]
    assert "ES" in unmet["country"]


async def test_gifted_brief_lists_platform_country_and_gifting_together(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client, brand, **GIFTED, **TIKTOK_BRIEF, creator_countries=["FR"]
    )
    creator = await factories.applicant(client, profile={"accepts_gifting": False})
    r = await _post(
        client, creator, brief["id"], application_body(creator, proposed_fee_minor=OMIT)
    )
    problem = assert_problem(r, 422, "ineligible")
    assert set(_unmet(problem)) == {"platform", "country", "accepts_gifting"}


async def test_creator_without_a_country_misses_a_country_requirement(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, creator_countries=["ES"])
    creator = await factories.creator(client, accounts=[{}])
    me = await client.get("/v1/creators/me", headers=creator.headers)
    creator.extra["account_ids"] = [a["id"] for a in me.json()["accounts"]]
    r = await _post(client, creator, brief["id"], application_body(creator))
    assert set(_unmet(assert_problem(r, 422, "ineligible"))) == {"country"}


async def test_size_and_engagement_must_hold_on_the_same_account(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client,
        brand,
        platforms=["instagram", "tiktok"],
        tiers=["macro"],
        min_engagement_rate=0.05,
    )
    # A macro account that engages at 2.7 %, and a nano account that engages at 10 %.
    creator = await factories.creator(
        client,
        profile={"country": "ES"},
        accounts=[
            {"followers": 150_000, "avg_likes": 4_000, "avg_comments": 50},
            {"platform": "tiktok", "followers": 5_000, "avg_likes": 480, "avg_comments": 20},
        ],
    )
    me = await client.get("/v1/creators/me", headers=creator.headers)
    creator.extra["account_ids"] = [a["id"] for a in me.json()["accounts"]]
    r = await _post(client, creator, brief["id"], application_body(creator))
    unmet = _unmet(assert_problem(r, 422, "ineligible"))
    assert set(unmet) == {"engagement_rate"}
    assert "2.70%" in unmet["engagement_rate"]


async def test_one_qualifying_account_is_enough(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **TIKTOK_BRIEF)
    creator = await factories.creator(
        client,
        profile={"country": "ES"},
        accounts=[{}, {"platform": "tiktok", "handle": "@someone.tt"}],
    )
    me = await client.get("/v1/creators/me", headers=creator.headers)
    creator.extra["account_ids"] = [a["id"] for a in me.json()["accounts"]]
    application = await factories.apply(client, creator, brief)
    assert sorted(application["account_ids"]) == sorted(creator.extra["account_ids"])


# --- fee, screening answers, accounts -------------------------------------------------------------


async def test_paid_brief_needs_a_proposed_fee(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    r = await _post(
        client, creator, brief["id"], application_body(creator, proposed_fee_minor=OMIT)
    )
    problem = assert_problem(r, 422, "validation_error")
    assert error_fields(problem) == {"proposed_fee_minor"}


async def test_gifted_brief_refuses_a_proposed_fee(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **GIFTED)
    creator = await factories.applicant(client)
    r = await _post(
        client, creator, brief["id"], application_body(creator, proposed_fee_minor=10_000)
    )
    problem = assert_problem(r, 422, "validation_error")
    assert error_fields(problem) == {"proposed_fee_minor"}

    application = await factories.apply(client, creator, brief)
    assert application["proposed_fee_minor"] is None
    assert application["currency"] is None


HYBRID_WITH_FEE = {"compensation_type": "hybrid", "commission_rate_percent": 10}
HYBRID_PRODUCT_AND_COMMISSION = {
    **HYBRID_WITH_FEE,
    "fee_min_minor": OMIT,
    "fee_max_minor": OMIT,
    "gifted_product": {"name": "Serum trio", "retail_value_minor": 7_500},
}


async def test_hybrid_brief_with_a_fee_range_needs_a_proposed_fee(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **HYBRID_WITH_FEE)
    creator = await factories.applicant(client)
    r = await _post(
        client, creator, brief["id"], application_body(creator, proposed_fee_minor=OMIT)
    )
    assert error_fields(assert_problem(r, 422, "validation_error")) == {"proposed_fee_minor"}

    application = await factories.apply(client, creator, brief, proposed_fee_minor=35_000)
    assert application["proposed_fee_minor"] == 35_000


async def test_hybrid_brief_of_product_and_commission_takes_no_fee(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **HYBRID_PRODUCT_AND_COMMISSION)
    creator = await factories.applicant(client)
    r = await _post(
        client, creator, brief["id"], application_body(creator, proposed_fee_minor=30_000)
    )
    assert error_fields(assert_problem(r, 422, "validation_error")) == {"proposed_fee_minor"}

    application = await factories.apply(client, creator, brief, proposed_fee_minor=OMIT)
    assert application["proposed_fee_minor"] is None


async def test_required_screening_questions_must_be_answered(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client,
        brand,
        screening_questions=[
            {"question": "Have you used a vitamin C serum before?"},
            {"question": "Your skin type?", "required": False},
            {"question": "Can you film in daylight?"},
        ],
    )
    creator = await factories.applicant(client)
    r = await _post(
        client,
        creator,
        brief["id"],
        application_body(creator, answers=[{"question_index": 0, "answer": "Yes"}]),
    )
    problem = assert_problem(r, 422, "validation_error")
    assert [e["loc"] for e in problem["errors"]] == [["body", "answers"]]
    assert "daylight" in problem["errors"][0]["msg"]

    answers = [
        {"question_index": 2, "answer": "Yes, by the window."},
        {"question_index": 0, "answer": "Yes"},
    ]
    application = await factories.apply(client, creator, brief, answers=answers)
    assert application["answers"] == answers


@pytest.mark.parametrize(
    "answers",
    [
        [{"question_index": 1, "answer": "There is no second question"}],
        [{"question_index": 0, "answer": "Yes"}, {"question_index": 0, "answer": "Again"}],
    ],
    ids=["unknown-question", "answered-twice"],
)
async def test_answers_must_match_the_questions(
    client: httpx.AsyncClient, answers: list[dict[str, Any]]
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(
        client, brand, screening_questions=[{"question": "Used vitamin C before?"}]
    )
    creator = await factories.applicant(client)
    r = await _post(client, creator, brief["id"], application_body(creator, answers=answers))
    problem = assert_problem(r, 422, "validation_error")
    assert "question_index" in error_fields(problem)


async def test_creator_offers_only_their_own_accounts(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    other = await factories.applicant(client)
    for account_ids in (
        other.extra["account_ids"],
        [*creator.extra["account_ids"], *other.extra["account_ids"]],
        [str(uuid.uuid4())],
    ):
        r = await _post(
            client, creator, brief["id"], application_body(creator, account_ids=account_ids)
        )
        problem = assert_problem(r, 422, "unknown_account")
        assert error_fields(problem) == {"account_ids"}


# --- once per brief ---------------------------------------------------------------------------


async def test_creator_cannot_apply_twice(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    await factories.apply(client, creator, brief)
    r = await _post(client, creator, brief["id"], application_body(creator))
    assert_problem(r, 409, "already_applied")
    rows = await factories.db_rows(app, "SELECT id FROM applications")
    assert len(rows) == 1


async def test_withdrawn_application_still_counts_as_the_one_application(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    application = await factories.apply(client, creator, brief)
    r = await client.post(f"/v1/applications/{application['id']}/withdraw", headers=creator.headers)
    assert r.status_code == 200, r.text
    r = await _post(client, creator, brief["id"], application_body(creator))
    assert_problem(r, 409, "already_applied")


# --- who may apply ----------------------------------------------------------------------------


async def test_brand_cannot_apply(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    other_brand = await factories.brand(client, name="Other Co")
    body = {"pitch": "We would like to", "account_ids": [str(uuid.uuid4())]}
    for actor in (brand, other_brand):
        r = await _post(client, actor, brief["id"], body)
        assert_problem(r, 403, "creator_only")


async def test_admin_cannot_apply(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    admin = await factories.admin(client, app)
    r = await _post(client, admin, brief["id"], {"pitch": "Hi", "account_ids": [UNKNOWN_ID]})
    assert_problem(r, 403, "creator_only")


async def test_anonymous_cannot_apply(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json={"pitch": "Hi", "account_ids": [UNKNOWN_ID]},
    )
    assert_problem(r, 401, "not_authenticated")


async def test_api_token_needs_applications_write_to_apply(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    body = application_body(creator)

    reader = await factories.api_token(client, creator, ["applications:read", "briefs:read"])
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json=body,
        headers=factories.bearer(reader["token"]),
    )
    assert_problem(r, 403, "insufficient_scope")

    writer = await factories.api_token(client, creator, ["applications:write"])
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json=body,
        headers=factories.bearer(writer["token"]),
    )
    assert r.status_code == 201, r.text


# --- hostile and malformed input --------------------------------------------------------------


MALFORMED = {
    "unknown-field": ({"shoe_size": 42}, "shoe_size"),
    "nul-in-pitch": ({"pitch": "Hello\x00world"}, "pitch"),
    "blank-pitch": ({"pitch": "   "}, "pitch"),
    "huge-pitch": ({"pitch": "x" * 5_001}, "pitch"),
    "no-pitch": ({"pitch": OMIT}, "pitch"),
    "huge-fee": ({"proposed_fee_minor": 10**30}, "proposed_fee_minor"),
    "negative-fee": ({"proposed_fee_minor": -1}, "proposed_fee_minor"),
    "fractional-fee": ({"proposed_fee_minor": 300.5}, "proposed_fee_minor"),
    "text-fee": ({"proposed_fee_minor": "lots"}, "proposed_fee_minor"),
    "no-accounts": ({"account_ids": []}, "account_ids"),
    "bad-account-id": ({"account_ids": ["not-a-uuid"]}, "account_ids"),
    "too-many-accounts": ({"account_ids": [str(uuid.uuid4()) for _ in range(11)]}, "account_ids"),
    "huge-question-index": (
        {"answers": [{"question_index": 10**20, "answer": "x"}]},
        "question_index",
    ),
    "nul-in-answer": ({"answers": [{"question_index": 0, "answer": "a\x00"}]}, "answer"),
    "unknown-answer-field": (
        {"answers": [{"question_index": 0, "answer": "x", "extra": 1}]},
        "extra",
    ),
    "text-availability": ({"available_for_publish_date": "perhaps"}, "available_for_publish_date"),
}


@pytest.mark.parametrize(("change", "field"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_application_is_a_422_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    r = await _post(client, creator, brief["id"], application_body(creator, **change))
    problem = assert_problem(r, 422, "validation_error")
    assert field in error_fields(problem)


async def test_non_object_body_is_a_422(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    for body in ([], "pitch", 12, None):
        r = await _post(client, creator, brief["id"], body)  # type: ignore[arg-type]
        assert_problem(r, 422, "validation_error")
