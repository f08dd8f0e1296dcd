"""Campaign budgets: committed, paid and remaining spend; accepting past the budget needs
an explicit override; the report counts gifted products as spend when asked."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


async def _budget(
    client: httpx.AsyncClient, brand: Actor, brief: dict[str, Any], amount: int
) -> dict[str, Any]:
    r = await client.put(
        f"/v1/briefs/{brief['id']}/budget",
        json={"amount_minor": amount, "currency": "EUR"},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _read_budget(
    client: httpx.AsyncClient, brand: Actor, brief: dict[str, Any]
) -> dict[str, Any]:
    r = await client.get(f"/v1/briefs/{brief['id']}/budget", headers=brand.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _accept(
    client: httpx.AsyncClient, brand: Actor, application: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/applications/{application['id']}/accept",
        json=body or None,
        headers=brand.headers,
    )


async def test_the_budget_shows_committed_paid_and_remaining_spend(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    assert (await _read_budget(client, brand, brief))["amount_minor"] is None
    assert (await _budget(client, brand, brief, 100_000))["remaining_minor"] == 100_000

    paid, unpaid, gone = [await factories.applicant(client) for _ in range(3)]
    paid_deal = await factories.active_deal(client, brand, brief, paid)  # fee 30 000
    await factories.active_deal(client, brand, brief, unpaid)
    cancelled = await factories.deal(client, brand, brief, gone)
    r = await client.post(
        f"/v1/deals/{cancelled['id']}/cancel", json={"reason": "no reply"}, headers=brand.headers
    )
    assert r.status_code == 200
    r = await client.post(f"/v1/deals/{paid_deal['id']}/mark-paid", headers=brand.headers)
    assert r.status_code == 200, r.text

    budget = await _read_budget(client, brand, brief)
    assert budget["currency"] == "EUR"
    assert (budget["committed_minor"], budget["paid_minor"]) == (60_000, 30_000)
    assert (budget["remaining_minor"], budget["over_budget"]) == (40_000, False)


async def test_accepting_past_the_budget_needs_an_explicit_override(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=5)
    await _budget(client, brand, brief, 50_000)
    first, second = [await factories.applicant(client) for _ in range(2)]
    within = await factories.apply(client, first, brief)
    beyond = await factories.apply(client, second, brief)
    r = await _accept(client, brand, within)
    assert r.status_code == 201, r.text

    r = await _accept(client, brand, beyond)
    problem = assert_problem(r, 409, "over_budget")
    assert "over by 10000" in problem["detail"]
    # Nothing of the refused accept remains: no deal, the application pending, the slot free.
    r = await client.get(f"/v1/applications/{beyond['id']}", headers=brand.headers)
    assert r.json()["status"] == "submitted"
    budget = await _read_budget(client, brand, brief)
    assert budget["committed_minor"] == 30_000

    r = await _accept(client, brand, beyond, allow_over_budget=True)
    assert r.status_code == 201, r.text
    budget = await _read_budget(client, brand, brief)
    assert (budget["remaining_minor"], budget["over_budget"]) == (-10_000, True)


async def test_bulk_accept_stops_at_the_budget_unless_allowed(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=10)
    await _budget(client, brand, brief, 60_000)
    creators = [await factories.applicant(client) for _ in range(4)]
    ids = [(await factories.apply(client, c, brief))["id"] for c in creators]

    path = f"/v1/briefs/{brief['id']}/applications/bulk"
    r = await client.post(
        path, json={"action": "accept", "application_ids": ids[:3]}, headers=brand.headers
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(i["status"], (i["problem"] or {}).get("code")) for i in results] == [
        (201, None),
        (201, None),
        (409, "over_budget"),
    ]
    r = await client.post(
        path,
        json={"action": "accept", "application_ids": ids[2:], "allow_over_budget": True},
        headers=brand.headers,
    )
    assert [i["status"] for i in r.json()["results"]] == [201, 201]
    assert (await _read_budget(client, brand, brief))["committed_minor"] == 120_000


async def test_the_budget_is_the_briefs_brands_alone(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    path = f"/v1/briefs/{brief['id']}/budget"
    body = {"amount_minor": 10_000, "currency": "EUR"}
    other = await factories.brand(client)
    creator = await factories.applicant(client)
    assert_problem(await client.get(path, headers=other.headers), 404)
    assert_problem(await client.put(path, json=body, headers=other.headers), 404)
    assert_problem(await client.get(path, headers=creator.headers), 403)
    r = await client.put(path, json={**body, "currency": "USD"}, headers=brand.headers)
    assert_problem(r, 422, "currency_mismatch")
    r = await client.put(path, json={**body, "amount_minor": -1}, headers=brand.headers)
    assert_problem(r, 422, "validation_error")
    # The public brief never shows it.
    await _budget(client, brand, brief, 10_000)
    r = await client.get(f"/v1/briefs/{brief['id']}", headers=creator.headers)
    assert "budget" not in str(r.json())


async def test_the_report_counts_gifted_products_as_spend_when_asked(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **factories.GIFTED)  # retail 7 500
    creators = [await factories.applicant(client) for _ in range(2)]
    deals = []
    for creator in creators:
        await factories.put_address(client, creator)
        deals.append(await factories.active_deal(client, brand, brief, creator))
    (unit,) = await factories.deliverables(client, creators[0], deals[0])
    await factories.publish_unit(client, creators[0], brand, deals[0], unit, caption="#gifted")
    r = await client.post(
        f"/v1/deals/{deals[0]['id']}/deliverables/{unit['id']}/metrics",
        json={"impressions": 10_000, "likes": 400, "comments": 100},
        headers=creators[0].headers,
    )
    assert r.status_code == 201, r.text

    path = f"/v1/briefs/{brief['id']}/report"
    plain = (await client.get(path, headers=brand.headers)).json()
    assert (plain["spend_minor"], plain["spend_basis"]) == (0, "fees_and_licensing")
    assert plain["gifted_value_minor"] == 15_000
    assert (plain["cost_per_engagement_minor"], plain["cpm_minor"]) == ("0.00", "0.00")

    r = await client.get(path, params={"include_product_value": "true"}, headers=brand.headers)
    valued = r.json()
    assert valued["spend_basis"] == "fees_licensing_and_product_value"
    assert valued["spend_minor"] == 15_000
    assert [row["spend_minor"] for row in valued["rows"]] == [7_500, 7_500]
    assert valued["cost_per_engagement_minor"] == "30.00"  # 15 000 / 500
    assert valued["cpm_minor"] == "1500.00"  # 15 000 / 10 000 * 1000
    # Money actually spent is unchanged: the budget counts fees, not products.
    assert (await _read_budget(client, brand, brief))["committed_minor"] == 0


async def test_an_item_refused_for_the_budget_leaves_the_next_ones_free_to_succeed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, slots=10)
    await _budget(client, brand, brief, 50_000)
    fees = [20_000, 40_000, 25_000]
    ids = []
    for fee in fees:
        creator = await factories.applicant(client)
        ids.append((await factories.apply(client, creator, brief, proposed_fee_minor=fee))["id"])
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications/bulk",
        json={"action": "accept", "application_ids": ids},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["results"]] == [201, 409, 201]
    rows = await factories.db_rows(
        app, "SELECT count(*) AS n FROM deals WHERE brief_id = :b", b=brief["id"]
    )
    assert rows == [{"n": 2}]
    # The refused item gave its slot back.
    slots = await factories.db_rows(
        app, "SELECT accepted_count FROM briefs WHERE id = :b", b=brief["id"]
    )
    assert slots == [{"accepted_count": 2}]
    assert (await _read_budget(client, brand, brief))["committed_minor"] == 45_000
