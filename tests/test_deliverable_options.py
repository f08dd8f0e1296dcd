"""Either-or deliverables: "1 post on Instagram or TikTok". The creator chooses an option at
apply (or the brand at accept), the deal's terms pin it, eligibility takes any option, and
matching scores each account on its own platform's option."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories
from tests.factories import Actor, assert_problem, error_fields

EITHER_OR = [
    {
        "platform": "instagram",
        "format": "post",
        "quantity": 1,
        "alternatives": [{"platform": "tiktok", "format": "short_video"}],
    }
]
TWO_PLATFORMS: dict[str, Any] = {"platforms": ["instagram", "tiktok"], "deliverables": EITHER_OR}
IG = {"platform": "instagram", "handle": "@ig"}
TT = {"platform": "tiktok", "handle": "@tt"}


async def _creator(client: httpx.AsyncClient, *accounts: dict[str, Any]) -> Actor:
    actor = await factories.creator(
        client, profile={"country": "ES", "niches": ["beauty"]}, accounts=list(accounts)
    )
    r = await client.get("/v1/creators/me", headers=actor.headers)
    actor.extra["account_ids"] = [a["id"] for a in r.json()["accounts"]]
    actor.extra["by_platform"] = {a["platform"]: a["id"] for a in r.json()["accounts"]}
    return actor


async def _apply(
    client: httpx.AsyncClient, actor: Actor, brief: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json=factories.application_body(actor, **body),
        headers=actor.headers,
    )


async def _accept(
    client: httpx.AsyncClient, brand: Actor, application: dict[str, Any], **body: Any
) -> dict[str, Any]:
    r = await client.post(
        f"/v1/applications/{application['id']}/accept", json=body or None, headers=brand.headers
    )
    assert r.status_code == 201, r.text
    deal: dict[str, Any] = r.json()
    return deal


def _owed(deal: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [
        (d["platform"], d["format"], d["quantity"]) for d in deal["current_terms"]["deliverables"]
    ]


async def test_a_brief_offers_either_or_deliverables(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **TWO_PLATFORMS)
    assert brief["deliverables"][0]["alternatives"] == EITHER_OR[0]["alternatives"]

    # An option may not repeat a kind listed elsewhere in the brief.
    clash = [*EITHER_OR, {"platform": "tiktok", "format": "short_video", "quantity": 1}]
    r = await client.post(
        "/v1/briefs", json=factories.brief_body(deliverables=clash), headers=brand.headers
    )
    assert_problem(r, 422, "validation_error")
    # Publishing needs every option's platform among the brief's platforms.
    draft = await factories.brief(client, brand, deliverables=EITHER_OR)  # platforms: instagram
    r = await client.post(f"/v1/briefs/{draft['id']}/publish", headers=brand.headers)
    problem = assert_problem(r, 422, "brief_invalid")
    assert ["brief", "deliverables", 0, "alternatives", 0, "platform"] in [
        e["loc"] for e in problem["errors"]
    ]


async def test_the_creators_choice_at_apply_is_pinned_in_the_terms(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **TWO_PLATFORMS)
    creator = await _creator(client, IG, TT)
    choice = {"deliverable": 0, "platform": "tiktok", "format": "short_video"}
    r = await _apply(client, creator, brief, deliverable_choices=[choice])
    assert r.status_code == 201, r.text
    assert r.json()["deliverable_choices"] == [choice]

    deal = await _accept(client, brand, r.json())
    assert _owed(deal) == [("tiktok", "short_video", 1)]
    deal = await factories.accept_terms(client, creator, deal)
    units = await factories.deliverables(client, creator, deal)
    assert [(u["platform"], u["format"]) for u in units] == [("tiktok", "short_video")]


async def test_the_brands_choice_at_accept_rules(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **TWO_PLATFORMS)
    creator = await _creator(client, IG, TT)
    tiktok = {"deliverable": 0, "platform": "tiktok", "format": "short_video"}
    r = await _apply(client, creator, brief, deliverable_choices=[tiktok])
    instagram = {"deliverable": 0, "platform": "instagram", "format": "post"}
    deal = await _accept(client, brand, r.json(), deliverable_choices=[instagram])
    assert _owed(deal) == [("instagram", "post", 1)]


async def test_without_a_choice_the_option_on_the_offered_platform_is_owed(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **TWO_PLATFORMS, slots=5)
    # Eligibility takes any option: a TikTok-only creator may apply.
    tiktoker = await _creator(client, TT)
    r = await _apply(client, tiktoker, brief)
    assert r.status_code == 201, r.text
    assert _owed(await _accept(client, brand, r.json())) == [("tiktok", "short_video", 1)]
    instagrammer = await _creator(client, IG)
    r = await _apply(client, instagrammer, brief)
    assert _owed(await _accept(client, brand, r.json())) == [("instagram", "post", 1)]
    # A creator on neither platform is not eligible.
    youtuber = await _creator(client, {"platform": "youtube", "handle": "@yt"})
    assert_problem(await _apply(client, youtuber, brief), 422, "ineligible")


async def test_invalid_choices_are_refused(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **TWO_PLATFORMS)
    instagrammer = await _creator(client, IG)
    cases = [
        [{"deliverable": 0, "platform": "tiktok", "format": "short_video"}],  # not offered
        [{"deliverable": 0, "platform": "instagram", "format": "reel"}],  # not an option
        [{"deliverable": 3, "platform": "instagram", "format": "post"}],  # no such one
        [{"deliverable": 0, "platform": "instagram", "format": "post"}] * 2,  # twice
    ]
    for choices in cases:
        r = await _apply(client, instagrammer, brief, deliverable_choices=choices)
        problem = assert_problem(r, 422, "validation_error")
        assert "deliverable_choices" in [str(p) for e in problem["errors"] for p in e["loc"]]
    r = await _apply(client, instagrammer, brief, deliverable_choices=[{"deliverable": 0}])
    assert {"platform", "format"} <= error_fields(assert_problem(r, 422))

    # The brand's choice is checked the same way.
    r = await _apply(client, instagrammer, brief)
    r = await client.post(
        f"/v1/applications/{r.json()['id']}/accept",
        json={"deliverable_choices": cases[0]},
        headers=brand.headers,
    )
    assert_problem(r, 422)
    r = await client.get(f"/v1/briefs/{brief['id']}/deals", headers=brand.headers)
    assert r.json()["items"] == []


async def test_matching_scores_each_account_on_its_platforms_option(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    # 1 Instagram post or 1 TikTok video, for at most 500.00 EUR.
    brief = await factories.open_brief(client, brand, fee_max_minor=50_000, **TWO_PLATFORMS)

    def card(platform: str, format_: str, fee: int) -> dict[str, Any]:
        return {
            "rate_card": [{"platform": platform, "format": format_, "fee_minor": fee}],
            "rate_card_currency": "EUR",
        }

    cheap = await factories.match_creator(
        client, accounts=[{"platform": "tiktok"}], **card("tiktok", "short_video", 40_000)
    )
    dear = await factories.match_creator(
        client, accounts=[{"platform": "tiktok"}], **card("tiktok", "short_video", 100_000)
    )
    items = await factories.all_pages(client, brand, f"/v1/briefs/{brief['id']}/matches", limit=100)
    found = {item["creator"]["id"]: item for item in items}
    # The TikTok option's whole budget share: 400 fits 500; 1000 is twice over.
    assert found[str(cheap.creator_id)]["parts"]["price_fit"] == 1.0
    assert found[str(dear.creator_id)]["parts"]["price_fit"] == 0.5
