"""Every number, date and time a request carries has one strict type (issue #13, 15/18/20).

The tests walk the committed `openapi/openapi.json`: every numeric field of every JSON
request body refuses `true`, every date and time field refuses values outside the years
2000-2100 and Unix timestamps, and query parameters take plain decimal integers and ISO
8601 dates only. A new field or endpoint is covered without touching these tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import GIFTED, Actor, assert_problem

SPEC = json.loads(Path("openapi/openapi.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]
JSON_BODY = "application/json"


@dataclass(frozen=True)
class Leaf:
    """A scalar field somewhere in a request body: its path and JSON schema."""

    path: tuple[str | int, ...]
    schema: dict[str, Any]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def leaves(schema: dict[str, Any], path: tuple[str | int, ...] = ()) -> Iterator[Leaf]:
    """Every typed scalar reachable in the schema, through objects, lists and maps."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from leaves(option, path)
    kind = schema.get("type")
    if kind in ("integer", "number", "string", "boolean"):
        yield Leaf(path, schema)
    if kind == "array" and "items" in schema:
        yield from leaves(schema["items"], (*path, 0))
    for name, sub in schema.get("properties", {}).items():
        yield from leaves(sub, (*path, name))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from leaves(extra, (*path, _map_key(schema)))
    for pattern, sub in schema.get("patternProperties", {}).items():
        # The one pattern of these maps is a country code.
        assert pattern == "^[A-Za-z]{2}$", pattern
        yield from leaves(sub, (*path, "US"))


def _map_key(schema: dict[str, Any]) -> str:
    # A key the map accepts, so that the value is what the validation looks at.
    names = _resolve(schema.get("propertyNames", {}))
    return str(names["enum"][0]) if names.get("enum") else "key"


def body_with(path: tuple[str | int, ...], value: Any) -> Any:
    """A body holding `value` at `path` and nothing else."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        return [body_with(rest, value)]
    return {head: body_with(rest, value)}


def json_bodies() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for route, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if JSON_BODY in content:
                yield method.upper(), route, content[JSON_BODY]["schema"]


def fields_of(kinds: set[str]) -> list[tuple[str, str, Leaf]]:
    """(method, route, field) for each body field whose type or format is in `kinds`."""
    found = {}
    for method, route, schema in json_bodies():
        for leaf in leaves(schema):
            kind = leaf.schema.get("format") or leaf.schema.get("type")
            if kind in kinds:
                found[(method, route, leaf.path)] = (method, route, leaf)
    return list(found.values())


NUMERIC_FIELDS = fields_of({"integer", "number"})
DATE_FIELDS = fields_of({"date"})
DATETIME_FIELDS = fields_of({"date-time"})


def query_parameters(kinds: set[str]) -> list[tuple[str, str]]:
    """(route, parameter) for each GET query parameter whose type or format is in `kinds`."""
    found = []
    for route, operations in SPEC["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] != "query":
                continue
            options = [_resolve(s) for s in parameter["schema"].get("anyOf", [parameter["schema"]])]
            if any((s.get("format") or s.get("type")) in kinds for s in options):
                found.append((route, parameter["name"]))
    return found


# --- one world in which every route's objects exist ------------------------------------------


@dataclass
class World:
    owner: Actor
    creator: Actor
    admin: Actor
    ids: dict[str, str]

    @property
    def actors(self) -> tuple[Actor, ...]:
        return (self.owner, self.creator, self.admin)

    def url(self, route: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self.ids[m.group(1)], route)


async def build_world(client: httpx.AsyncClient, app: Any) -> World:
    owner = await factories.brand(client)
    creator = await factories.applicant(client)
    await factories.put_address(client, creator)
    brief = await factories.open_brief(client, owner, **GIFTED)
    deal = await factories.active_deal(client, owner, brief, creator)
    unit = (await factories.deliverables(client, creator, deal))[0]
    unit = await factories.submit_draft(client, creator, deal, unit)
    r = await client.post(
        f"/v1/deals/{deal['id']}/shipments", json={"carrier": "DHL"}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    hook = await client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=owner.headers
    )
    assert hook.status_code == 201, hook.text
    draft = await factories.brief(client, owner)
    return World(
        owner=owner,
        creator=creator,
        admin=await factories.admin(client, app),
        ids={
            "brief_id": draft["id"],
            "brand_id": str(owner.brand_id),
            "deal_id": deal["id"],
            "application_id": deal["application_id"],
            "deliverable_id": unit["id"],
            "submission_id": unit["submissions"][-1]["id"],
            "shipment_id": r.json()["id"],
            "account_id": creator.extra["account_ids"][0],
            "webhook_id": hook.json()["id"],
            "version": "1",
        },
    )


async def refusals(
    client: httpx.AsyncClient, world: World, method: str, route: str, body: Any
) -> list[httpx.Response]:
    """The answers of every role: the route's own gets past authorization."""
    answers = []
    for actor in world.actors:
        answers.append(
            await client.request(method, world.url(route), json=body, headers=actor.headers)
        )
    return answers


