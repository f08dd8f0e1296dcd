"""Scoped API tokens for third-party clients, and resolving any bearer credential."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from asyncpg import Record
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from api.errors import Conflict, Forbidden, NotFound, Unauthorized
from api.models.auth import ApiToken, ApiTokenCreate
from api.models.users import Role
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.security import (
    API_TOKEN_PREFIX,
    InvalidToken,
    Scope,
    decode_access_token,
    new_opaque_token,
    token_digest,
)
from api.services import hot_sql
from api.settings import Settings

if TYPE_CHECKING:
    from api.services.access_cache import AccessCache

MAX_ACTIVE_TOKENS = 50


def scopes_for_role(role: str) -> frozenset[str]:
    """Everything a role may do; an API token carries a subset of this."""
    every = frozenset(s.value for s in Scope)
    return every if role == Role.admin else every - {Scope.admin.value}


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in account as a request needs it: read once per request as a plain row
    (no ORM object, whose construction cost more than the query on hot reads)."""

    id: uuid.UUID
    email: str
    role: str
    created_at: datetime
    suspended_at: datetime | None
    token_generation: int


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and with which scopes (all of the role's for a sign-in token).

    `brands` maps each brand the caller acts for to its role there (`BrandRole` values),
    read with the caller on every request: a member removed from a brand loses it at once.
    The rules that use it live in `api.services.memberships`.
    """

    user: Caller
    scopes: frozenset[str]
    api_token_id: uuid.UUID | None = None
    brands: Mapping[uuid.UUID, str] = field(default_factory=dict)

    @property
    def role(self) -> str:
        return self.user.role


def brands_from(value: Any) -> dict[uuid.UUID, str]:
    """The memberships column of `hot_sql.CALLER` (JSON text from the driver, or decoded)."""
    if isinstance(value, str):
        value = json.loads(value)
    return {uuid.UUID(brand_id): role for brand_id, role in (value or {}).items()}


def check_caller(caller: Caller | None, generation: int | None) -> Caller:
    """The account may act: it exists, is not suspended, and a JWT's generation is current."""
    if caller is None:
        raise Unauthorized("the account no longer exists", code="invalid_token")
    if caller.suspended_at is not None:
        raise Unauthorized("the account is suspended", code="account_suspended")
    if generation is not None and generation != caller.token_generation:
        raise Unauthorized("the access token was revoked", code="invalid_token")
    return caller


@dataclass(frozen=True, slots=True)
class Credential:
    """A bearer token, read without the database: a verified JWT's account and generation,
    or an API token's digest (its account is known once its row is read)."""

    user_id: uuid.UUID | None = None
    generation: int | None = None
    digest: str | None = None


def read_credential(settings: Settings, token: str | None) -> Credential:
    """The bearer token's claims (a JWT) or digest (an API token); 401 if absent or invalid."""
    if not token:
        raise Unauthorized("sign in first: send `Authorization: Bearer <token>`")
    if len(token) > 4096:
        raise Unauthorized("the access token is invalid or expired", code="invalid_token")
    if token.startswith(API_TOKEN_PREFIX):
        return Credential(digest=token_digest(token))
    try:
        claims = decode_access_token(settings, token)
    except InvalidToken:
        raise Unauthorized("the access token is invalid or expired", code="invalid_token") from None
    return Credential(user_id=claims.user_id, generation=claims.generation)


@dataclass(frozen=True, slots=True)
class Grant:
    """An API token as resolving a bearer credential needs it (`hot_sql.GRANT_BY_DIGEST`)."""

    id: uuid.UUID
    user_id: uuid.UUID
    scopes: frozenset[str]
    brand_id: uuid.UUID | None
    expires_at: datetime | None
    revoked_at: datetime | None


def check_grant(grant: Grant | None) -> Grant:
    """The API token exists and has not expired (revocation is checked after the account)."""
    if grant is None or (grant.expires_at is not None and grant.expires_at <= datetime.now(UTC)):
        raise Unauthorized("the API token is invalid, expired or revoked", code="invalid_token")
    return grant


def principal_of(
    credential: Credential,
    caller: Caller | None,
    brands: Mapping[uuid.UUID, str],
    grant: Grant | None,
) -> Principal:
    """The principal a credential stands for, given its account (and API token) as read
    from the database or this worker's cache: every rule of who may act, in one place."""
    user = check_caller(caller, credential.generation)
    allowed = scopes_for_role(user.role)
    if grant is None:
        return Principal(user=user, scopes=allowed, brands=brands)
    # Checked after the account, so a suspended owner's client is told so (a suspension
    # revokes the owner's API tokens).
    if grant.revoked_at is not None:
        raise Unauthorized("the API token is invalid, expired or revoked", code="invalid_token")
    if grant.brand_id is not None:
        brands = {k: v for k, v in brands.items() if k == grant.brand_id}
    return Principal(user=user, scopes=allowed & grant.scopes, api_token_id=grant.id, brands=brands)


def grant_of(row: Record) -> Grant | None:
    if row["id"] is None:
        return None
    return Grant(
        id=row["id"],
        user_id=row["user_id"],
        scopes=frozenset(row["scopes"]),
        brand_id=row["brand_id"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


async def resolve(
    connection: AsyncConnection, credential: Credential, cache: AccessCache | None = None
) -> Principal:
    """The principal of a credential, read from the database (and kept in `cache`).

    Each read returns `access_state.version` from its own snapshot, so the cache keeps an
    entry only if no change it has not yet seen could be missing from it.
    """
    grant: Grant | None = None
    user_id = credential.user_id
    if credential.digest is not None:
        row = await hot_sql.fetchrow(connection, hot_sql.GRANT_BY_DIGEST, credential.digest)
        assert row is not None  # the one-row access_state, joined
        grant = check_grant(grant_of(row))
        if cache is not None:
            cache.keep_token(credential.digest, grant, row["access_version"])
        user_id = grant.user_id
    row = await hot_sql.fetchrow(connection, hot_sql.CALLER, user_id)
    assert row is not None
    caller: Caller | None = None
    brands: dict[uuid.UUID, str] = {}
    if row["id"] is not None:
        caller = Caller(*(row[name] for name in Caller.__dataclass_fields__))
        brands = brands_from(row["brands"])
        if cache is not None:
            cache.keep_user(caller, brands, row["access_version"])
    principal = principal_of(credential, caller, brands, grant)
    await touch(connection, principal)
    return principal


async def touch(connection: AsyncConnection, principal: Principal) -> None:
    """Record an API token's use (`last_used_at`): every request made with it, whether its
    caller was read from the database or from this worker's cache."""
    if principal.api_token_id is not None:
        await hot_sql.execute(connection, hot_sql.TOUCH_GRANT, principal.api_token_id)


def cached_principal(cache: AccessCache, credential: Credential) -> Principal | None:
    """The principal of a credential from this worker's cache alone (None: not all there).
    The caller must confirm the cache was current (`AccessCache.current`) before relying on it."""
    grant: Grant | None = None
    user_id = credential.user_id
    if credential.digest is not None:
        grant = cache.token(credential.digest)
        if grant is None:
            return None
        user_id = grant.user_id
    assert user_id is not None
    entry = cache.user(user_id)
    if entry is None:
        return None
    try:
        return principal_of(credential, entry.caller, entry.brands, grant and check_grant(grant))
    except Unauthorized:
        return None  # a refusal is read again from the database, never decided on a copy


@dataclass(slots=True)
class HotCaller:
    """A hot route's caller (`api.deps.HotAccess`): from this worker's cache, or read from
    the database when the cache did not hold it (`fresh`). A cached principal is confirmed
    against the version the route's own statement read (`confirm`)."""

    principal: Principal
    fresh: bool
    credential: Credential
    cache: AccessCache
    admit: Callable[[Principal], Principal]
    # The cache's `seen` when the principal was taken from it: a notice applied after
    # that (while the route awaited its statement) may be about this very caller.
    seen: int | None = None

    async def confirm(self, connection: AsyncConnection, version: int | None) -> Principal:
        """The principal as of the snapshot that read `version` (`access_state.version`):
        the cached one if the cache, when it gave it, had applied every change up to that
        version, else read again (also when the route's statement had no row to carry the
        version)."""
        if self.fresh:
            return self.principal
        if version is None or self.seen is None or version > self.seen:
            self.principal = self.admit(await resolve(connection, self.credential, self.cache))
        else:
            await touch(connection, self.principal)
        self.fresh = True
        return self.principal


async def resolve_bearer(
    connection: AsyncConnection, settings: Settings, token: str | None
) -> Principal:
    """Turn a bearer token (JWT access token or API token) into a principal, or 401."""
    return await resolve(connection, read_credential(settings, token))


async def create_api_token(
    session: AsyncSession, principal: Principal, data: ApiTokenCreate
) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and only its digest is stored."""
    if principal.api_token_id is not None:
        raise Forbidden("API tokens cannot mint other tokens", code="forbidden")
    requested = {s.value for s in data.scopes}
    if not requested <= scopes_for_role(principal.role):
        raise Forbidden("a scope is beyond your role", code="scope_not_allowed")
    if data.brand_id is not None and data.brand_id not in principal.brands:
        raise Forbidden("you are not a member of this brand", code="not_a_member")
    active = await session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(col(ApiToken.user_id) == principal.user.id, col(ApiToken.revoked_at).is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_TOKENS:
        raise Conflict(f"at most {MAX_ACTIVE_TOKENS} active tokens", code="too_many_tokens")
    secret = new_opaque_token(API_TOKEN_PREFIX)
    now = datetime.now(UTC)
    token = ApiToken(
        user_id=principal.user.id,
        name=data.name,
        scopes=sorted(requested),
        token_hash=token_digest(secret),
        token_prefix=secret[:12],
        brand_id=data.brand_id,
        created_at=now,
        expires_at=now + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
    )
    session.add(token)
    await session.flush()
    return token, secret


async def list_api_tokens(
    session: AsyncSession, user_id: uuid.UUID, page: PageParams
) -> tuple[list[ApiToken], str | None]:
    stmt = select(ApiToken).where(col(ApiToken.user_id) == user_id)
    stmt = keyset(
        stmt,
        page,
        [col(ApiToken.created_at), col(ApiToken.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.scalars(stmt)).all()
    return make_page(rows, page, lambda t: (t.created_at, t.id))


async def revoke_api_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
    token = await session.scalar(
        select(ApiToken).where(col(ApiToken.id) == token_id, col(ApiToken.user_id) == user_id)
    )
    if token is None:
        raise NotFound("API token not found")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        await session.flush()


async def revoke_all_api_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revoke every live API token of a user (a suspension: lifting it revives none)."""
    await session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=func.now())
    )
