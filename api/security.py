"""Passwords (argon2id), JWT access tokens (python-jose) and opaque tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from jose import JWTError, jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.concurrency import run_in_threadpool
from zxcvbn import zxcvbn

from api.settings import Settings

ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
API_TOKEN_PREFIX = "bbt_"  # noqa: S105 - marks API tokens, not a secret


class Scope(StrEnum):
    """What a third-party client may do with a scoped API token."""

    profile_read = "profile:read"
    profile_write = "profile:write"
    briefs_read = "briefs:read"
    briefs_write = "briefs:write"
    applications_read = "applications:read"
    applications_write = "applications:write"
    deals_read = "deals:read"
    deals_write = "deals:write"
    webhooks_manage = "webhooks:manage"
    events_read = "events:read"
    admin = "admin"


SCOPE_DESCRIPTIONS: dict[str, str] = {
    Scope.profile_read: "Read your account and profile",
    Scope.profile_write: "Change your profile, social accounts and tokens",
    Scope.briefs_read: "Read and search briefs",
    Scope.briefs_write: "Create and manage your brand's briefs",
    Scope.applications_read: "Read applications and invitations",
    Scope.applications_write: "Apply, invite and act on applications",
    Scope.deals_read: "Read deals, terms and deliverables",
    Scope.deals_write: "Propose terms, submit and review deliverables",
    Scope.webhooks_manage: "Manage webhook subscriptions",
    Scope.events_read: "Read the event feed of your own objects",
    Scope.admin: "Administer users (admins only)",
}


# zxcvbn's estimate: 3 is "safely unguessable: moderate protection from offline attacks".
MIN_PASSWORD_SCORE = 3
# zxcvbn's matching grows quickly with length; a longer password's head decides.
_SCORED_LENGTH = 64


def password_weakness(password: str, email: str | None = None) -> str | None:
    """Why a password is too weak to accept, or None.

    Refused: the email address inside it (in any case), and anything zxcvbn (the
    maintained port of Dropbox's estimator: common-password lists, dictionary words,
    keyboard walks, repeats, sequences, dates) scores below `MIN_PASSWORD_SCORE`.
    """
    folded = password.casefold()
    hints: list[str] = []
    if email:
        address = email.casefold()
        if address in folded:
            return "the password must not contain your email address"
        local = address.split("@", 1)[0]
        hints = [address, local, *local.replace("-", ".").replace("_", ".").split(".")]
    result = zxcvbn(password[:_SCORED_LENGTH], user_inputs=hints)
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = result["feedback"]
    advice = " ".join([feedback["warning"], *feedback["suggestions"]]).strip()
    return "the password is too weak" + (f": {advice}" if advice else "")


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHash:
    return PasswordHash(
        (Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),)
    )


def password_hasher(settings: Settings) -> PasswordHash:
    return _hasher(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


async def hash_password(settings: Settings, password: str) -> str:
    # argon2 is CPU- and memory-bound: keep it off the event loop.
    return await run_in_threadpool(password_hasher(settings).hash, password)


async def verify_password(settings: Settings, password: str, password_hash: str | None) -> bool:
    """Check a password; with no hash (unknown user) spend the same time and fail."""
    hasher = password_hasher(settings)
    if password_hash is None:
        await run_in_threadpool(hasher.verify, password, _dummy_hash(settings))
        return False
    return await run_in_threadpool(hasher.verify, password, password_hash)


@lru_cache(maxsize=4)
def _dummy_hash_for(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash(secrets.token_urlsafe(16))


def _dummy_hash(settings: Settings) -> str:
    return _dummy_hash_for(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    issued_at: datetime
    generation: int


class InvalidToken(Exception):
    """The token is malformed, expired, of the wrong type or not ours."""


def create_access_token(
    settings: Settings, user_id: uuid.UUID, generation: int, now: datetime | None = None
) -> str:
    now = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.access_token_ttl_seconds)).timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "typ": ACCESS_TOKEN_TYPE,
        "gen": generation,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


# Tokens already verified, by their text and the settings that verified them: a client
# sends the same token for up to `access_token_ttl_seconds`, and verifying it (signature,
# JSON, claims) cost as much CPU as the rest of a cached brief read. Only expiry changes
# with time; it is checked on every use. Past this many tokens it starts again empty.
_VERIFIED: dict[tuple[str, ...], tuple[AccessClaims, int]] = {}
_VERIFIED_MAX = 50_000


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature (pinned algorithm), expiry, audience, issuer and token type."""
    key = (
        token,
        settings.jwt_secret,
        settings.jwt_algorithm,
        settings.jwt_audience,
        settings.jwt_issuer,
        str(settings.access_token_ttl_seconds),
    )
    verified = _VERIFIED.get(key)
    if verified is not None:
        claims, expires = verified
        # python-jose's rule: expired once `exp` is before the current second.
        if expires >= int(datetime.now(UTC).timestamp()):
            return claims
        del _VERIFIED[key]
        raise InvalidToken("Signature has expired.")
    claims, expires = _verify(settings, token)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (claims, expires)
    return claims


def _verify(settings: Settings, token: str) -> tuple[AccessClaims, int]:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_sub": True,
                "require_aud": True,
                "require_iss": True,
            },
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("typ") != ACCESS_TOKEN_TYPE:
        raise InvalidToken("not an access token")
    check_time_claims(settings, claims)
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
        generation = claims["gen"]
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise TypeError("gen must be an integer")
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise InvalidToken("malformed claims") from exc
    access = AccessClaims(user_id=user_id, issued_at=issued_at, generation=generation)
    return access, claims["exp"]


_TIME_CLAIMS = ("exp", "iat", "nbf")


def check_time_claims(settings: Settings, claims: dict[str, Any], now: int | None = None) -> None:
    """What python-jose leaves unchecked: the time claims are integers (not strings or
    floats it would coerce), `iat` is not in the future beyond the clock skew, and the
    token lives no longer than this server issues tokens for."""
    for name in _TIME_CLAIMS:
        if name in claims and type(claims[name]) is not int:
            raise InvalidToken(f"`{name}` must be an integer")
    now = int(datetime.now(UTC).timestamp()) if now is None else now
    if claims["iat"] > now + settings.jwt_clock_skew_seconds:
        raise InvalidToken("issued in the future")
    if claims["exp"] - claims["iat"] > settings.access_token_ttl_seconds:
        raise InvalidToken("lives longer than an access token may")


def new_opaque_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # Opaque tokens carry 256 bits of randomness: a fast hash is enough to store them safely.
    return hashlib.sha256(token.encode()).hexdigest()
