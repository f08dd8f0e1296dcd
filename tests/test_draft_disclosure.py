"""Disclosure at draft time: the draft's intended caption and label are checked against the
deliverable's checklist on submission, shown at review, and a draft that fails the check
is approved only with an explicit acknowledgement."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem

CHECKLIST: dict[str, Any] = {
    "hashtags": ["#ad"],
    "mentions": ["@glowlabs"],
    "paid_partnership_label": True,
}


async def _unit(
    client: httpx.AsyncClient, **brief: Any
) -> tuple[Actor, Actor, dict[str, Any], dict[str, Any]]:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    opened = await factories.open_brief(client, brand, **brief)
    deal = await factories.active_deal(client, brand, opened, creator)
    return brand, creator, deal, (await factories.deliverables(client, creator, deal))[0]


async def _submit(
    client: httpx.AsyncClient,
    creator: Actor,
    deal: dict[str, Any],
    unit: dict[str, Any],
    body: dict[str, Any],
) -> dict[str, Any]:
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/submissions",
        json=body,
        headers=creator.headers,
    )
    assert r.status_code == 201, r.text
    submitted: dict[str, Any] = r.json()
    return submitted


def _approve_path(deal: dict[str, Any], unit: dict[str, Any]) -> str:
    submission = unit["submissions"][-1]["id"]
    return f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/submissions/{submission}/approve"


async def test_a_draft_is_checked_on_submission_and_the_brand_sees_it(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, deal, unit = await _unit(client, disclosure=CHECKLIST)
    # A minimal draft: the label is taken as off.
    body = {"draft_url": "https://drive.example/v1.mp4", "caption": "New #adventure @GlowLabs"}
    unit = await _submit(client, creator, deal, unit, body)
    expected = {
        "compliant": False,
        "missing_hashtags": ["#ad"],
        "missing_mentions": [],
        "paid_partnership_label_missing": True,
    }
    assert unit["submissions"][0]["disclosure_check"] == expected
    assert unit["submissions"][0]["paid_partnership_label"] is False
    assert unit["disclosure_check"] is None  # the published caption's, not yet

    r = await client.get(f"/v1/deals/{deal['id']}/deliverables/{unit['id']}", headers=brand.headers)
    assert r.json()["submissions"][0]["disclosure_check"] == expected
    events = await factories.deal_events(app, deal["id"], "deliverable.submitted")
    assert events[0]["payload"]["submission"]["disclosure_check"] == expected


async def test_approving_a_failing_draft_needs_an_acknowledgement(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal, unit = await _unit(client, disclosure=CHECKLIST)
    body = {"draft_url": "https://drive.example/v1.mp4", "caption": "#ad for @glowlabs"}
    unit = await _submit(client, creator, deal, unit, body)  # the label is missing

    r = await client.post(_approve_path(deal, unit), json={}, headers=brand.headers)
    problem = assert_problem(r, 422, "disclosure_gaps")
    assert [e["loc"] for e in problem["errors"]] == [["body", "acknowledge_disclosure_gaps"]]
    assert "paid-partnership label" in problem["detail"]
    r = await client.get(f"/v1/deals/{deal['id']}/deliverables/{unit['id']}", headers=brand.headers)
    assert r.json()["status"] == "in_review"

    r = await client.post(
        _approve_path(deal, unit),
        json={"acknowledge_disclosure_gaps": True},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    assert r.json()["submissions"][0]["disclosure_gaps_acknowledged"] is True


async def test_a_compliant_draft_is_approved_as_before(client: httpx.AsyncClient) -> None:
    brand, creator, deal, unit = await _unit(client, disclosure=CHECKLIST)
    body = {
        "draft_url": "https://drive.example/v1.mp4",
        "caption": "Morning glow #AD with @glowlabs.",
        "paid_partnership_label": True,
    }
    unit = await _submit(client, creator, deal, unit, body)
    assert unit["submissions"][0]["disclosure_check"]["compliant"] is True
    r = await client.post(_approve_path(deal, unit), json={}, headers=brand.headers)
    assert r.status_code == 200, r.text
    assert r.json()["submissions"][0]["disclosure_gaps_acknowledged"] is False


async def test_a_failing_draft_can_be_sent_back_and_fixed(client: httpx.AsyncClient) -> None:
    brand, creator, deal, unit = await _unit(client, **factories.GIFTED)
    body = {"draft_url": "https://drive.example/v1.mp4", "caption": "Love it"}
    unit = await _submit(client, creator, deal, unit, body)
    assert unit["submissions"][0]["disclosure_check"]["missing_hashtags"] == ["#gifted"]
    submission = unit["submissions"][0]["id"]
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/submissions/{submission}"
        "/request-changes",
        json={"comments": ["Add #gifted, please."]},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    unit = await _submit(client, creator, deal, unit, {**body, "caption": "Love it #gifted"})
    assert unit["submissions"][1]["disclosure_check"]["compliant"] is True
    r = await client.post(_approve_path(deal, unit), json={}, headers=brand.headers)
    assert r.status_code == 200, r.text
