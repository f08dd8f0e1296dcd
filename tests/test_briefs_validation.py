"""Briefs: what drafts accept, every publishing rule, and the rules for changing a brief."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import GIFTED, OMIT

TODAY = datetime.now(UTC).date()


def days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def at(n_days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=n_days)).isoformat()


async def _publish_problem(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    owner = await factories.brand(client)
    draft = await factories.brief(client, owner, **overrides)
    r = await client.post(f"/v1/briefs/{draft['id']}/publish", headers=owner.headers)
    return factories.problem_of(r, 422, "brief_invalid")


# --- publishing: one 422 that names every offending field -----------------------------------


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        pytest.param(
            {"publish_start_date": days(0), "application_deadline": at(-0.01)},
            {"publish_start_date", "application_deadline"},
            id="publish-today",
        ),
        pytest.param(
            {"publish_start_date": days(-3), "application_deadline": at(-5)},
            {"publish_start_date", "application_deadline"},
            id="publish-and-deadline-in-the-past",
        ),
        pytest.param(
            {"application_deadline": at(31)}, {"application_deadline"}, id="deadline-after-publish"
        ),
        pytest.param(
            {"application_deadline": f"{days(30)}T00:00:00Z"},
            {"application_deadline"},
            id="deadline-on-publish-date",
        ),
        pytest.param(
            {"publish_end_date": days(30 + 366)}, {"publish_end_date"}, id="window-too-long"
        ),
        pytest.param(
            {"publish_start_date": OMIT}, {"publish_start_date"}, id="publish-date-missing"
        ),
        pytest.param(
            {"application_deadline": OMIT}, {"application_deadline"}, id="deadline-missing"
        ),
        pytest.param({"slots": OMIT}, {"slots"}, id="slots-missing"),
        pytest.param({"description": OMIT}, {"description"}, id="description-missing"),
        pytest.param(
            {"fee_min_minor": OMIT, "fee_max_minor": OMIT},
            {"fee_min_minor", "fee_max_minor"},
            id="paid-without-fee",
        ),
        pytest.param({"fee_max_minor": 0, "fee_min_minor": 0}, {"fee_max_minor"}, id="zero-fee"),
        pytest.param(
            {**GIFTED, "fee_min_minor": 100, "fee_max_minor": 200},
            {"fee_min_minor", "fee_max_minor"},
            id="gifted-with-fee",
        ),
        pytest.param(
            {
                "compensation_type": "affiliate",
                "fee_min_minor": OMIT,
                "fee_max_minor": OMIT,
            },
            {"commission_rate_percent"},
            id="affiliate-without-commission",
        ),
        pytest.param(
            {"commission_rate_percent": 10}, {"commission_rate_percent"}, id="paid-with-commission"
        ),
        pytest.param(
            {**GIFTED, "gifted_product": OMIT}, {"gifted_product"}, id="gifted-without-product"
        ),
        pytest.param(
            {
                "compensation_type": "affiliate",
                "fee_min_minor": OMIT,
                "fee_max_minor": OMIT,
                "commission_rate_percent": 12.5,
                "gifted_product": {"name": "Free sample"},
            },
            {"gifted_product"},
            id="affiliate-with-gifted-product",
        ),
        pytest.param(
            {
                "compensation_type": "hybrid",
                "fee_min_minor": OMIT,
                "fee_max_minor": OMIT,
                "commission_rate_percent": 8,
            },
            {"fee_min_minor", "fee_max_minor", "gifted_product"},
            id="hybrid-without-fee-or-product",
        ),
        pytest.param(
            {
                "compensation_type": "hybrid",
                "fee_min_minor": OMIT,
                "commission_rate_percent": 8,
            },
            {"fee_min_minor"},
            id="hybrid-with-half-a-fee-range",
        ),
        pytest.param(
            {"collaboration_type": "product_seeding"},
            {"compensation_type"},
            id="product-seeding-must-be-gifted-or-hybrid",
        ),
        pytest.param(
            {"collaboration_type": "affiliate"},
            {"compensation_type"},
            id="affiliate-collaboration-must-pay-commission",
        ),
        pytest.param({"currency": OMIT}, {"currency"}, id="amounts-without-currency"),
        pytest.param({"platforms": []}, {"platforms", "platform"}, id="no-platforms"),
        pytest.param({"deliverables": []}, {"deliverables"}, id="no-deliverables"),
        pytest.param(
            {"deliverables": [{"platform": "tiktok", "format": "short_video"}]},
            {"platform"},
            id="deliverable-on-another-platform",
        ),
        pytest.param(
            {"posting_required": False}, {"posting_required"}, id="optional-posting-on-paid"
        ),
        pytest.param(
            {"disclosure": {"hashtags": [], "paid_partnership_label": False}},
            {"disclosure"},
            id="undisclosed-sponsored-post",
        ),
    ],
)
async def test_publish_rule_names_its_field(
    client: httpx.AsyncClient, overrides: dict[str, Any], fields: set[str]
) -> None:
    problem = await _publish_problem(client, **overrides)
    assert factories.error_fields(problem) == fields, problem["errors"]
    assert all(e["loc"][0] == "brief" for e in problem["errors"])


async def test_publish_lists_every_problem_at_once(client: httpx.AsyncClient) -> None:
    problem = await _publish_problem(
        client,
        description=OMIT,
        publish_start_date=days(-1),
        fee_min_minor=OMIT,
        commission_rate_percent=5,
        slots=OMIT,
        deliverables=[],
    )
    assert factories.error_fields(problem) == {
        "description",
        "publish_start_date",
        "fee_min_minor",
        "commission_rate_percent",
        "slots",
        "deliverables",
        "application_deadline",  # no longer before the (moved) publish date
    }


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="paid"),
        pytest.param(GIFTED, id="gifted"),
        pytest.param({**GIFTED, "posting_required": False}, id="gifted-posting-optional"),
        pytest.param(
            {
                "compensation_type": "affiliate",
                "collaboration_type": "affiliate",
                "fee_min_minor": OMIT,
                "fee_max_minor": OMIT,
                "commission_rate_percent": 15,
            },
            id="affiliate",
        ),
        pytest.param(
            {
                "compensation_type": "hybrid",
                "collaboration_type": "product_seeding",
                "fee_min_minor": OMIT,
                "fee_max_minor": OMIT,
                "commission_rate_percent": 10,
                "gifted_product": {"name": "Trail mix box"},
                "slots": 105,
            },
            id="hybrid-seeding-product-plus-commission",
        ),
        pytest.param(
            {"collaboration_type": "ugc", "disclosure": {"hashtags": []}}, id="ugc-undisclosed"
        ),
        pytest.param({"publish_end_date": days(60)}, id="publish-window"),
        pytest.param({"min_followers": 5_000, "max_followers": 50_000}, id="follower-bounds"),
    ],
)
async def test_valid_briefs_publish(client: httpx.AsyncClient, overrides: dict[str, Any]) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner, **overrides)
    assert brief["status"] == "open"


# --- drafts: incomplete is fine, wrong types are not ------------------------------------------


async def test_draft_saves_an_incomplete_and_inconsistent_brief(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    inconsistent = {
        **GIFTED,
        "fee_min_minor": 10_000,
        "fee_max_minor": 90_000,
        "description": OMIT,
        "slots": OMIT,
        "application_deadline": at(-1),
    }
    brief = await factories.brief(client, owner, **inconsistent)
    assert brief["status"] == "draft"
    assert brief["fee_min_minor"] == 10_000


# --- drafts: ranges are never stored upside down (issue #13, item 16) -----------------------

INVERTED_RANGES = [
    pytest.param(
        {"fee_min_minor": 60_000, "fee_max_minor": 50_000}, "fee_min_minor", id="fee-range"
    ),
    pytest.param(
        {"min_followers": 50_000, "max_followers": 20_000}, "min_followers", id="follower-bounds"
    ),
    pytest.param(
        {"publish_start_date": days(30), "publish_end_date": days(29)},
        "publish_end_date",
        id="publish-window",
    ),
]


@pytest.mark.parametrize(("overrides", "field"), INVERTED_RANGES)
async def test_a_draft_with_a_range_upside_down_is_refused(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    owner = await factories.brand(client)
    r = await client.post(
        "/v1/briefs", json=factories.brief_body(**overrides), headers=owner.headers
    )
    problem = factories.problem_of(r, 422, "brief_invalid")
    assert [e["loc"] for e in problem["errors"]] == [["body", field]]
    mine = await client.get("/v1/briefs", params={"mine": "true"}, headers=owner.headers)
    assert mine.json()["items"] == []


@pytest.mark.parametrize(("overrides", "field"), INVERTED_RANGES)
async def test_a_patch_turning_a_range_upside_down_is_refused(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    owner = await factories.brand(client)
    draft = await factories.brief(client, owner, **dict.fromkeys(overrides, OMIT))
    # One end at a time: the second is checked against the stored first.
    (first, first_value), (second, second_value) = overrides.items()
    r = await client.patch(
        f"/v1/briefs/{draft['id']}",
        json={first: first_value},
        headers={**owner.headers, "If-Match": f'"{draft["version"]}"'},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/v1/briefs/{draft['id']}",
        json={second: second_value},
        headers={**owner.headers, "If-Match": r.headers["etag"]},
    )
    problem = factories.problem_of(r, 422, "brief_invalid")
    assert [e["loc"] for e in problem["errors"]] == [["body", field]]


async def _stored_upside_down(client: httpx.AsyncClient, app: Any) -> tuple[Any, dict[str, Any]]:
    """A draft stored before ranges were checked on write: inverted fee and followers."""
    owner = await factories.brand(client)
    draft = await factories.brief(client, owner)
    await factories.db_execute(
        app,
        "UPDATE briefs SET fee_min_minor = 90000, fee_max_minor = 100,"
        " min_followers = 50000, max_followers = 10 WHERE id = :id",
        id=draft["id"],
    )
    return owner, draft


async def test_a_draft_stored_upside_down_can_always_be_cancelled(
    client: httpx.AsyncClient, app: Any
) -> None:
    owner, draft = await _stored_upside_down(client, app)
    r = await client.post(f"/v1/briefs/{draft['id']}/cancel", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"


async def test_a_draft_stored_upside_down_is_fixed_one_range_at_a_time_and_never_published(
    client: httpx.AsyncClient, app: Any
) -> None:
    owner, draft = await _stored_upside_down(client, app)
    r = await client.post(f"/v1/briefs/{draft['id']}/publish", headers=owner.headers)
    problem = factories.problem_of(r, 422, "brief_invalid")
    assert {"fee_min_minor", "min_followers"} <= factories.error_fields(problem)
    # A change elsewhere is not blocked by the ranges it does not touch.
    r = await client.patch(
        f"/v1/briefs/{draft['id']}",
        json={"fee_max_minor": 100_000},
        headers={**owner.headers, "If-Match": f'"{draft["version"]}"'},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"collaboration_type": "tiktok_dance"}, "collaboration_type", id="bad-enum"),
        pytest.param({"compensation_type": "exposure"}, "compensation_type", id="bad-comp"),
        pytest.param({"platforms": ["myspace"]}, "platforms", id="bad-platform"),
        pytest.param({"tiers": ["giga"]}, "tiers", id="bad-tier"),
        pytest.param({"niches": ["astrology"]}, "niches", id="bad-niche"),
        pytest.param({"slots": 0}, "slots", id="slots-zero"),
        pytest.param({"slots": 1001}, "slots", id="slots-over-1000"),
        pytest.param({"slots": "many"}, "slots", id="slots-not-a-number"),
        pytest.param({"title": "x" * 201}, "title", id="title-too-long"),
        pytest.param({"title": "   "}, "title", id="title-blank"),
        pytest.param({"title": "bad\x00title"}, "title", id="title-nul"),
        pytest.param({"description": "d" * 5_001}, "description", id="description-too-long"),
        pytest.param({"fee_max_minor": 10**30}, "fee_max_minor", id="huge-integer"),
        pytest.param({"fee_min_minor": -1}, "fee_min_minor", id="negative-fee"),
        pytest.param({"currency": "euro"}, "currency", id="bad-currency"),
        pytest.param({"creator_countries": ["Germany"]}, "creator_countries", id="bad-country"),
        pytest.param({"commission_rate_percent": 0}, "commission_rate_percent", id="no-commission"),
        pytest.param({"commission_rate_percent": 101}, "commission_rate_percent", id="over-100"),
        pytest.param({"min_engagement_rate": 1.5}, "min_engagement_rate", id="rate-above-1"),
        pytest.param(
            {"application_deadline": "2027-01-01T12:00:00"}, "application_deadline", id="naive"
        ),
        pytest.param({"publish_start_date": "next week"}, "publish_start_date", id="bad-date"),
        pytest.param(
            {"deliverables": [{"platform": "instagram", "format": "reel"}] * 2},
            "deliverables",
            id="duplicate-deliverable",
        ),
        pytest.param(
            {
                "deliverables": [
                    {"platform": p, "format": f}
                    for p in ("instagram", "tiktok", "youtube")
                    for f in (
                        "post",
                        "reel",
                        "story",
                        "live",
                        "carousel",
                        "short_video",
                        "ugc_photo",
                    )
                ]
            },
            "deliverables",
            id="21-deliverables",
        ),
        pytest.param(
            {"deliverables": [{"platform": "instagram", "format": "reel", "quantity": 51}]},
            "quantity",
            id="deliverable-quantity",
        ),
        pytest.param(
            {"screening_questions": [{"question": f"Q{i}?"} for i in range(11)]},
            "screening_questions",
            id="11-questions",
        ),
        pytest.param(
            {"screening_questions": [{"question": "q" * 501}]}, "question", id="long-question"
        ),
        pytest.param({"disclosure": {"hashtags": ["ad"]}}, "hashtags", id="hashtag-without-#"),
        pytest.param({"disclosure": {"mentions": ["brand"]}}, "mentions", id="mention-without-@"),
        pytest.param(
            {"target_audience": {"age_min": 35, "age_max": 18}}, "age_max", id="age-range-inverted"
        ),
        pytest.param({"target_audience": {"genders": ["robot"]}}, "genders", id="unknown-gender"),
        pytest.param(
            {
                "usage_rights": {
                    "channels": ["organic_social"],
                    "perpetual": True,
                    "duration_days": 30,
                }
            },
            "duration_days",
            id="perpetual-with-duration",
        ),
        pytest.param(
            {"usage_rights": {"channels": ["organic_social"]}},
            "duration_days",
            id="rights-without-duration",
        ),
        pytest.param(
            {"usage_rights": {"channels": [], "duration_days": 30}}, "channels", id="no-channels"
        ),
        pytest.param(
            {"usage_rights": {"channels": ["tv"], "duration_days": 30}},
            "channels",
            id="bad-channel",
        ),
        pytest.param(
            {"usage_rights": {"channels": ["website"], "duration_days": 30, "worldwide": False}},
            "countries",
            id="territory-without-countries",
        ),
        pytest.param(
            {
                "usage_rights": {
                    "channels": ["organic_social"],
                    "duration_days": 30,
                    "ad_permission": "allowlisting",
                }
            },
            "ad_permission",
            id="ads-without-paid-social",
        ),
        pytest.param(
            {
                "usage_rights": {
                    "channels": ["paid_social"],
                    "duration_days": 30,
                    "ad_permission": "spark_code",
                    "ad_start_date": "2027-03-01",
                    "ad_end_date": "2027-02-01",
                }
            },
            "ad_end_date",
            id="ad-window-inverted",
        ),
        pytest.param(
            {
                "usage_rights": {
                    "channels": ["organic_social"],
                    "duration_days": 30,
                    "exclusivity_days": 30,
                }
            },
            "exclusivity_categories",
            id="exclusivity-without-categories",
        ),
        pytest.param({"version": 9}, "version", id="unknown-field"),
        pytest.param({"status": "open"}, "status", id="status-is-not-writable"),
    ],
)
async def test_create_rejects_bad_input_naming_the_field(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    owner = await factories.brand(client)
    r = await client.post(
        "/v1/briefs", json=factories.brief_body(**overrides), headers=owner.headers
    )
    problem = factories.problem_of(r, 422, "validation_error")
    assert field in factories.error_fields(problem), problem["errors"]
    assert "bad\x00title" not in r.text  # the input is never echoed back


async def test_create_rejects_a_body_that_is_not_an_object(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    r = await client.post("/v1/briefs", json=[1, 2, 3], headers=owner.headers)
    factories.problem_of(r, 422, "validation_error")


# --- PATCH: If-Match, and what each state may change ------------------------------------------


async def _patch(
    client: httpx.AsyncClient, owner: factories.Actor, brief: dict[str, Any], body: Any, tag: str
) -> httpx.Response:
    return await client.patch(
        f"/v1/briefs/{brief['id']}", json=body, headers={**owner.headers, "If-Match": tag}
    )


async def test_patch_without_if_match_is_428(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    r = await client.patch(f"/v1/briefs/{brief['id']}", json={"slots": 8}, headers=owner.headers)
    factories.problem_of(r, 428, "precondition_required")


async def test_patch_with_a_stale_etag_is_412_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    first = await _patch(client, owner, brief, {"slots": 8}, '"1"')
    assert first.status_code == 200, first.text
    second = await _patch(client, owner, brief, {"slots": 9}, '"1"')
    factories.problem_of(second, 412, "precondition_failed")
    current = await client.get(f"/v1/briefs/{brief['id']}", headers=owner.headers)
    assert current.json()["slots"] == 8
    assert current.headers["etag"] == '"2"'


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', "*", '"5", "1"'])
async def test_patch_accepts_a_matching_if_match(client: httpx.AsyncClient, tag: str) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    r = await _patch(client, owner, brief, {"title": "Autumn glow"}, tag)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Autumn glow"
    assert r.headers["etag"] == '"2"'


async def test_draft_may_change_anything_and_clear_nullable_fields(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    body = {
        "collaboration_type": "product_review",
        "fee_min_minor": None,
        "fee_max_minor": 40_000,
        "platforms": ["youtube"],
        "deliverables": [{"platform": "youtube", "format": "long_video", "quantity": 2}],
        "publish_start_date": days(45),
        "target_audience": {"countries": ["de", "AT"], "genders": ["female"], "age_min": 18},
        "screening_questions": [{"question": "Do you have a dog?", "required": False}],
    }
    r = await _patch(client, owner, brief, body, '"1"')
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["fee_min_minor"] is None
    assert changed["deliverables"] == [
        {"platform": "youtube", "format": "long_video", "quantity": 2, "alternatives": []}
    ]
    assert changed["target_audience"]["countries"] == ["DE", "AT"]
    assert changed["version"] == 2


async def test_patch_may_not_null_a_required_field(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    r = await _patch(client, owner, brief, {"title": None, "platforms": None}, '"1"')
    problem = factories.problem_of(r, 422, "validation_error")
    assert factories.error_fields(problem) == {"title", "platforms"}


async def test_patch_checks_types_like_create(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    body = {"slots": 0, "platforms": ["myspace"], "colour": "red"}
    r = await _patch(client, owner, brief, body, '"1"')
    problem = factories.problem_of(r, 422, "validation_error")
    assert factories.error_fields(problem) == {"slots", "platforms", "colour"}


async def test_patch_that_changes_nothing_keeps_the_version(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    same = {"title": brief["title"], "slots": brief["slots"], "platforms": brief["platforms"]}
    r = await _patch(client, owner, brief, same, '"1"')
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("body", "check"),
    [
        pytest.param({"description": "Now with a sunscreen step."}, "description", id="desc"),
        pytest.param({"application_deadline": at(20)}, "application_deadline", id="later"),
        pytest.param({"slots": 12}, "slots", id="more-slots"),
    ],
)
async def test_open_brief_accepts_harmless_changes(
    client: httpx.AsyncClient, body: dict[str, Any], check: str
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    r = await _patch(client, owner, brief, body, '"2"')
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "open"
    assert r.json()["version"] == 3
    if check == "application_deadline":
        sent = datetime.fromisoformat(body[check])
        assert datetime.fromisoformat(r.json()[check]) == sent
    else:
        assert r.json()[check] == body[check]


@pytest.mark.parametrize(
    ("body", "locked"),
    [
        pytest.param({"title": "Bait and switch"}, {"title"}, id="title"),
        pytest.param({"fee_max_minor": 30_000}, {"fee_max_minor"}, id="fee"),
        pytest.param({"slots": 2}, {"slots"}, id="fewer-slots"),
        pytest.param({"application_deadline": at(3)}, {"application_deadline"}, id="earlier"),
        pytest.param({"application_deadline": None}, {"application_deadline"}, id="no-deadline"),
        pytest.param({"publish_start_date": days(40)}, {"publish_start_date"}, id="publish-date"),
        pytest.param(
            {"usage_rights": {"channels": ["organic_social"], "perpetual": True}},
            {"usage_rights"},
            id="usage-rights",
        ),
        pytest.param(
            {"deliverables": [{"platform": "instagram", "format": "reel", "quantity": 3}]},
            {"deliverables"},
            id="deliverables",
        ),
        pytest.param(
            {"description": "Fine", "niches": ["food"], "tiers": ["mega"]},
            {"niches", "tiers"},
            id="several",
        ),
    ],
)
async def test_open_brief_refuses_changes_that_could_harm_applicants(
    client: httpx.AsyncClient, body: dict[str, Any], locked: set[str]
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    r = await _patch(client, owner, brief, body, '"2"')
    problem = factories.problem_of(r, 409, "brief_locked")
    assert factories.error_fields(problem) == locked
    current = await client.get(f"/v1/briefs/{brief['id']}", headers=owner.headers)
    assert current.json()["version"] == 2


async def test_open_brief_accepts_unchanged_values_of_locked_fields(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    body = {"title": brief["title"], "fee_max_minor": brief["fee_max_minor"], "slots": 6}
    r = await _patch(client, owner, brief, body, '"2"')
    assert r.status_code == 200, r.text
    assert r.json()["slots"] == 6


async def test_open_brief_deadline_stays_before_the_publish_date(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    r = await _patch(client, owner, brief, {"application_deadline": at(40)}, '"2"')
    problem = factories.problem_of(r, 422, "brief_invalid")
    assert factories.error_fields(problem) == {"application_deadline"}


async def test_open_brief_keeps_a_description(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    r = await _patch(client, owner, brief, {"description": None}, '"2"')
    problem = factories.problem_of(r, 422, "brief_invalid")
    assert factories.error_fields(problem) == {"description"}


@pytest.mark.parametrize(
    "actions", [["publish", "close"], ["publish", "close", "complete"], ["cancel"]]
)
async def test_closed_completed_and_cancelled_briefs_cannot_change(
    client: httpx.AsyncClient, actions: list[str]
) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    for action in actions:
        r = await client.post(f"/v1/briefs/{brief['id']}/{action}", headers=owner.headers)
        brief = r.json()
    r = await _patch(client, owner, brief, {"description": "x"}, f'"{brief["version"]}"')
    factories.problem_of(r, 409, "invalid_state")
