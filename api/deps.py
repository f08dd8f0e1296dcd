"""Dependencies shared by routers: the session, settings, and who is calling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import get_session
from api.errors import Forbidden
from api.matching.brief_index import BriefIndex
from api.matching.creator_index import CreatorIndex
from api.models.creators import Creator
from api.models.users import Role
from api.security import SCOPE_DESCRIPTIONS
from api.services import activity, creators, hot_sql
from api.services.access_cache import AccessCache
from api.services.tokens import (
    HotCaller,
    Principal,
    cached_principal,
    read_credential,
    resolve,
)
from api.settings import Settings


async def current_settings(request: Request) -> Settings:
    """The settings the app was created with.

    A coroutine: FastAPI runs plain-function dependencies in a worker thread, a thread
    hop per request for what is an attribute lookup (the same goes for the checks below).
    """
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(current_settings)]


async def brief_index(request: Request) -> BriefIndex:
    """This worker's in-memory copy of the open briefs (`api.matching.brief_index`)."""
    index: BriefIndex = request.app.state.brief_index
    return index


BriefIndexDep = Annotated[BriefIndex, Depends(brief_index)]


async def creator_index(request: Request) -> CreatorIndex:
    """This worker's in-memory copy of every account (`api.matching.creator_index`)."""
    index: CreatorIndex = request.app.state.creator_index
    return index


CreatorIndexDep = Annotated[CreatorIndex, Depends(creator_index)]


def bearer_token(request: Request) -> str | None:
    """The `Authorization: Bearer` credential, as OAuth2PasswordBearer reads it."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token if scheme.lower() == "bearer" else None


class Access(OAuth2PasswordBearer):
    """The caller, as one dependency: the bearer credential, the account behind it, the
    scopes the route declares and the roles it admits.

    Declared as `Security(access, scopes=[...])`. It is the OAuth2 scheme itself, so FastAPI
    documents each route's security requirement and scopes in OpenAPI as before, while a
    request solves one dependency (and the session it shares with the route) instead of a
    chain of four (role check, scopes, OAuth2 scheme, session).
    """

    def __init__(self, *roles: Role, refusal: tuple[str, str] | None = None) -> None:
        super().__init__(
            tokenUrl="/v1/auth/token",
            scheme_name="OAuth2PasswordBearer",
            scopes=SCOPE_DESCRIPTIONS,
            auto_error=False,
            description="A sign-in access token (JWT) or a scoped API token (`bbt_...`).",
        )
        self.roles = frozenset(roles)
        self.refusal = refusal

    def admit(self, principal: Principal, scopes: Sequence[str]) -> Principal:
        """The principal, checked for every scope the route declares and for its role."""
        missing = [s for s in scopes if s not in principal.scopes]
        if missing:
            raise Forbidden(
                f"the token lacks the scope(s): {', '.join(missing)}", code="insufficient_scope"
            )
        if self.roles and principal.role not in self.roles:
            assert self.refusal is not None
            detail, code = self.refusal
            raise Forbidden(detail, code=code)
        activity.actor_var.set(principal.user.id)  # the activity trail's "who"
        return principal

    async def __call__(  # type: ignore[override]
        self, request: Request, security_scopes: SecurityScopes, session: SessionDep
    ) -> Principal:
        credential = read_credential(request.app.state.settings, bearer_token(request))
        connection = await session.connection()
        principal = await resolve(connection, credential, request.app.state.access_cache)
        return self.admit(principal, security_scopes.scopes)


class HotAccess(Access):
    """`Access` for the hot routes (`api.services.hot_sql`): no session. The caller comes
    from this worker's cache when it holds it (the route's statement then confirms it,
    `HotCaller.confirm`), else it is read here on a connection of its own and kept."""

    async def __call__(  # type: ignore[override]
        self, request: Request, security_scopes: SecurityScopes
    ) -> HotCaller:
        credential = read_credential(request.app.state.settings, bearer_token(request))
        cache: AccessCache = request.app.state.access_cache
        seen = cache.seen  # what the cached entry is exact up to (no await in between)
        principal = cached_principal(cache, credential)
        fresh = principal is None
        if principal is None:
            async with hot_sql.read_connection(request) as connection:
                principal = await resolve(connection, credential, cache)
        scopes = security_scopes.scopes

        def admit(principal: Principal) -> Principal:
            return self.admit(principal, scopes)

        # Role and scopes never change for an account or a token, so a cached principal
        # is admitted (or refused) here, before the body is read, as a fresh one is.
        return HotCaller(admit(principal), fresh, credential, cache, admit, seen)


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A hot route's answer: the schema it validated, serialised once (the route declares
    `response_model` for OpenAPI; FastAPI passes a `Response` through without validating
    and serialising the value again)."""
    return Response(
        model.__pydantic_serializer__.to_json(model, by_alias=True),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


def values_response(
    values: Any, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """`json_response` for values already in their schema's shape (`api.models.stored`):
    serialised as they are, with no schema validating them on the way."""
    return Response(
        to_json(values), status_code=status_code, headers=headers, media_type="application/json"
    )


_BRAND_ONLY = ("only brand members may do this", "brand_only")
_CREATOR_ONLY = ("only creators may do this", "creator_only")

# Use as `Security(<one of these>, scopes=[...])`.
get_principal = Access()
require_brand = Access(Role.brand, refusal=_BRAND_ONLY)
require_creator = Access(Role.creator, refusal=_CREATOR_ONLY)
require_admin = Access(Role.admin, refusal=("only admins may do this", "admin_only"))
require_party = Access(
    Role.brand, Role.creator, refusal=("only a deal's brand or creator may do this", "party_only")
)
hot_caller = HotAccess()
hot_creator = HotAccess(Role.creator, refusal=_CREATOR_ONLY)
hot_brand = HotAccess(Role.brand, refusal=_BRAND_ONLY)

CurrentPrincipal = Annotated[Principal, Security(get_principal)]


async def current_creator(
    principal: Annotated[Principal, Security(require_creator)], session: SessionDep
) -> Creator:
    return await creators.creator_of(session, principal.user.id)


async def client_address(request: Request, settings: SettingsDep) -> str:
    """The caller's address; X-Forwarded-For only when a trusted proxy sets it."""
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first[:64]
    return request.client.host if request.client else "unknown"