def refused_at(answers: list[httpx.Response], loc: list[str | int]) -> bool:
    return any(
        r.status_code == 422
        and r.headers["content-type"].startswith("application/problem+json")
        and loc in [e["loc"] for e in r.json().get("errors", [])]
        for r in answers
    )


# --- 18: strict numbers -------------------------------------------------------------------


def test_the_walk_finds_the_numeric_fields_the_issue_names() -> None:
    names = {leaf.path[-1] for _, _, leaf in NUMERIC_FIELDS}
    assert {
        "slots",
        "quantity",
        "max_revision_rounds",
        "review_window_days",
        "commission_rate_percent",
        "expires_in_days",
        "min_engagement_rate",
        "followers",
        "US",
    } <= names


async def test_every_numeric_body_field_refuses_true(client: httpx.AsyncClient, app: Any) -> None:
    world = await build_world(client, app)
    accepted = []
    for method, route, leaf in NUMERIC_FIELDS:
        answers = await refusals(client, world, method, route, body_with(leaf.path, True))
        if not refused_at(answers, ["body", *leaf.path]):
            accepted.append(f"{method} {route} {'.'.join(map(str, leaf.path))}")
    assert accepted == []


@pytest.mark.parametrize("value", [False, "5", 5.0])
async def test_an_integer_field_takes_a_json_integer_only(
    client: httpx.AsyncClient, value: Any
) -> None:
    owner = await factories.brand(client)
    r = await client.post(
        "/v1/briefs", json=factories.brief_body(slots=value), headers=owner.headers
    )
    problem = assert_problem(r, 422, "validation_error")
    assert ["body", "slots"] in [e["loc"] for e in problem["errors"]]


