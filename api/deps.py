"""Dependencies shared by routers: the session, settings, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import get_session
from api.errors import Forbidden, Unauthorized
from api.matching.brief_index import BriefIndex
from api.matching.creator_index import CreatorIndex
from api.models.creators import Creator
from api.models.users import Role
from api.security import SCOPE_DESCRIPTIONS
from api.services import activity, creators
from api.services.tokens import Principal, resolve_bearer
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

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token",
    scopes=SCOPE_DESCRIPTIONS,
    auto_error=False,
    description="A sign-in access token (JWT) or a scoped API token (`bbt_...`).",
)


async def get_principal(
    security_scopes: SecurityScopes,
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The caller, checked for every scope the route (and its dependencies) declare."""
    if not token:
        raise Unauthorized("sign in first: send `Authorization: Bearer <token>`")
    if len(token) > 4096:
        raise Unauthorized("the access token is invalid or expired", code="invalid_token")
    # Settings straight from the app: every request resolves this, a dependency less.
    principal = await resolve_bearer(session, request.app.state.settings, token)
    missing = [s for s in security_scopes.scopes if s not in principal.scopes]
    if missing:
        raise Forbidden(
            f"the token lacks the scope(s): {', '.join(missing)}", code="insufficient_scope"
        )
    activity.actor_var.set(principal.user.id)  # the activity trail's "who"
    return principal


CurrentPrincipal = Annotated[Principal, Security(get_principal)]


async def require_brand(principal: CurrentPrincipal) -> Principal:
    if principal.role != Role.brand:
        raise Forbidden("only brand members may do this", code="brand_only")
    return principal


async def require_creator(principal: CurrentPrincipal) -> Principal:
    if principal.role != Role.creator:
        raise Forbidden("only creators may do this", code="creator_only")
    return principal


async def require_admin(principal: CurrentPrincipal) -> Principal:
    if principal.role != Role.admin:
        raise Forbidden("only admins may do this", code="admin_only")
    return principal


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
