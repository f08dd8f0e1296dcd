"""The token endpoint as an OAuth2 client library meets it (authlib, RFC 6749 section 5.2).

A client library reads the JSON body of a 4xx answer: without an `error` member it takes the
body for a token. Each failure must raise the library's OAuthError with the right `error`.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.settings import get_settings
from tests import factories
from tests.factories import PASSWORD

with warnings.catch_warnings():
    # authlib's httpx client runs on httpx here (the test client's transport) and warns that
    # httpx2 is its future; the warning filter it installs itself would override pytest's.
    import authlib.deprecate  # installs its "always" filter first, so ours can come before it

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

TOKEN_URL = "http://testserver/v1/auth/token"


@pytest.fixture
async def oauth(app: FastAPI) -> AsyncIterator[AsyncOAuth2Client]:
    # A public client (no secret): how a mobile app or a CLI signs in.
    transport = httpx.ASGITransport(app=app, client=("198.51.100.40", 4040))
    async with AsyncOAuth2Client(
        client_id="briefboard-cli",
        token_endpoint_auth_method="none",
        transport=transport,
        base_url="http://testserver",
    ) as client:
        yield client


async def _oauth_error(call: object) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_client_signs_in_refreshes_and_calls_the_api(
    client: httpx.AsyncClient, oauth: AsyncOAuth2Client
) -> None:
    actor = await factories.creator(client)
    token = await oauth.fetch_token(
        TOKEN_URL, grant_type="password", username=actor.email, password=PASSWORD
    )
    assert token["token_type"] == "bearer"
    me = await oauth.get("/v1/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == actor.email

    renewed = await oauth.refresh_token(TOKEN_URL, refresh_token=token["refresh_token"])
    assert renewed["refresh_token"] != token["refresh_token"]


async def test_wrong_password_raises_invalid_grant(
    client: httpx.AsyncClient, oauth: AsyncOAuth2Client
) -> None:
    actor = await factories.creator(client)
    error = await _oauth_error(
        oauth.fetch_token(
            TOKEN_URL, grant_type="password", username=actor.email, password="not the password"
        )
    )
    assert error.error == "invalid_grant"
    assert error.description == "wrong email or password"
    assert oauth.token is None


async def test_unknown_grant_type_raises_unsupported_grant_type(
    oauth: AsyncOAuth2Client,
) -> None:
    error = await _oauth_error(oauth.fetch_token(TOKEN_URL, grant_type="client_credentials"))
    assert error.error == "unsupported_grant_type"


async def test_missing_password_raises_invalid_request(
    client: httpx.AsyncClient, oauth: AsyncOAuth2Client
) -> None:
    actor = await factories.creator(client)
    error = await _oauth_error(
        oauth.fetch_token(TOKEN_URL, grant_type="password", username=actor.email)
    )
    assert error.error == "invalid_request"


async def test_missing_grant_type_raises_invalid_request(oauth: AsyncOAuth2Client) -> None:
    # Below the library, as a hand-written client would send it.
    r = await oauth.request(
        "POST", "/v1/auth/token", data={"username": "someone@example.com"}, withhold_token=True
    )
    body = factories.assert_problem(r, 400, "invalid_request")
    assert body["error"] == "invalid_request"
    assert ["body", "grant_type"] in [e["loc"] for e in body["errors"]]


async def test_a_parameter_sent_twice_is_invalid_request(
    client: httpx.AsyncClient, oauth: AsyncOAuth2Client
) -> None:
    actor = await factories.creator(client)
    r = await oauth.request(
        "POST",
        "/v1/auth/token",
        content=f"grant_type=password&username={actor.email}&password=x&password={PASSWORD}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        withhold_token=True,
    )
    body = factories.assert_problem(r, 400, "invalid_request")
    assert body["error"] == "invalid_request"
    assert "password" in body["error_description"]


async def test_bad_refresh_token_raises_invalid_grant(oauth: AsyncOAuth2Client) -> None:
    error = await _oauth_error(oauth.refresh_token(TOKEN_URL, refresh_token="not-one-of-ours"))
    assert error.error == "invalid_grant"


async def test_reused_refresh_token_raises_invalid_grant(
    client: httpx.AsyncClient, oauth: AsyncOAuth2Client
) -> None:
    actor = await factories.creator(client)
    await oauth.refresh_token(TOKEN_URL, refresh_token=actor.refresh_token)
    error = await _oauth_error(oauth.refresh_token(TOKEN_URL, refresh_token=actor.refresh_token))
    assert error.error == "invalid_grant"


async def test_throttled_sign_in_raises_an_error_not_a_token(
    client: httpx.AsyncClient, oauth: AsyncOAuth2Client
) -> None:
    actor = await factories.creator(client)
    for _ in range(get_settings().login_max_failures_per_account):
        await _oauth_error(
            oauth.fetch_token(
                TOKEN_URL, grant_type="password", username=actor.email, password="wrong one"
            )
        )
    error = await _oauth_error(
        oauth.fetch_token(TOKEN_URL, grant_type="password", username=actor.email, password=PASSWORD)
    )
    assert error.error == "temporarily_unavailable"
    assert oauth.token is None