async def test_a_number_field_still_takes_an_integer(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    body = factories.brief_body(min_engagement_rate=1)
    r = await client.post("/v1/briefs", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert r.json()["min_engagement_rate"] == 1.0
    r = await client.post(
        "/v1/briefs", json=factories.brief_body(min_engagement_rate=True), headers=owner.headers
    )
    assert_problem(r, 422, "validation_error")


# --- 15: bounded dates and times ------------------------------------------------------------

OUT_OF_RANGE_DATES = ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31", 0, "0", "20260101"]
OUT_OF_RANGE_DATETIMES = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "1999-12-31T23:59:59Z",
    "2101-01-01T00:00:00Z",
    "2026-12-01T10:00:00",  # no offset
    0,
    "0.5",
    1_900_000_000,
]


async def test_every_date_field_refuses_dates_outside_2000_to_2100(
    client: httpx.AsyncClient, app: Any
) -> None:
    world = await build_world(client, app)
    accepted = []
    for method, route, leaf in DATE_FIELDS:
        for value in OUT_OF_RANGE_DATES:
            answers = await refusals(client, world, method, route, body_with(leaf.path, value))
            if not refused_at(answers, ["body", *leaf.path]):
                accepted.append(f"{method} {route} {'.'.join(map(str, leaf.path))}={value!r}")
    assert accepted == []


async def test_every_datetime_field_refuses_far_times_naive_times_and_timestamps(
    client: httpx.AsyncClient, app: Any
) -> None:
    world = await build_world(client, app)
    accepted = []
    for method, route, leaf in DATETIME_FIELDS:
        for value in OUT_OF_RANGE_DATETIMES:
            answers = await refusals(client, world, method, route, body_with(leaf.path, value))
            if not refused_at(answers, ["body", *leaf.path]):
                accepted.append(f"{method} {route} {'.'.join(map(str, leaf.path))}={value!r}")
    assert accepted == []


@pytest.mark.parametrize("deadline", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_a_deadline_at_the_end_of_the_calendar_is_422_not_500(
    client: httpx.AsyncClient, deadline: str
) -> None:
    owner = await factories.brand(client)
    r = await client.post(
        "/v1/briefs",
        json=factories.brief_body(application_deadline=deadline),
        headers=owner.headers,
    )
    problem = assert_problem(r, 422, "validation_error")
    assert ["body", "application_deadline"] in [e["loc"] for e in problem["errors"]]
    draft = await factories.brief(client, owner)
    r = await client.patch(
        f"/v1/briefs/{draft['id']}",
        json={"application_deadline": deadline},
        headers={**owner.headers, "If-Match": f'"{draft["version"]}"'},
    )
    assert_problem(r, 422, "validation_error")


async def test_dates_within_the_bounds_are_kept(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    draft = await factories.brief(
        client,
        owner,
        publish_start_date="2100-12-31",
        application_deadline="2100-12-30T23:00:00-14:00",
    )
    assert draft["publish_start_date"] == "2100-12-31"
    assert draft["application_deadline"].startswith("2100-12-31T13:00:00")


# --- 20: query parameters: ISO dates, plain decimal integers --------------------------------


def test_the_walk_finds_the_query_parameters_the_issue_names() -> None:
    assert ("/v1/briefs", "deadline_after") in query_parameters({"date-time"})
    assert ("/v1/deals/{deal_id}/usage-rights", "on") in query_parameters({"date"})
    assert ("/v1/briefs", "limit") in query_parameters({"integer"})


async def test_query_dates_must_be_iso_8601(client: httpx.AsyncClient, app: Any) -> None:
    world = await build_world(client, app)
    accepted = []
    for kind, values in (
        ("date", ["0", "1700000000", "2026-1-1", "9999-12-31", "2026-12-01T00:00:00Z"]),
        ("date-time", ["0", "0.5", "1700000000", "2026-12-01", "9999-12-31T23:59:59-14:00"]),
    ):
        for route, name in query_parameters({kind}):
            for value in values:
                answers = [
                    await client.get(world.url(route), params={name: value}, headers=actor.headers)
                    for actor in world.actors
                ]
                if not refused_at(answers, ["query", name]):
                    accepted.append(f"{route}?{name}={value}")
    assert accepted == []


async def test_query_integers_must_be_plain_decimal(client: httpx.AsyncClient, app: Any) -> None:
    world = await build_world(client, app)
    accepted = []
    for route, name in query_parameters({"integer", "number"}):
        for value in (" 5", "+5", "5_0", "5 ", "0x5", "1e3", "\u0665", "5\n"):
            answers = [
                await client.get(world.url(route), params={name: value}, headers=actor.headers)
                for actor in world.actors
            ]
            if not refused_at(answers, ["query", name]):
                accepted.append(f"{route}?{name}={value!r}")
    assert accepted == []


async def test_plain_query_numbers_and_iso_dates_still_work(
    client: httpx.AsyncClient, app: Any
) -> None:
    world = await build_world(client, app)
    r = await client.get(
        "/v1/briefs",
        params={
            "limit": "5",
            "deadline_after": "2026-01-01T00:00:00Z",
            "fee_min": "0",
            "currency": "EUR",
        },
        headers=world.creator.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.get(
        world.url("/v1/deals/{deal_id}/usage-rights"),
        params={"on": "2030-06-01"},
        headers=world.owner.headers,
    )
    assert r.status_code == 200, r.text
