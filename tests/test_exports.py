"""CSV exports of a brief: applicants, shipping list, deals, the report per deliverable;
streamed, quoted by the csv module, and never a spreadsheet formula."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from api.services.exports import cell
from tests import factories
from tests.factories import Actor, assert_problem


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+33 6 12", "'+33 6 12"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain, with comma", "plain, with comma"),
        (None, ""),
        (True, "true"),
        (-5, "-5"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_escaped(value: Any, written: str) -> None:
    assert cell(value) == written


async def _applicant(client: httpx.AsyncClient, display_name: str) -> Actor:
    return await factories.applicant(client, profile={"display_name": display_name})


async def test_applicants_export_quotes_and_disarms_what_creators_typed(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    sly = await _applicant(client, '=HYPERLINK("http://evil.example","win")')
    plain = await _applicant(client, "Ana García")
    await factories.apply(client, sly, brief, pitch='@me: "quotes", commas,\nand lines')
    await factories.apply(client, plain, brief)

    path = f"/v1/briefs/{brief['id']}/applications"
    rows = _rows(await client.get(path, params={"format": "csv"}, headers=brand.headers))
    listed = await client.get(path, headers=brand.headers)
    assert [r["application_id"] for r in rows] == [a["id"] for a in listed.json()["items"]]
    by_name = {r["creator_id"]: r for r in rows}
    sly_row = by_name[str(sly.creator_id)]
    assert sly_row["creator_display_name"] == '\'=HYPERLINK("http://evil.example","win")'
    assert sly_row["pitch"] == '\'@me: "quotes", commas,\nand lines'
    assert sly_row["status"] == "submitted"
    assert by_name[str(plain.creator_id)]["creator_display_name"] == "Ana García"

    # `Accept: text/csv` chooses CSV too; `?status=` filters as in the JSON list.
    accept = {**brand.headers, "Accept": "text/csv"}
    assert len(_rows(await client.get(path, headers=accept))) == 2
    r = await client.get(path, params={"status": "accepted"}, headers=accept)
    assert _rows(r) == []
    r = await client.get(path, params={"format": "xml"}, headers=brand.headers)
    assert_problem(r, 422)


async def test_exports_are_for_the_briefs_brand_only(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    await factories.apply(client, creator, brief)
    other = await factories.brand(client)
    for export in ("applications", "shipping-list", "deals", "report"):
        path = f"/v1/briefs/{brief['id']}/{export}"
        r = await client.get(path, params={"format": "csv"}, headers=other.headers)
        assert_problem(r, 404)
        r = await client.get(path, params={"format": "csv"}, headers=creator.headers)
        assert_problem(r, 403)


async def test_shipping_list_export_has_one_line_per_deal_with_its_address(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand, **factories.GIFTED)
    creators = [await factories.applicant(client) for _ in range(2)]
    for creator in creators:
        await factories.put_address(client, creator)
        await factories.active_deal(client, brand, brief, creator)
    r = await client.get(
        f"/v1/briefs/{brief['id']}/shipping-list", params={"format": "csv"}, headers=brand.headers
    )
    rows = _rows(r)
    assert [row["creator_id"] for row in rows] == [str(c.creator_id) for c in creators]
    assert rows[0]["city"] == "Madrid"
    assert rows[0]["recipient_name"] == factories.ADDRESS["recipient_name"]
    assert rows[0]["product_name"] == "Serum trio"
    assert rows[0]["shipments"] == "0"


async def test_brief_deals_list_and_export_show_each_status(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    agreed, pending, gone = [await factories.applicant(client) for _ in range(3)]
    active = await factories.active_deal(client, brand, brief, agreed)
    waiting = await factories.deal(client, brand, brief, pending)
    cancelled = await factories.deal(client, brand, brief, gone)
    r = await client.post(
        f"/v1/deals/{cancelled['id']}/cancel",
        json={"reason": "=cmd|' /C calc'!A0"},
        headers=brand.headers,
    )
    assert r.status_code == 200
    other_brief = await factories.open_brief(client, brand)
    await factories.deal(client, brand, other_brief, await factories.applicant(client))

    path = f"/v1/briefs/{brief['id']}/deals"
    r = await client.get(path, headers=brand.headers)
    assert r.status_code == 200, r.text
    assert [(d["id"], d["status"]) for d in r.json()["items"]] == [
        (cancelled["id"], "cancelled"),
        (waiting["id"], "pending_terms"),
        (active["id"], "active"),
    ]
    r = await client.get(path, params={"status": "active"}, headers=brand.headers)
    assert [d["id"] for d in r.json()["items"]] == [active["id"]]

    rows = _rows(await client.get(path, params={"format": "csv"}, headers=brand.headers))
    assert [(row["deal_id"], row["status"]) for row in rows] == [
        (cancelled["id"], "cancelled"),
        (waiting["id"], "pending_terms"),
        (active["id"], "active"),
    ]
    assert rows[0]["cancel_reason"] == "'=cmd|' /C calc'!A0"
    assert rows[2]["accepted_version"] == "1"
    assert rows[2]["fee_minor"] == "30000"
    assert rows[1]["accepted_version"] == ""


async def test_report_export_has_one_line_per_deliverable_with_its_newest_metrics(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    deliverables = [
        {"platform": "instagram", "format": "reel", "quantity": 2},
        {"platform": "instagram", "format": "story", "quantity": 1},
    ]
    brief = await factories.open_brief(client, brand, deliverables=deliverables)
    creator = await factories.applicant(client)
    deal = await factories.active_deal(client, brand, brief, creator)
    units = await factories.deliverables(client, creator, deal)
    await factories.publish_unit(client, creator, brand, deal, units[0])
    for likes in (10, 25):
        r = await client.post(
            f"/v1/deals/{deal['id']}/deliverables/{units[0]['id']}/metrics",
            json={"reach": 1_000, "likes": likes, "comments": 5},
            headers=creator.headers,
        )
        assert r.status_code == 201, r.text

    r = await client.get(
        f"/v1/briefs/{brief['id']}/report", headers={**brand.headers, "Accept": "text/csv"}
    )
    rows = _rows(r)
    assert [(row["format"], row["unit"], row["deliverable_status"]) for row in rows] == [
        ("reel", "1", "published"),
        ("reel", "2", "pending"),
        ("story", "1", "pending"),
    ]
    assert (rows[0]["likes"], rows[0]["reach"], rows[0]["engagements"]) == ("25", "1000", "30")
    assert rows[0]["late"] == "false"
    assert rows[1]["likes"] == rows[1]["engagements"] == ""
    assert {row["deal_id"] for row in rows} == {deal["id"]}
    # The JSON report is unchanged.
    r = await client.get(f"/v1/briefs/{brief['id']}/report", headers=brand.headers)
    assert r.json()["performance"]["likes"] == 25
