"""Usage rights on a date: nothing before agreement and publication, the grant while in
force (channels, paid-ads window, territory, exclusivity, days left), nothing after."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tests import factories
from tests.factories import Actor, assert_problem

TODAY = datetime.now(UTC).date()


async def _rights(
    client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any], on: date | None = None
) -> dict[str, Any]:
    params = {"on": on.isoformat()} if on else {}
    r = await client.get(
        f"/v1/deals/{deal['id']}/usage-rights", params=params, headers=actor.headers
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _published_deal(
    client: httpx.AsyncClient, **brief: Any
) -> tuple[Actor, Actor, dict[str, Any]]:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    opened = await factories.open_brief(client, brand, **brief)
    deal = await factories.active_deal(client, brand, opened, creator)
    (unit,) = await factories.deliverables(client, creator, deal)
    await factories.publish_unit(client, creator, brand, deal, unit)
    return brand, creator, deal


async def _amend(
    client: httpx.AsyncClient, brand: Actor, creator: Actor, deal: dict[str, Any], **body: Any
) -> dict[str, Any]:
    r = await client.get(f"/v1/deals/{deal['id']}", headers=brand.headers)
    r = await client.post(
        f"/v1/deals/{deal['id']}/terms",
        json=body,
        headers={**brand.headers, "If-Match": r.headers["etag"]},
    )
    assert r.status_code == 201, r.text
    return await factories.accept_terms(
        client, creator, {**deal, "current_version": r.json()["version"]}
    )


async def test_rights_run_from_the_first_publication_for_their_duration(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    deal = await factories.deal(client, brand, await factories.open_brief(client, brand), creator)
    assert (await _rights(client, brand, deal))["status"] == "not_agreed"

    deal = await factories.accept_terms(client, creator, deal)
    agreed = await _rights(client, creator, deal)
    assert (agreed["status"], agreed["in_force"], agreed["channels"]) == ("not_started", False, [])
    assert agreed["terms_version"] == 1
    assert agreed["grant"]["duration_days"] == 365

    (unit,) = await factories.deliverables(client, creator, deal)
    await factories.publish_unit(client, creator, brand, deal, unit)
    now = await _rights(client, brand, deal)
    assert now["status"] == "in_force"
    assert now["starts_on"] == TODAY.isoformat()
    assert now["expires_on"] == (TODAY + timedelta(days=365)).isoformat()
    assert now["days_left"] == 365
    assert now["channels"] == ["organic_social", "website", "email"]
    assert (now["paid_ads_allowed"], now["worldwide"], now["countries"]) == (False, True, [])
    assert now["exclusivity_in_force"] is False
    assert now["grant"]["ai_likeness_reuse_prohibited"] is True

    last = await _rights(client, brand, deal, TODAY + timedelta(days=364))
    assert (last["status"], last["days_left"]) == ("in_force", 1)
    gone = await _rights(client, brand, deal, TODAY + timedelta(days=365))
    assert (gone["status"], gone["channels"], gone["days_left"]) == ("expired", [], None)
    before = await _rights(client, brand, deal, TODAY - timedelta(days=1))
    assert before["status"] == "not_agreed"


async def test_paid_ads_window_territory_and_exclusivity(client: httpx.AsyncClient) -> None:
    brand, creator, deal = await _published_deal(client)
    rights = {
        "channels": ["organic_social", "paid_social"],
        "duration_days": 90,
        "worldwide": False,
        "countries": ["es", "PT"],
        "exclusivity_days": 30,
        "exclusivity_categories": ["Skincare"],
        "ad_permission": "partnership_ads",
        "ad_start_date": (TODAY + timedelta(days=10)).isoformat(),
        "ad_end_date": (TODAY + timedelta(days=20)).isoformat(),
        "licensing_fee_minor": 15_000,
    }
    await _amend(client, brand, creator, deal, usage_rights=rights)

    early = await _rights(client, brand, deal, TODAY + timedelta(days=5))
    assert early["terms_version"] == 2
    assert (early["paid_ads_allowed"], early["channels"]) == (False, ["organic_social"])
    assert (early["worldwide"], early["countries"]) == (False, ["ES", "PT"])
    assert early["exclusivity_in_force"] is True
    assert early["exclusivity_categories"] == ["skincare"]
    assert early["exclusivity_ends_on"] == (TODAY + timedelta(days=30)).isoformat()
    assert early["grant"]["licensing_fee_minor"] == 15_000

    ads = await _rights(client, brand, deal, TODAY + timedelta(days=15))
    assert ads["paid_ads_allowed"] is True
    assert ads["ad_permission"] == "partnership_ads"
    assert ads["channels"] == ["organic_social", "paid_social"]
    after_ads = await _rights(client, brand, deal, TODAY + timedelta(days=21))
    assert after_ads["paid_ads_allowed"] is False
    free = await _rights(client, brand, deal, TODAY + timedelta(days=30))
    assert (free["exclusivity_in_force"], free["exclusivity_categories"]) == (False, [])
    assert (await _rights(client, brand, deal, TODAY + timedelta(days=90)))["status"] == "expired"


async def test_paid_social_without_dates_runs_for_the_whole_term(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal = await _published_deal(client)
    rights = {"channels": ["paid_social"], "duration_days": 30, "ad_permission": "allowlisting"}
    await _amend(client, brand, creator, deal, usage_rights=rights)
    first = await _rights(client, brand, deal)
    assert (first["paid_ads_allowed"], first["ad_starts_on"]) == (True, TODAY.isoformat())
    assert first["ad_ends_on"] == (TODAY + timedelta(days=29)).isoformat()
    assert (await _rights(client, brand, deal, TODAY + timedelta(days=29)))["paid_ads_allowed"]


async def test_a_perpetual_grant_never_expires(client: httpx.AsyncClient) -> None:
    rights = {"channels": ["organic_social", "website"], "perpetual": True}
    brand, _, deal = await _published_deal(client, usage_rights=rights)
    later = await _rights(client, brand, deal, TODAY + timedelta(days=20 * 365))
    assert (later["status"], later["perpetual"]) == ("in_force", True)
    assert (later["expires_on"], later["days_left"]) == (None, None)


async def test_the_version_accepted_by_that_date_governs(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand, creator, deal = await _published_deal(client)
    # Time passes: version 1 was accepted and the post published ten days ago.
    async with app.state.sessionmaker.begin() as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(
            text(
                "UPDATE deal_terms SET accepted_at = accepted_at - interval '10 days'"
                " WHERE deal_id = :id"
            ),
            {"id": deal["id"]},
        )
        await session.execute(
            text("UPDATE deals SET rights_start_date = rights_start_date - 10 WHERE id = :id"),
            {"id": deal["id"]},
        )
    await _amend(
        client, brand, creator, deal, usage_rights={"channels": ["email"], "duration_days": 30}
    )
    then = await _rights(client, brand, deal, TODAY - timedelta(days=5))
    assert (then["terms_version"], then["channels"]) == (1, ["organic_social", "website", "email"])
    now = await _rights(client, brand, deal)
    assert (now["terms_version"], now["channels"], now["days_left"]) == (2, ["email"], 20)


async def test_a_cancelled_deal_grants_nothing_from_its_cancellation(
    client: httpx.AsyncClient,
) -> None:
    brand, creator, deal = await _published_deal(client)
    r = await client.post(
        f"/v1/deals/{deal['id']}/cancel", json={"reason": "breach"}, headers=brand.headers
    )
    assert r.status_code == 200
    for on in (TODAY, TODAY + timedelta(days=3)):
        rights = await _rights(client, creator, deal, on)
        assert (rights["status"], rights["in_force"], rights["channels"]) == (
            "cancelled",
            False,
            [],
        )


async def test_the_date_must_be_a_date(client: httpx.AsyncClient) -> None:
    brand, _, deal = await _published_deal(client)
    for on in ("tomorrow", "2026-02-30", "9" * 30, "9999-12-31"):
        r = await client.get(
            f"/v1/deals/{deal['id']}/usage-rights", params={"on": on}, headers=brand.headers
        )
        assert_problem(r, 422, "validation_error")
