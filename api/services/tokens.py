"""Scoped API tokens for third-party clients, and resolving any bearer credential."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, Forbidden, NotFound, Unauthorized
from api.models.auth import ApiToken, ApiTokenCreate
from api.models.memberships import BrandMembership
from api.models.users import Role, User
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.security import (
    API_TOKEN_PREFIX,
    InvalidToken,
    Scope,
    decode_access_token,
    new_opaque_token,
    token_digest,
)
from api.settings import Settings

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


# The caller's memberships as one JSON object {brand_id: role}, in the caller's own query.
_MEMBERSHIPS = (
    select(
        func.coalesce(
            func.jsonb_object_agg(
                cast(col(BrandMembership.brand_id), Text), col(BrandMembership.role)
            ),
            literal_column("'{}'::jsonb"),
            type_=JSONB,
        )
    )
    .where(col(BrandMembership.user_id) == col(User.id))
    .scalar_subquery()
)


def brands_from(value: Any) -> dict[uuid.UUID, str]:
    """The memberships column of `CALLER_BY_ID` (decoded, or JSON text from a raw driver)."""
    if isinstance(value, str):
        value = json.loads(value)
    return {uuid.UUID(brand_id): role for brand_id, role in (value or {}).items()}


# Built once: every authenticated request runs it.
CALLER_BY_ID = select(
    *(col(getattr(User, name)) for name in Caller.__dataclass_fields__), _MEMBERSHIPS
).where(col(User.id) == bindparam("user_id"))


def check_caller(caller: Caller | None, generation: int | None) -> Caller:
    """The account may act: it exists, is not suspended, and a JWT's generation is current."""
    if caller is None:
        raise Unauthorized("the account no longer exists", code="invalid_token")
    if caller.suspended_at is not None:
        raise Unauthorized("the account is suspended", code="account_suspended")
    if generation is not None and generation != caller.token_generation:
        raise Unauthorized("the access token was revoked", code="invalid_token")
    return caller


async def resolve_bearer(session: AsyncSession, settings: Settings, token: str) -> Principal:
    """Turn a bearer token (JWT access token or API token) into a principal, or 401."""
    api_token: ApiToken | None = None
    generation: int | None = None  # of a JWT; API tokens are revoked one by one
    if token.startswith(API_TOKEN_PREFIX):
        api_token = await session.scalar(
            select(ApiToken).where(col(ApiToken.token_hash) == token_digest(token))
        )
        now = datetime.now(UTC)
        if api_token is None or (api_token.expires_at is not None and api_token.expires_at <= now):
            raise Unauthorized("the API token is invalid, expired or revoked", code="invalid_token")
        user_id = api_token.user_id
    else:
        try:
            claims = decode_access_token(settings, token)
        except InvalidToken:
            raise Unauthorized(
                "the access token is invalid or expired", code="invalid_token"
            ) from None
        user_id = claims.user_id
        generation = claims.generation
    connection = await session.connection()
    row = (await connection.execute(CALLER_BY_ID, {"user_id": user_id})).first()
    user = check_caller(Caller(*row[:-1]) if row is not None else None, generation)
    assert row is not None  # check_caller refused a missing account
    brands = brands_from(row[-1])
    allowed = scopes_for_role(user.role)
    if api_token is None:
        return Principal(user=user, scopes=allowed, brands=brands)
    # Checked after the account, so a suspended owner's client is told so (a suspension
    # revokes the owner's API tokens).
    if api_token.revoked_at is not None:
        raise Unauthorized("the API token is invalid, expired or revoked", code="invalid_token")
    if api_token.brand_id is not None:
        brands = {k: v for k, v in brands.items() if k == api_token.brand_id}
    await session.execute(
        update(ApiToken).where(col(ApiToken.id) == api_token.id).values(last_used_at=func.now())
    )
    return Principal(
        user=user,
        scopes=allowed & set(api_token.scopes),
        api_token_id=api_token.id,
        brands=brands,
    )


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
