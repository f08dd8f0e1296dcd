"""Deal terms: versions proposed by either party, accepted only by the other, immutable once
accepted; `If-Match` guards proposals; acceptance activates the deal and its deliverables."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from tests import factories
from tests.factories import Actor, assert_problem


async def _setup(client: httpx.AsyncClient, **brief: Any) -> tuple[Actor, Actor, dict[str, Any]]:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    opened = await factories.open_brief(client, brand, **brief)
    return brand, creator, await factories.deal(client, brand, opened, creator)


async def _etag(client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any]) -> str:
    r = await client.get(f"/v1/deals/{deal['id']}", headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.headers["etag"]


async def _propose(
    client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any], body: dict[str, Any]
) -> httpx.Response:
    etag = await _etag(client, actor, deal)
    return await client.post(
        f"/v1/deals/{deal['id']}/terms", json=body, headers={**actor.headers, "If-Match": etag}
    )


async def _history(client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any]) -> list[Any]:
    r = await client.get(f"/v1/deals/{deal['id']}/terms", headers=actor.headers)
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


async def test_creator_accepts_first_terms_and_the_deal_becomes_active(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    deliverables = [
        {"platform": "instagram", "format": "reel", "quantity": 2},
        {"platform": "instagram", "format": "story", "quantity": 1},
    ]
    brand, creator, deal = await _setup(client, deliverables=deliverables)
    assert deal["status"] == "pending_terms"
    assert deal["current_terms"]["status"] == "proposed"
    assert deal["current_terms"]["proposed_by"] == "brand"
    assert await factories.deliverables(client, brand, deal) == []

    r = await client.post(f"/v1/deals/{deal['id']}/terms/1/accept", headers=creator.headers)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1.1"'
    active = r.json()
    assert active["status"] == "active"
    assert active["accepted_version"] == 1
    assert active["activated_at"] is not None
    terms = active["current_terms"]
    assert (terms["status"], terms["accepted"], terms["accepted_by"]) == (
        "accepted",
        True,
        "creator",
    )
    assert terms["accepted_by_user_id"] == str(creator.user_id)
    assert terms["proposed_by_user_id"] == str(brand.user_id)

    units = await factories.deliverables(client, creator, deal)
    kinds = [(u["format"], u["unit"], u["status"]) for u in units]
    assert kinds == [("reel", 1, "pending"), ("reel", 2, "pending"), ("story", 1, "pending")]
    assert {u["due_date"] for u in units} == {terms["publish_start_date"]}
    assert units[0]["disclosure"] == terms["disclosure"]
    assert len(await factories.deal_events(app, deal["id"], "deal.terms_accepted")) == 1


async def test_the_proposer_cannot_accept_its_own_terms(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, deal = await _setup(client)
    r = await client.post(f"/v1/deals/{deal['id']}/terms/1/accept", headers=brand.headers)
    assert_problem(r, 403, "own_proposal")
    r = await client.get(f"/v1/deals/{deal['id']}", headers=brand.headers)
    assert r.json()["status"] == "pending_terms"
    assert r.json()["current_terms"]["accepted"] is False

    # The creator's counter-proposal: now only the brand may accept.
    r = await _propose(client, creator, deal, {"fee_minor": 45_000})
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["proposed_by"]) == (2, "creator")
    r = await client.post(f"/v1/deals/{deal['id']}/terms/2/accept", headers=creator.headers)
    assert_problem(r, 403, "own_proposal")
    accepted = await factories.accept_terms(client, brand, {**deal, "current_version": 2})
    assert accepted["current_terms"]["fee_minor"] == 45_000
    assert accepted["current_terms"]["accepted_by"] == "brand"
    assert accepted["status"] == "active"
    assert len(await factories.deal_events(app, deal["id"], "deal.terms_proposed")) == 1


async def test_a_proposal_needs_a_current_if_match(client: httpx.AsyncClient) -> None:
    brand, creator, deal = await _setup(client)
    path = f"/v1/deals/{deal['id']}/terms"
    body = {"fee_minor": 40_000}

    r = await client.post(path, json=body, headers=creator.headers)
    assert_problem(r, 428, "precondition_required")
    etag = await _etag(client, creator, deal)
    assert etag == '"1.0"'
    r = await client.post(path, json=body, headers={**creator.headers, "If-Match": '"7.0"'})
    assert_problem(r, 412, "precondition_failed")

    r = await client.post(path, json=body, headers={**creator.headers, "If-Match": etag})
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"2.0"'
    assert r.headers["location"] == f"/v1/deals/{deal['id']}/terms/2"
    # The brand read the deal before that proposal: its tag is stale now.
    r = await client.post(
        path, json={"fee_minor": 35_000}, headers={**brand.headers, "If-Match": etag}
    )
    assert_problem(r, 412, "precondition_failed")
    # A weak comparison form and a list of tags are understood.
    r = await client.post(
        path, json={"fee_minor": 35_000}, headers={**brand.headers, "If-Match": 'W/"2.0", "x"'}
    )
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"3.0"'
    r = await client.post(f"{path}/3/accept", headers=creator.headers)
    assert r.headers["etag"] == '"3.3"'
    assert await _etag(client, brand, deal) == '"3.3"'
    # Acceptance changed the tag: a proposal based on "3.0" is stale.
    r = await client.post(
        path, json={"fee_minor": 36_000}, headers={**brand.headers, "If-Match": '"3.0"'}
    )
    assert_problem(r, 412, "precondition_failed")


async def test_only_the_current_version_can_be_accepted_and_only_once(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal = await _setup(client)
    assert (await _propose(client, creator, deal, {"fee_minor": 40_000})).status_code == 201
    # Version 1 was the brand's: the creator's counter-proposal replaced it.
    r = await client.post(f"/v1/deals/{deal['id']}/terms/1/accept", headers=creator.headers)
    assert_problem(r, 409, "superseded")
    assert (await _propose(client, brand, deal, {"fee_minor": 35_000})).status_code == 201
    r = await client.post(f"/v1/deals/{deal['id']}/terms/2/accept", headers=brand.headers)
    assert_problem(r, 409, "superseded")
    r = await client.post(f"/v1/deals/{deal['id']}/terms/9/accept", headers=creator.headers)
    assert_problem(r, 404, "not_found")
    await factories.accept_terms(client, creator, {**deal, "current_version": 3})
    r = await client.post(f"/v1/deals/{deal['id']}/terms/3/accept", headers=brand.headers)
    assert_problem(r, 403, "own_proposal")
    r = await client.post(f"/v1/deals/{deal['id']}/terms/3/accept", headers=creator.headers)
    assert_problem(r, 409, "already_accepted")

    history = await _history(client, brand, deal)
    assert [(t["version"], t["status"], t["proposed_by"]) for t in history] == [
        (3, "accepted", "brand"),
        (2, "superseded", "creator"),
        (1, "superseded", "brand"),
    ]
    r = await client.get(f"/v1/deals/{deal['id']}/terms/2", headers=creator.headers)
    assert r.json()["fee_minor"] == 40_000
    r = await client.get(f"/v1/deals/{deal['id']}/terms/4", headers=creator.headers)
    assert_problem(r, 404, "not_found")


async def test_an_accepted_version_never_changes(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand, creator, deal = await _setup(client)
    await factories.accept_terms(client, creator, deal)
    before = (await _history(client, brand, deal))[0]

    r = await _propose(client, brand, deal, {"fee_minor": 31_000})
    assert r.status_code == 201, r.text
    history = await _history(client, brand, deal)
    assert history[1] == before
    assert history[0]["fee_minor"] == 31_000
    # Even the database refuses to change it.
    with pytest.raises(DBAPIError, match="cannot change"):
        await factories.db_execute(
            app,
            "UPDATE deal_terms SET fee_minor = 1 WHERE deal_id = :id AND version = 1",
            id=deal["id"],
        )


async def test_fields_left_out_carry_over(client: httpx.AsyncClient) -> None:
    _, creator, deal = await _setup(client)
    rights = {
        "channels": ["organic_social", "paid_social"],
        "duration_days": 90,
        "ad_permission": "partnership_ads",
        "licensing_fee_minor": 5_000,
    }
    r = await _propose(client, creator, deal, {"usage_rights": rights})
    assert r.status_code == 201, r.text
    proposed = r.json()
    assert proposed["usage_rights"]["channels"] == ["organic_social", "paid_social"]
    assert proposed["usage_rights"]["ai_likeness_reuse_prohibited"] is True
    assert proposed["fee_minor"] == deal["current_terms"]["fee_minor"]
    assert proposed["deliverables"] == deal["current_terms"]["deliverables"]
    assert proposed["disclosure"] == deal["current_terms"]["disclosure"]
    assert proposed["currency"] == "EUR"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"fee_minor": None}, {"fee_minor"}),
        ({"commission_rate_percent": 10}, {"commission_rate_percent"}),
        (
            {"publish_start_date": "2031-01-10", "publish_end_date": "2031-01-01"},
            {"publish_end_date"},
        ),
        (
            {"deliverables": [{"platform": "instagram", "format": "reel", "quantity": 1}]},
            {"due_date"},
        ),
        (
            {
                "deliverables": [
                    {
                        "platform": "instagram",
                        "format": "reel",
                        "quantity": 1,
                        "due_days_after_delivery": 7,
                    }
                ]
            },
            {"due_days_after_delivery"},
        ),
    ],
)
async def test_paid_proposals_follow_the_compensation_rules(
    client: httpx.AsyncClient, body: dict[str, Any], fields: set[str]
) -> None:
    _, creator, deal = await _setup(client)
    problem = assert_problem(await _propose(client, creator, deal, body), 422, "terms_invalid")
    assert factories.error_fields(problem) == fields


async def test_gifted_proposals_follow_the_compensation_rules(client: httpx.AsyncClient) -> None:
    brand, _creator, deal = await _setup(client, **factories.GIFTED)
    r = await _propose(client, brand, deal, {"fee_minor": 10_000, "gifted_product": None})
    problem = assert_problem(r, 422, "terms_invalid")
    # Without a product, days counted from its delivery make no sense either.
    assert factories.error_fields(problem) == {
        "fee_minor",
        "gifted_product",
        "due_days_after_delivery",
    }


async def test_proposals_that_change_nothing_or_break_the_schema_are_refused(
    client: httpx.AsyncClient,
) -> None:
    _, creator, deal = await _setup(client)
    r = await _propose(client, creator, deal, {})
    assert_problem(r, 422, "no_changes")
    r = await _propose(client, creator, deal, {"fee_minor": deal["current_terms"]["fee_minor"]})
    assert_problem(r, 422, "no_changes")
    for body in (
        {"fee_minor": -1},
        {"fee_minor": 10**20},
        {"usage_rights": {"channels": ["organic_social"]}},  # neither duration nor perpetual
        {"usage_rights": {"channels": ["organic_social"], "perpetual": True, "duration_days": 9}},
        {"deliverables": []},
        {"currency": "USD"},
        {"caption": "x\u0000"},
    ):
        assert_problem(await _propose(client, creator, deal, body), 422, "validation_error")


async def test_a_perpetual_grant_is_only_ever_explicit(client: httpx.AsyncClient) -> None:
    brand, _, deal = await _setup(client)
    assert deal["current_terms"]["usage_rights"]["perpetual"] is False
    rights = {"channels": ["organic_social"], "perpetual": True}
    r = await _propose(client, brand, deal, {"usage_rights": rights})
    assert r.status_code == 201, r.text
    assert r.json()["usage_rights"]["perpetual"] is True
    assert r.json()["usage_rights"]["duration_days"] is None


async def test_an_amendment_keeps_the_work_going_and_switches_the_deal_on_acceptance(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal = await _setup(
        client, deliverables=[{"platform": "instagram", "format": "reel", "quantity": 2}]
    )
    deal = await factories.accept_terms(client, creator, deal)
    first, second = await factories.deliverables(client, creator, deal)
    await factories.publish_unit(client, creator, brand, deal, first)
    await factories.submit_draft(client, creator, deal, second)

    due = deal["current_terms"]["publish_start_date"]
    # Dropping the published reel is refused.
    story_only = [{"platform": "instagram", "format": "story", "quantity": 1, "due_date": due}]
    r = await _propose(client, brand, deal, {"deliverables": story_only})
    problem = assert_problem(r, 422, "terms_invalid")
    assert [e["type"] for e in problem["errors"]] == ["below_published"]

    amended = [
        {"platform": "instagram", "format": "reel", "quantity": 1, "due_date": due},
        *story_only,
    ]
    r = await _propose(client, brand, deal, {"deliverables": amended})
    assert r.status_code == 201, r.text
    r = await client.get(f"/v1/deals/{deal['id']}", headers=creator.headers)
    shown = r.json()
    assert shown["status"] == "active"
    assert shown["accepted_version"] == 1
    assert shown["pending_amendment"]["version"] == 2
    assert shown["pending_amendment"]["status"] == "proposed"
    pending = shown["pending_amendment"]["deliverables"]
    assert [(d["format"], d["quantity"]) for d in pending] == [("reel", 1), ("story", 1)]
    # The work goes on under version 1: its two reels, the pending draft reviewable.
    units = await factories.deliverables(client, creator, deal)
    assert [(u["format"], u["unit"], u["status"]) for u in units] == [
        ("reel", 1, "published"),
        ("reel", 2, "in_review"),
    ]
    pending_id = units[1]["submissions"][0]["id"]
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{second['id']}/submissions/{pending_id}/approve",
        json={},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text

    deal = await factories.accept_terms(client, creator, {**deal, "current_version": 2})
    assert deal["status"] == "active"
    assert deal["accepted_version"] == 2
    assert deal["pending_amendment"] is None
    units = await factories.deliverables(client, creator, deal)
    assert [(u["format"], u["unit"], u["status"]) for u in units] == [
        ("reel", 1, "published"),
        ("reel", 2, "dropped"),
        ("story", 1, "pending"),
    ]
    # A dropped deliverable takes no drafts.
    path = f"/v1/deals/{deal['id']}/deliverables/{second['id']}/submissions"
    r = await client.post(path, json=factories.draft_body(), headers=creator.headers)
    assert_problem(r, 409, "invalid_state")


async def test_usage_rights_follow_the_terms_in_force_during_an_amendment(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal = await _setup(client)
    deal = await factories.accept_terms(client, creator, deal)
    rights = {**deal["current_terms"]["usage_rights"], "duration_days": 30}
    r = await _propose(client, creator, deal, {"usage_rights": rights})
    assert r.status_code == 201, r.text
    r = await client.get(f"/v1/deals/{deal['id']}", headers=brand.headers)
    assert r.json()["status"] == "active"
    assert r.json()["pending_amendment"]["usage_rights"]["duration_days"] == 30
    r = await client.get(f"/v1/deals/{deal['id']}/terms/1", headers=brand.headers)
    assert r.json()["status"] == "accepted"
    assert r.json()["usage_rights"]["duration_days"] != 30


async def test_the_proposer_withdraws_a_pending_amendment(client: httpx.AsyncClient) -> None:
    brand, creator, deal = await _setup(client)
    deal = await factories.accept_terms(client, creator, deal)
    before = await _etag(client, brand, deal)
    r = await _propose(client, brand, deal, {"fee_minor": 45_000})
    assert r.status_code == 201, r.text
    proposed_etag = r.headers["etag"]

    # A stale If-Match is refused; the proposer's current one is honoured.
    path = f"/v1/deals/{deal['id']}/terms/2/withdraw"
    r = await client.post(path, headers={**brand.headers, "If-Match": before})
    assert_problem(r, 412)
    r = await client.post(path, headers={**brand.headers, "If-Match": proposed_etag})
    assert r.status_code == 200, r.text
    withdrawn = r.json()
    assert withdrawn["status"] == "active"
    assert withdrawn["pending_amendment"] is None
    assert (withdrawn["current_version"], withdrawn["accepted_version"]) == (1, 1)
    assert withdrawn["current_terms"]["fee_minor"] == deal["current_terms"]["fee_minor"]
    assert r.headers["etag"] == before

    history = await _history(client, brand, deal)
    assert [(t["version"], t["status"]) for t in history] == [(2, "withdrawn"), (1, "accepted")]
    assert history[0]["withdrawn_at"] is not None
    # A withdrawn version can be neither accepted nor withdrawn again.
    r = await client.post(f"/v1/deals/{deal['id']}/terms/2/accept", headers=creator.headers)
    assert_problem(r, 409, "withdrawn")
    assert_problem(await client.post(path, headers=brand.headers), 409, "withdrawn")

    # The next proposal builds on the terms in force, numbered past the withdrawn one.
    disclosure = {"hashtags": ["#ad", "#partner"]}
    r = await _propose(client, creator, deal, {"disclosure": disclosure})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 3
    assert r.json()["fee_minor"] == deal["current_terms"]["fee_minor"]


async def test_only_the_proposer_withdraws_and_only_an_amendment(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal = await _setup(client)
    first = f"/v1/deals/{deal['id']}/terms/1/withdraw"
    # The first terms cannot be withdrawn: the deal is cancelled instead.
    assert_problem(await client.post(first, headers=brand.headers), 409, "not_an_amendment")
    assert_problem(await client.post(first, headers=creator.headers), 403, "not_proposer")
    deal = await factories.accept_terms(client, creator, deal)
    assert_problem(await client.post(first, headers=brand.headers), 409, "already_accepted")

    r = await _propose(client, creator, deal, {"fee_minor": 48_000})
    assert r.status_code == 201, r.text
    second = f"/v1/deals/{deal['id']}/terms/2/withdraw"
    assert_problem(await client.post(second, headers=brand.headers), 403, "not_proposer")
    outsider = await factories.applicant(client)
    assert_problem(await client.post(second, headers=outsider.headers), 404)
    other_brand = await factories.brand(client)
    assert_problem(await client.post(second, headers=other_brand.headers), 404)
    r = await client.post(f"/v1/deals/{deal['id']}/terms/9/withdraw", headers=creator.headers)
    assert_problem(r, 404)
    # A counter-proposal supersedes it: nothing left to withdraw.
    r = await _propose(client, brand, deal, {"fee_minor": 46_000})
    assert r.status_code == 201, r.text
    assert_problem(await client.post(second, headers=creator.headers), 409, "superseded")


async def test_terms_of_cancelled_deals_are_frozen(client: httpx.AsyncClient) -> None:
    brand, creator, deal = await _setup(client)
    r = await client.post(
        f"/v1/deals/{deal['id']}/cancel", json={"reason": "budget cut"}, headers=brand.headers
    )
    assert r.status_code == 200, r.text
    assert_problem(await _propose(client, creator, deal, {"fee_minor": 1}), 409, "invalid_state")
    r = await client.post(f"/v1/deals/{deal['id']}/terms/1/accept", headers=creator.headers)
    assert_problem(r, 409, "invalid_state")


async def test_terms_history_pages_newest_first(client: httpx.AsyncClient) -> None:
    brand, creator, deal = await _setup(client)
    for fee in (31_000, 32_000, 33_000):
        assert (await _propose(client, creator, deal, {"fee_minor": fee})).status_code == 201
    path = f"/v1/deals/{deal['id']}/terms"
    r = await client.get(path, params={"limit": 3}, headers=brand.headers)
    assert [t["version"] for t in r.json()["items"]] == [4, 3, 2]
    r = await client.get(
        path, params={"limit": 3, "cursor": r.json()["next_cursor"]}, headers=brand.headers
    )
    assert [t["version"] for t in r.json()["items"]] == [1]
    assert r.json()["next_cursor"] is None
