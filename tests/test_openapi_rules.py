"""The OpenAPI document is fit for client generators and says what the server does.

Each test names one rule of api/openapi.py, checked over every operation it concerns, and
where the rule describes behaviour, the behaviour too.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

import api.models
from api.openapi_examples import REQUEST_EXAMPLES
from api.settings import get_settings
from tests import factories
from tests.factories import assert_problem

METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in app.openapi()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _header(op: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next(
        (
            p
            for p in op.get("parameters", [])
            if p["in"] == "header" and p["name"].lower() == name.lower()
        ),
        None,
    )


def _models() -> dict[str, type[BaseModel]]:
    found = {}
    for info in pkgutil.iter_modules(api.models.__path__, "api.models."):
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, type) and issubclass(value, BaseModel):
                found[value.__name__] = value
    return found


def test_every_signed_in_post_documents_idempotency_key(app: FastAPI) -> None:
    missing = [
        path
        for method, path, op in _operations(app)
        if method == "post" and op.get("security") and _header(op, "Idempotency-Key") is None
    ]
    assert missing == []
    # Only POST honours the key: nothing else documents it.
    elsewhere = [
        (method, path)
        for method, path, op in _operations(app)
        if method != "post" and _header(op, "Idempotency-Key")
    ]
    assert elsewhere == []


def test_if_match_is_required_exactly_where_428_is_the_answer(app: FastAPI) -> None:
    for method, path, op in _operations(app):
        header = _header(op, "If-Match")
        if "428" in op["responses"]:
            assert header is not None, (method, path)
            assert header["required"] is True, (method, path)
        elif header is not None:
            assert header["required"] is False, (method, path)


async def test_brief_update_without_if_match_is_the_documented_428(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.brief(client, brand)
    r = await client.patch(
        f"/v1/briefs/{brief['id']}", json={"title": "New"}, headers=brand.headers
    )
    assert_problem(r, 428, "precondition_required")
    header = _header(app.openapi()["paths"]["/v1/briefs/{brief_id}"]["patch"], "If-Match")
    assert header is not None
    assert header["required"] is True


def test_every_limit_documents_the_page_size_bounds(app: FastAPI) -> None:
    settings = get_settings()
    limits = [
        p["schema"]
        for _, _, op in _operations(app)
        for p in op.get("parameters", [])
        if p["in"] == "query" and p["name"] == "limit"
    ]
    assert len(limits) > 10
    for schema in limits:
        assert schema["type"] == "integer"
        assert schema["minimum"] == 1
        assert schema["maximum"] == settings.max_page_size
        assert schema["default"] == settings.default_page_size


async def test_a_limit_above_the_documented_maximum_is_refused(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    maximum = get_settings().max_page_size
    ok = await client.get(f"/v1/briefs?mine=true&limit={maximum}", headers=brand.headers)
    assert ok.status_code == 200
    r = await client.get(f"/v1/briefs?mine=true&limit={maximum + 1}", headers=brand.headers)
    assert_problem(r, 422)


def test_every_request_body_carries_an_example(app: FastAPI) -> None:
    missing = [
        (method, path)
        for method, path, op in _operations(app)
        for media in op.get("requestBody", {}).get("content", {}).values()
        if "example" not in media
    ]
    assert missing == []


@pytest.mark.parametrize("name", sorted(n for n in REQUEST_EXAMPLES if n[0].isupper()))
def test_each_request_example_is_valid_for_its_schema(name: str) -> None:
    _models()[name].model_validate(REQUEST_EXAMPLES[name])


def test_every_operation_and_tag_is_described(app: FastAPI) -> None:
    document = app.openapi()
    undescribed = [op["operationId"] for _, _, op in _operations(app) if not op.get("description")]
    assert undescribed == []
    described = {t["name"] for t in document["tags"] if t.get("description")}
    used = {tag for _, _, op in _operations(app) for tag in op.get("tags", [])}
    assert used - described == set()


def test_schema_names_are_fit_for_generated_clients(app: FastAPI) -> None:
    names = list(app.openapi()["components"]["schemas"])
    assert [n for n in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", n)] == []
    assert "BriefReadPage" in names
    assert "IssueTokenRequest" in names


def test_match_parts_uses_the_match_parts_schema(app: FastAPI) -> None:
    application = app.openapi()["components"]["schemas"]["ApplicationRead"]
    assert application["properties"]["match_parts"]["$ref"] == "#/components/schemas/MatchParts"


def _json_body_operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (m, p, op)
        for m, p, op in _operations(app)
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]


def test_every_json_body_documents_the_400_for_malformed_json(app: FastAPI) -> None:
    assert [p for _, p, op in _json_body_operations(app) if "400" not in op["responses"]] == []


async def test_malformed_json_is_the_documented_400(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.patch(
        "/v1/creators/me",
        content=b'{"bio": "unterminated',
        headers={**creator.headers, "Content-Type": "application/json"},
    )
    assert_problem(r, 400, "malformed_json")
    # Well-formed JSON of the wrong shape stays a 422 naming the field.
    r = await client.patch("/v1/creators/me", json={"bio": 5}, headers=creator.headers)
    assert_problem(r, 422, "validation_error")


async def test_405_allow_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    r = await client.delete("/v1/briefs")
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, POST"
    r = await client.put(f"/v1/briefs/{uuid.uuid4()}")
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, PATCH"
    r = await client.post("/v1/me/api-tokens/x")
    assert r.headers["allow"] == "DELETE"
    # `{message_id}` is a UUID: it does not claim its sibling `messages/read`.
    for thread in (f"applications/{uuid.uuid4()}", f"deals/{uuid.uuid4()}"):
        r = await client.delete(f"/v1/{thread}/messages/read")
        assert_problem(r, 405, "method_not_allowed")
        assert r.headers["allow"] == "POST"
        r = await client.get(f"/v1/{thread}/messages/{uuid.uuid4()}")
        assert r.headers["allow"] == "DELETE"


# Fields a PATCH may omit but not clear: the schema must not offer null, and null is a 422.
NOT_NULLABLE = {
    "BrandUpdate": ["name"],
    "BriefUpdate": ["target_audience", "title"],
    "CreatorUpdate": ["content_styles", "display_name"],
    "SocialAccountUpdate": ["followers", "source", "handle"],
    "ShipmentUpdate": ["tracking_number", "carrier"],
}


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(_nullable(b) for b in schema.get("anyOf", []))


def test_patch_fields_are_nullable_in_the_schema_only_where_null_is_accepted(
    app: FastAPI,
) -> None:
    schemas = app.openapi()["components"]["schemas"]
    for name, fields in NOT_NULLABLE.items():
        for field in fields:
            assert not _nullable(schemas[name]["properties"][field]), (name, field)
    # Clearable fields stay nullable.
    assert _nullable(schemas["BriefUpdate"]["properties"]["description"])
    assert _nullable(schemas["BrandUpdate"]["properties"]["website"])


async def test_null_for_a_not_nullable_field_is_a_422(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await factories.creator(client)
    r = await client.patch(
        f"/v1/brands/{brand.brand_id}", json={"name": None}, headers=brand.headers
    )
    assert_problem(r, 422, "validation_error")
    r = await client.patch(
        "/v1/creators/me", json={"content_styles": None}, headers=creator.headers
    )
    assert_problem(r, 422, "validation_error")


def test_registration_is_documented_as_a_union_by_role(app: FastAPI) -> None:
    document = app.openapi()
    body = document["paths"]["/v1/auth/register"]["post"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    assert schema["discriminator"]["propertyName"] == "role"
    schemas = document["components"]["schemas"]
    brand, creator = schemas["BrandRegistration"], schemas["CreatorRegistration"]
    # A brand account creates its brand or joins one by invitation: exactly one of them.
    assert "exactly one of `brand` and `invitation_token`" in brand["description"]
    assert "oneOf" not in brand  # generated clients would read it as a union of types
    assert "invitation_token" not in creator["properties"]
    assert "display_name" not in brand["properties"]
    assert "brand" not in creator["properties"]
    assert brand["additionalProperties"] is False
    assert "RegisterRequest" not in schemas


async def test_registration_refuses_the_other_roles_fields(client: httpx.AsyncClient) -> None:
    base = {"password": factories.PASSWORD}
    cases = [
        ({"role": "brand"}, ["body", "brand"]),
        (
            {"role": "brand", "brand": {"name": "X"}, "display_name": "Ana"},
            ["body", "display_name"],
        ),
        ({"role": "creator", "brand": {"name": "X"}}, ["body", "brand"]),
        ({"role": "creator", "invitation_token": "bbi_x"}, ["body", "invitation_token"]),
        ({"role": "brand", "brand": {"name": "X"}, "invitation_token": "bbi_x"}, ["body", "brand"]),
    ]
    for extra, loc in cases:
        body = {**base, "email": factories.unique_email("role"), **extra}
        r = await client.post("/v1/auth/register", json=body)
        problem = assert_problem(r, 422, "validation_error")
        assert loc in [e["loc"] for e in problem["errors"]], problem


def test_usage_rights_say_duration_or_perpetual_and_worldwide_or_countries(app: FastAPI) -> None:
    rules = app.openapi()["components"]["schemas"]["UsageRights"]["allOf"]
    perpetual, territory = (rule["oneOf"] for rule in rules)
    assert {"perpetual", "duration_days"} <= set(perpetual[0]["properties"])
    assert perpetual[1]["required"] == ["duration_days"]
    assert {"worldwide", "countries"} <= set(territory[1]["properties"])


async def test_maps_keyed_by_a_pattern_refuse_other_keys(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    countries = app.openapi()["components"]["schemas"]["AudienceDemographics"]["properties"][
        "countries"
    ]
    assert countries["additionalProperties"] is False
    creator = await factories.creator(client)
    account = factories.social_account(audience={"countries": {"Spain": 40.0}})
    r = await client.post("/v1/creators/me/accounts", json=account, headers=creator.headers)
    assert_problem(r, 422, "validation_error")


def test_event_types_are_listed_from_the_catalog(app: FastAPI) -> None:
    from api.services.event_catalog import EVENT_TYPES, unknown_types

    document = app.openapi()
    webhook = document["components"]["schemas"]["WebhookCreate"]["properties"]["event_types"]
    (feed,) = [
        p for p in document["paths"]["/v1/events"]["get"]["parameters"] if p["name"] == "type"
    ]
    for listed in (webhook["items"]["enum"], feed["schema"]["anyOf"][0]["items"]["enum"]):
        assert set(EVENT_TYPES) < set(listed)
        assert unknown_types(listed) == []


async def test_an_event_type_outside_the_list_is_refused(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    r = await client.get("/v1/events", params={"type": "_._"}, headers=brand.headers)
    assert_problem(r, 422, "unknown_event_type")
