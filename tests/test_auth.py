"""Registration, the OAuth2 token endpoint, refresh rotation, logout and login throttling."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.main import create_app, lifespan
from api.settings import get_settings
from tests import factories
from tests.factories import PASSWORD, assert_problem, login, unique_email


def _creator_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": unique_email("creator"),
        "password": PASSWORD,
        "role": "creator",
    }
    body.update(overrides)
    return body


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


def _error_locs(problem: dict[str, Any]) -> list[list[str | int]]:
    return [e["loc"] for e in problem.get("errors", [])]


# --- registration ---------------------------------------------------------------------------


async def test_brand_registers_and_gets_its_brand_as_owner(client: httpx.AsyncClient) -> None:
    email = unique_email("brand")
    r = await client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "role": "brand", "brand": {"name": "Glow"}},
    )
    assert r.status_code == 201, r.text
    me = r.json()
    assert me["email"] == email
    assert me["role"] == "brand"
    assert me["brand_id"] is not None
    assert me["creator_id"] is None

    tokens = await login(client, email)
    brand = await client.get(
        f"/v1/brands/{me['brand_id']}", headers=factories.bearer(tokens.json()["access_token"])
    )
    assert brand.status_code == 200
    assert brand.json()["name"] == "Glow"


async def test_creator_registers_with_an_empty_profile(client: httpx.AsyncClient) -> None:
    body = _creator_body(display_name="Ana Cooks")
    r = await client.post("/v1/auth/register", json=body)
    assert r.status_code == 201, r.text
    me = r.json()
    assert me["role"] == "creator"
    assert me["brand_id"] is None
    assert me["creator_id"] is not None

    tokens = await login(client, body["email"])
    profile = await client.get(
        "/v1/creators/me", headers=factories.bearer(tokens.json()["access_token"])
    )
    assert profile.status_code == 200
    assert profile.json()["id"] == me["creator_id"]
    assert profile.json()["display_name"] == "Ana Cooks"
    assert profile.json()["accounts"] == []
    assert profile.json()["rate_card"] == []


async def test_email_is_stored_lower_case_and_unique_case_insensitively(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email("ana")
    first = await client.post("/v1/auth/register", json=_creator_body(email=email.upper()))
    assert first.status_code == 201, first.text
    assert first.json()["email"] == email

    again = await client.post("/v1/auth/register", json=_creator_body(email=email))
    assert_problem(again, 409, "email_taken")
    as_brand = await client.post(
        "/v1/auth/register",
        json={
            "email": email.title(),
            "password": PASSWORD,
            "role": "brand",
            "brand": {"name": "X"},
        },
    )
    assert_problem(as_brand, 409, "email_taken")


async def test_brand_registration_without_brand_name_is_refused(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email("brand")
    without = await client.post(
        "/v1/auth/register", json={"email": email, "password": PASSWORD, "role": "brand"}
    )
    assert_problem(without, 422)
    empty = await client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "role": "brand", "brand": {}},
    )
    problem = assert_problem(empty, 422, "validation_error")
    assert ["body", "brand", "name"] in _error_locs(problem)
    # Nothing was created: the email is still free.
    ok = await client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "role": "brand", "brand": {"name": "Ok"}},
    )
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "ana@@example.com"}, "email"),
        ({"email": "x" * 400 + "@example.com"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "p" * 300}, "password"),
        ({"role": "admin"}, "role"),
        ({"role": "superuser"}, "role"),
        ({"is_admin": True}, "is_admin"),
        ({"brand_id": "7f1c0000-0000-0000-0000-000000000000"}, "brand_id"),
    ],
)
async def test_register_rejects_bad_input_with_field_errors(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    r = await client.post("/v1/auth/register", json=_creator_body(**overrides))
    problem = assert_problem(r, 422, "validation_error")
    assert any(loc[:2] == ["body", field] for loc in _error_locs(problem)), problem
    # Field errors never echo what was sent (it may be a password).
    assert "input" not in problem["errors"][0]
    assert "ppppp" not in r.text


async def test_register_reports_every_field_error_at_once(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/auth/register", json={"email": "nope", "password": "short", "role": "admin"}
    )
    problem = assert_problem(r, 422, "validation_error")
    fields = {loc[1] for loc in _error_locs(problem)}
    assert {"email", "password", "role"} <= fields


# --- password grant -------------------------------------------------------------------------


async def test_password_grant_issues_bearer_access_and_refresh_tokens(
    client: httpx.AsyncClient,
) -> None:
    actor = await factories.creator(client)
    r = await login(client, actor.email)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().access_token_ttl_seconds
    assert body["refresh_token"]
    assert r.headers["cache-control"] == "no-store"  # RFC 6749 section 5.1
    me = await client.get("/v1/me", headers=factories.bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == str(actor.user_id)


async def test_password_grant_accepts_the_email_in_any_case(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    r = await login(client, actor.email.upper())
    assert r.status_code == 200, r.text


async def test_wrong_password_is_invalid_credentials(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    r = await login(client, actor.email, "wrong password entirely")
    assert_problem(r, 400, "invalid_credentials")


async def test_unknown_email_answers_like_a_wrong_password(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    wrong = await login(client, actor.email, "wrong password entirely")
    unknown = await login(client, unique_email("nobody"))
    wrong_body = assert_problem(wrong, 400, "invalid_credentials")
    unknown_body = assert_problem(unknown, 400, "invalid_credentials")
    assert wrong_body["detail"] == unknown_body["detail"]


async def test_password_grant_requires_username_and_password(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/auth/token", data={"grant_type": "password", "username": "a@b.co"})
    assert_problem(r, 400, "invalid_request")


async def test_unknown_grant_type_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/auth/token", data={"grant_type": "client_credentials", "client_id": "x"}
    )
    assert_problem(r, 400, "unsupported_grant_type")


async def test_suspended_user_cannot_sign_in(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await factories.admin(client, app)
    creator = await factories.creator(client)
    r = await client.post(f"/v1/admin/users/{creator.user_id}/suspend", headers=admin.headers)
    assert r.status_code == 200, r.text

    assert_problem(await login(client, creator.email), 400, "account_suspended")
    # A wrong password still reveals nothing about the account's state.
    assert_problem(
        await login(client, creator.email, "not the password"), 400, "invalid_credentials"
    )


# --- refresh grant --------------------------------------------------------------------------


async def test_refresh_grant_rotates_the_refresh_token(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    r = await _refresh(client, actor.refresh_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refresh_token"] != actor.refresh_token
    assert body["token_type"] == "bearer"
    assert r.headers["cache-control"] == "no-store"
    me = await client.get("/v1/me", headers=factories.bearer(body["access_token"]))
    assert me.status_code == 200
    # The new refresh token works in turn.
    again = await _refresh(client, body["refresh_token"])
    assert again.status_code == 200, again.text


async def test_rotated_refresh_token_reuse_revokes_family(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    rotated = await _refresh(client, actor.refresh_token)
    assert rotated.status_code == 200, rotated.text
    successor = rotated.json()["refresh_token"]

    reuse = await _refresh(client, actor.refresh_token)
    assert_problem(reuse, 400, "refresh_token_reused")
    # The token the thief (or the owner) got from the same family is dead too.
    assert_problem(await _refresh(client, successor), 400, "invalid_grant")


async def test_reuse_revokes_only_that_family(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    other_session = (await login(client, actor.email)).json()["refresh_token"]
    assert (await _refresh(client, actor.refresh_token)).status_code == 200
    assert_problem(await _refresh(client, actor.refresh_token), 400, "refresh_token_reused")
    assert (await _refresh(client, other_session)).status_code == 200


async def test_concurrent_use_of_one_refresh_token_lets_only_one_win(
    client: httpx.AsyncClient,
) -> None:
    actor = await factories.creator(client)
    first, second = await asyncio.gather(
        _refresh(client, actor.refresh_token), _refresh(client, actor.refresh_token)
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 400], (first.text, second.text)
    winner = first if first.status_code == 200 else second
    loser = second if winner is first else first
    assert_problem(loser, 400, "refresh_token_reused")
    assert_problem(await _refresh(client, winner.json()["refresh_token"]), 400, "invalid_grant")


async def test_unknown_refresh_token_is_invalid_grant(client: httpx.AsyncClient) -> None:
    assert_problem(await _refresh(client, "not-a-token-we-issued"), 400, "invalid_grant")


async def test_refresh_grant_requires_the_token(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/auth/token", data={"grant_type": "refresh_token"})
    assert_problem(r, 400, "invalid_request")


async def test_expired_refresh_token_is_refused(client: httpx.AsyncClient, app: FastAPI) -> None:
    actor = await factories.creator(client)
    async with app.state.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' "
                "WHERE user_id = :uid"
            ),
            {"uid": actor.user_id},
        )
    assert_problem(await _refresh(client, actor.refresh_token), 400, "invalid_grant")


# --- logout ---------------------------------------------------------------------------------


async def test_revoke_makes_the_refresh_token_unusable(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    r = await client.post(
        "/v1/auth/revoke", json={"refresh_token": actor.refresh_token}, headers=actor.headers
    )
    assert r.status_code == 204, r.text
    assert_problem(await _refresh(client, actor.refresh_token), 400, "invalid_grant")


async def test_revoke_ends_the_tokens_rotated_from_it(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    successor = (await _refresh(client, actor.refresh_token)).json()["refresh_token"]
    r = await client.post(
        "/v1/auth/revoke", json={"refresh_token": actor.refresh_token}, headers=actor.headers
    )
    assert r.status_code == 204
    assert_problem(await _refresh(client, successor), 400, "invalid_grant")


async def test_anonymous_revoke_is_unauthorized(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    r = await client.post("/v1/auth/revoke", json={"refresh_token": actor.refresh_token})
    assert_problem(r, 401, "not_authenticated")
    assert r.headers["www-authenticate"] == "Bearer"
    assert (await _refresh(client, actor.refresh_token)).status_code == 200


async def test_revoke_needs_the_profile_write_scope(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    token = await factories.api_token(client, actor, ["briefs:read"])
    r = await client.post(
        "/v1/auth/revoke",
        json={"refresh_token": actor.refresh_token},
        headers=factories.bearer(token["token"]),
    )
    assert_problem(r, 403, "insufficient_scope")
    assert (await _refresh(client, actor.refresh_token)).status_code == 200


async def test_revoking_another_users_refresh_token_does_nothing(
    client: httpx.AsyncClient,
) -> None:
    victim = await factories.creator(client)
    other = await factories.brand(client)
    r = await client.post(
        "/v1/auth/revoke", json={"refresh_token": victim.refresh_token}, headers=other.headers
    )
    assert r.status_code == 204
    assert (await _refresh(client, victim.refresh_token)).status_code == 200


async def test_revoke_rejects_unknown_fields(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    r = await client.post(
        "/v1/auth/revoke",
        json={"refresh_token": actor.refresh_token, "all": True},
        headers=actor.headers,
    )
    assert_problem(r, 422, "validation_error")


# --- throttling -----------------------------------------------------------------------------


async def _fail_logins(client: httpx.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        r = await login(client, email, "wrong password entirely")
        assert_problem(r, 400, "invalid_credentials")


async def test_repeated_failures_throttle_the_account_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    settings = get_settings()
    actor = await factories.creator(client)
    await _fail_logins(client, actor.email, settings.login_max_failures_per_account)

    # Blocked now, even with the right password.
    r = await login(client, actor.email)
    assert_problem(r, 429, "login_throttled")
    retry_after = int(r.headers["retry-after"])
    assert 1 <= retry_after <= settings.login_lockout_seconds + 1


async def test_failures_below_the_limit_do_not_throttle(client: httpx.AsyncClient) -> None:
    settings = get_settings()
    actor = await factories.creator(client)
    await _fail_logins(client, actor.email, settings.login_max_failures_per_account - 1)
    r = await login(client, actor.email)
    assert r.status_code == 200, r.text
    # A success clears the account's count: the full allowance is available again.
    await _fail_logins(client, actor.email, settings.login_max_failures_per_account - 1)
    assert (await login(client, actor.email)).status_code == 200


async def test_throttled_account_does_not_block_another_account_elsewhere(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    settings = get_settings()
    locked = await factories.creator(client)
    other = await factories.creator(client)
    await _fail_logins(client, locked.email, settings.login_max_failures_per_account)
    assert (await login(client, locked.email)).status_code == 429

    async with factories.client_at(app, "203.0.113.9") as elsewhere:
        assert (await login(elsewhere, other.email)).status_code == 200
        # The lock is on the account, wherever the attempt comes from.
        assert_problem(await login(elsewhere, locked.email), 429, "login_throttled")


async def test_throttle_counters_live_in_the_database_for_every_worker(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    settings = get_settings()
    actor = await factories.creator(client)
    await _fail_logins(client, actor.email, settings.login_max_failures_per_account)

    async with app.state.engine.connect() as conn:
        failures = await conn.scalar(
            text("SELECT failures FROM login_throttles WHERE key = :key"),
            {"key": f"account:{actor.email}"},
        )
    assert failures == settings.login_max_failures_per_account

    # A second worker: its own app, engine and pool, sharing only the database.
    worker = create_app(settings)
    async with lifespan(worker):
        transport = httpx.ASGITransport(app=worker, client=("198.51.100.7", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://w2") as second:
            assert_problem(await login(second, actor.email), 429, "login_throttled")


async def test_repeated_failures_from_one_address_throttle_that_address(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    settings = get_settings()
    actor = await factories.creator(client)
    async with factories.client_at(app, "192.0.2.66") as attacker:
        for i in range(settings.login_max_failures_per_address):
            r = await login(attacker, f"spray{i}-{unique_email('x')}")
            assert r.status_code == 400, (i, r.text)
        blocked = await login(attacker, actor.email)
        assert_problem(blocked, 429, "login_throttled")
        assert int(blocked.headers["retry-after"]) >= 1
    # The account itself is fine from another address.
    assert (await login(client, actor.email)).status_code == 200


# --- secrets never leave --------------------------------------------------------------------


async def test_password_hash_is_never_returned(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await factories.admin(client, app)
    body = _creator_body()
    register = await client.post("/v1/auth/register", json=body)
    token = (await login(client, body["email"])).json()["access_token"]
    responses = [
        register,
        await client.get("/v1/me", headers=factories.bearer(token)),
        await client.get("/v1/admin/users", headers=admin.headers),
        await client.post(
            f"/v1/admin/users/{register.json()['id']}/suspend", headers=admin.headers
        ),
    ]
    for r in responses:
        assert r.status_code in (200, 201), r.text
        assert "password" not in r.text
        assert "$argon2" not in r.text
        assert PASSWORD not in r.text
