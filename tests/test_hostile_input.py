"""Hostile input never causes a 500: every refusal is a 4xx problem with a stable code."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.settings import get_settings
from tests import factories
from tests.factories import PASSWORD, assert_problem, login, social_account, unique_email

JSON = {"Content-Type": "application/json"}


def _register_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"email": unique_email("h"), "password": PASSWORD, "role": "creator"}
    body.update(overrides)
    return body


def _cursor(values: Any) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- NUL bytes ------------------------------------------------------------------------------


async def test_nul_byte_in_json_strings_is_422(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await factories.creator(client)
    attempts = [
        client.patch(
            f"/v1/brands/{brand.brand_id}", json={"name": "a\x00b"}, headers=brand.headers
        ),
        client.patch("/v1/creators/me", json={"bio": "hi\x00"}, headers=creator.headers),
        client.patch(
            "/v1/creators/me", json={"content_styles": ["a\x00"]}, headers=creator.headers
        ),
        client.post(
            "/v1/creators/me/accounts",
            json=social_account(handle="@a\x00b"),
            headers=creator.headers,
        ),
        client.post("/v1/auth/register", json=_register_body(email="a\x00b@example.com")),
        client.post(
            "/v1/me/api-tokens",
            json={"name": "x\x00", "scopes": ["profile:read"]},
            headers=creator.headers,
        ),
    ]
    for attempt in attempts:
        r = await attempt
        assert_problem(r, 422)


async def test_nul_byte_in_a_password_is_422(client: httpx.AsyncClient) -> None:
    body = _register_body(password="correct horse\x00battery")
    r = await client.post("/v1/auth/register", json=body)
    problem = assert_problem(r, 422, "validation_error")
    assert ["body", "password"] in [e["loc"] for e in problem["errors"]]
    # Nothing was created.
    ok = await client.post("/v1/auth/register", json={**body, "password": PASSWORD})
    assert ok.status_code == 201, ok.text


async def test_nul_byte_in_sign_in_form_fields_is_a_4xx(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    for username, password in (
        ("a\x00b@example.com", PASSWORD),
        (actor.email, "pass\x00word-long-enough"),
    ):
        r = await login(client, username, password)
        assert 400 <= r.status_code < 500, r.text
        assert_problem(r, r.status_code)
    r = await client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": "abc\x00def"}
    )
    assert_problem(r, 400, "invalid_grant")


# --- numbers beyond the columns -------------------------------------------------------------


@pytest.mark.parametrize("value", [10**30, 2**63, -1, 1.5, "many", [1], {"n": 1}, True, False])
async def test_followers_outside_bigint_or_not_a_count_is_422(
    client: httpx.AsyncClient, value: Any
) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/creators/me/accounts", json=social_account(followers=value), headers=creator.headers
    )
    problem = assert_problem(r, 422)
    assert ["body", "followers"] in [e["loc"] for e in problem["errors"]]


async def test_huge_fee_is_422(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.patch(
        "/v1/creators/me",
        json={
            "rate_card_currency": "EUR",
            "rate_card": [{"platform": "instagram", "format": "post", "fee_minor": 10**40}],
        },
        headers=creator.headers,
    )
    assert_problem(r, 422, "validation_error")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_non_finite_numbers_are_422(client: httpx.AsyncClient, literal: str) -> None:
    creator = await factories.creator(client)
    body = json.dumps(social_account()).replace('"US": 40.0', f'"US": {literal}')
    assert literal in body
    r = await client.post(
        "/v1/creators/me/accounts", content=body, headers={**JSON, **creator.headers}
    )
    assert_problem(r, 422)


# --- size and shape -------------------------------------------------------------------------


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    limit = get_settings().max_body_bytes
    body = json.dumps(_register_body(display_name="x" * (limit + 10)))
    r = await client.post("/v1/auth/register", content=body, headers=JSON)
    assert_problem(r, 413)


async def test_streamed_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    limit = get_settings().max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", "display_name": "'
        for _ in range(limit // 65_536 + 2):
            yield b"x" * 65_536
        yield b'"}'

    r = await client.post("/v1/auth/register", content=chunks(), headers=JSON)
    assert "content-length" not in r.request.headers
    assert_problem(r, 413)


async def test_deeply_nested_json_is_a_4xx(client: httpx.AsyncClient) -> None:
    depth = 100_000
    creator = await factories.creator(client)
    body = '{"content_styles": ' + "[" * depth + "]" * depth + "}"
    r = await client.patch("/v1/creators/me", content=body, headers={**JSON, **creator.headers})
    assert 400 <= r.status_code < 500, r.text
    assert_problem(r, r.status_code)
    nested_object = '{"a":' * depth + "1" + "}" * depth
    r = await client.post("/v1/auth/register", content=nested_object, headers=JSON)
    assert 400 <= r.status_code < 500, r.text
    assert_problem(r, r.status_code)


async def test_long_lists_and_strings_are_refused(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    for body in (
        {"content_styles": ["style"] * 1_000},
        {"bio": "x" * 100_000},
        {
            "rate_card_currency": "EUR",
            "rate_card": [{"platform": "instagram", "format": "post", "fee_minor": 1}] * 500,
        },
    ):
        r = await client.patch("/v1/creators/me", json=body, headers=creator.headers)
        assert_problem(r, 422, "validation_error")


@pytest.mark.parametrize("body", ["{", "{'email': 1}", "[1, 2", '{"a": 1}}', "\xff\xfe"])
async def test_invalid_json_is_400(client: httpx.AsyncClient, body: str) -> None:
    r = await client.post("/v1/auth/register", content=body.encode("latin-1"), headers=JSON)
    assert_problem(r, 400, "malformed_json")


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
async def test_json_of_the_wrong_shape_is_422(client: httpx.AsyncClient, body: str) -> None:
    r = await client.post("/v1/auth/register", content=body, headers=JSON)
    assert_problem(r, 422, "validation_error")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_wrong_content_type_is_refused(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = await client.post(
        "/v1/auth/register", content=json.dumps(_register_body()), headers=headers
    )
    assert 400 <= r.status_code < 500, r.text
    assert_problem(r, r.status_code)


async def test_token_endpoint_refuses_json(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    r = await client.post(
        "/v1/auth/token",
        json={"grant_type": "password", "username": actor.email, "password": PASSWORD},
    )
    assert_problem(r, 400, "invalid_request")


async def test_wrong_types_are_422_with_every_field_error(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.patch(
        "/v1/creators/me",
        json={"display_name": 5, "accepts_gifting": "perhaps", "niches": "food"},
        headers=creator.headers,
    )
    problem = assert_problem(r, 422, "validation_error")
    fields = {e["loc"][1] for e in problem["errors"]}
    assert {"display_name", "accepts_gifting", "niches"} <= fields
    for error in problem["errors"]:
        assert set(error) == {"loc", "msg", "type"}


# --- routing and problem shape --------------------------------------------------------------


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    for path in ("/v1/nothing-here", "/nothing", "/v1/brands/"):
        assert_problem(await client.get(path), 404, "not_found")


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    r = await client.delete("/v1/auth/register")
    assert_problem(r, 405, "method_not_allowed")
    assert "POST" in r.headers["allow"]
    assert_problem(await client.put("/healthz"), 405, "method_not_allowed")


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    ok = await client.get("/healthz")
    problem = await client.get("/v1/me")
    assert ok.headers["x-request-id"]
    assert problem.headers["x-request-id"] != ok.headers["x-request-id"]
    assert problem.json()["request_id"] == problem.headers["x-request-id"]


async def test_a_safe_incoming_request_id_is_echoed_and_an_unsafe_one_replaced(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "edge-7f1c.42"})
    assert r.headers["x-request-id"] == "edge-7f1c.42"
    hostile = "bad id <script>"
    r = await client.get("/healthz", headers={"X-Request-ID": hostile})
    assert r.headers["x-request-id"] != hostile
    assert r.headers["x-request-id"].isalnum()


# --- pagination -----------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["101", str(10**30)])
async def test_page_size_above_the_maximum_is_422(client: httpx.AsyncClient, limit: str) -> None:
    creator = await factories.creator(client)
    r = await client.get("/v1/me/api-tokens", params={"limit": limit}, headers=creator.headers)
    assert_problem(r, 422, "page_size_too_large")


@pytest.mark.parametrize("limit", ["0", "-5", "ten", "1.5"])
async def test_page_size_that_is_not_a_positive_integer_is_422(
    client: httpx.AsyncClient, limit: str
) -> None:
    creator = await factories.creator(client)
    r = await client.get("/v1/me/api-tokens", params={"limit": limit}, headers=creator.headers)
    assert_problem(r, 422, "validation_error")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "%00",
        _cursor({"a": 1}),
        _cursor([1]),
        _cursor(["2026-11-21T10:00:00+00:00", "not-a-uuid"]),
        _cursor(["yesterday", "7f1c0000-0000-4000-8000-000000000000"]),
        _cursor([10**30, 10**30]),
        _cursor([None, "7f1c0000-0000-4000-8000-000000000000", 3]),
    ],
)
async def test_garbage_cursor_is_422(client: httpx.AsyncClient, cursor: str) -> None:
    creator = await factories.creator(client)
    await factories.api_token(client, creator, ["profile:read"])
    r = await client.get("/v1/me/api-tokens", params={"cursor": cursor}, headers=creator.headers)
    assert_problem(r, 422, "invalid_cursor")


@pytest.mark.parametrize(
    "moment", ["2026-11-21T10:00:00", "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59+00:00"]
)
async def test_tampered_but_well_formed_cursor_never_fails_the_server(
    client: httpx.AsyncClient, moment: str
) -> None:
    creator = await factories.creator(client)
    await factories.api_token(client, creator, ["profile:read"])
    cursor = _cursor([moment, "7f1c0000-0000-4000-8000-000000000000"])
    r = await client.get("/v1/me/api-tokens", params={"cursor": cursor}, headers=creator.headers)
    assert r.status_code in (200, 422), r.text


async def test_oversized_cursor_is_422(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.get(
        "/v1/me/api-tokens", params={"cursor": "A" * 10_000}, headers=creator.headers
    )
    assert_problem(r, 422)
