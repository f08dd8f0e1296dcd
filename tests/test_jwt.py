"""Access tokens: only our own, unexpired, HS256 access JWTs for our audience are accepted."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from jose import jwt

from api import security
from api.security import InvalidToken, create_access_token, decode_access_token
from api.settings import get_settings
from tests import factories
from tests.factories import Actor, assert_problem, bearer


def _claims(actor: Actor, **overrides: Any) -> dict[str, Any]:
    settings = get_settings()
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(actor.user_id),
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "typ": "access",
        "gen": 0,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not _DROP}


_DROP: Any = object()


def _sign(claims: dict[str, Any], *, secret: str | None = None, algorithm: str = "HS256") -> str:
    settings = get_settings()
    return jwt.encode(claims, secret or settings.jwt_secret, algorithm=algorithm)


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/v1/me", headers=bearer(token))


def _assert_invalid_token(r: httpx.Response) -> None:
    assert_problem(r, 401, "invalid_token")
    assert r.headers["www-authenticate"] == "Bearer"


async def test_hand_built_token_with_the_right_claims_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    # The control for every test below: the builder makes tokens the API does accept.
    actor = await factories.creator(client)
    r = await _me(client, _sign(_claims(actor)))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(actor.user_id)


async def test_no_token_is_not_authenticated(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/me")
    assert_problem(r, 401, "not_authenticated")
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc"])
async def test_malformed_authorization_header_is_refused(
    client: httpx.AsyncClient, header: str
) -> None:
    r = await client.get("/v1/me", headers={"Authorization": header})
    assert_problem(r, 401)


async def test_unsigned_alg_none_token_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    claims = _claims(actor)
    for alg in ("none", "None", "NONE"):
        unsigned = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}."
        _assert_invalid_token(await _me(client, unsigned))


async def test_token_signed_with_another_algorithm_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    for algorithm in ("HS512", "HS384"):
        _assert_invalid_token(await _me(client, _sign(_claims(actor), algorithm=algorithm)))


async def test_token_signed_with_another_secret_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    forged = _sign(_claims(actor), secret="another-secret-that-is-long-enough-0123456789")
    _assert_invalid_token(await _me(client, forged))


async def test_token_with_a_tampered_payload_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    other = await factories.creator(client)
    header, _, signature = _sign(_claims(actor)).split(".")
    tampered = f"{header}.{_b64(_claims(other))}.{signature}"
    _assert_invalid_token(await _me(client, tampered))


@pytest.mark.parametrize("claim", ["exp", "aud", "iss", "sub", "iat", "typ", "gen"])
async def test_token_missing_a_required_claim_is_refused(
    client: httpx.AsyncClient, claim: str
) -> None:
    actor = await factories.creator(client)
    _assert_invalid_token(await _me(client, _sign(_claims(actor, **{claim: _DROP}))))


async def test_token_for_another_audience_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    _assert_invalid_token(await _me(client, _sign(_claims(actor, aud="another-api"))))


async def test_token_from_another_issuer_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    _assert_invalid_token(await _me(client, _sign(_claims(actor, iss="someone-else"))))


async def test_expired_token_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    past = int(time.time()) - 3600
    expired = _sign(_claims(actor, iat=past - 900, exp=past))
    _assert_invalid_token(await _me(client, expired))


async def test_token_of_refresh_type_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    _assert_invalid_token(await _me(client, _sign(_claims(actor, typ="refresh"))))


async def test_token_for_an_unknown_user_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    claims = _claims(actor, sub="00000000-0000-4000-8000-000000000000")
    _assert_invalid_token(await _me(client, _sign(claims)))


async def test_token_whose_subject_is_not_a_user_id_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    _assert_invalid_token(await _me(client, _sign(_claims(actor, sub="admin"))))


async def test_refresh_token_used_as_bearer_is_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    _assert_invalid_token(await _me(client, actor.refresh_token))


async def test_garbage_and_oversized_bearer_tokens_are_refused(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    for token in ("abc", "a.b.c", "bbt_not-a-real-token", actor.access_token + "x" * 5000):
        _assert_invalid_token(await _me(client, token))


def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": str(_now() + 600)}, id="exp-as-string"),
        pytest.param({"iat": str(_now())}, id="iat-as-string"),
        pytest.param({"exp": float(_now() + 600)}, id="exp-as-float"),
        pytest.param({"exp": True}, id="exp-as-boolean"),
        pytest.param({"nbf": str(_now() - 10)}, id="nbf-as-string"),
        pytest.param({"exp": 10**30}, id="exp-far-beyond-the-lifetime"),
        pytest.param({"iat": _now() + 3600, "exp": _now() + 3900}, id="iat-in-the-future"),
        pytest.param({"exp": _now() + 86_400}, id="lifetime-longer-than-configured"),
    ],
)
async def test_token_with_bad_time_claims_is_refused(
    client: httpx.AsyncClient, overrides: dict[str, Any]
) -> None:
    actor = await factories.creator(client)
    _assert_invalid_token(await _me(client, _sign(_claims(actor, **overrides))))


async def test_token_with_integer_nbf_and_the_full_lifetime_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    # The control for the test above: integer claims at the edges of the rules pass.
    actor = await factories.creator(client)
    now = _now()
    ttl = get_settings().access_token_ttl_seconds
    token = _sign(_claims(actor, iat=now + 5, nbf=now - 5, exp=now + 5 + ttl))
    assert (await _me(client, token)).status_code == 200


def test_a_token_verified_once_is_refused_once_it_has_expired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Verified tokens are kept (by their text), and their expiry is checked on every use."""
    settings = get_settings()
    token = create_access_token(settings, uuid.uuid4(), 0)
    assert decode_access_token(settings, token).generation == 0
    assert decode_access_token(settings, token).generation == 0  # the kept verification
    later = datetime.now(UTC) + timedelta(seconds=settings.access_token_ttl_seconds + 1)

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Later:  # type: ignore[override]
            return cast(Later, later)

    monkeypatch.setattr(security, "datetime", Later)
    with pytest.raises(InvalidToken):
        decode_access_token(settings, token)
