"""Registration and the OAuth2 token endpoint."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, Response, Security, status

from api.db import independent_transaction
from api.deps import SessionDep, SettingsDep, client_address, get_principal
from api.errors import Unprocessable, problem_responses
from api.models.auth import RevokeRequest, TokenResponse
from api.models.users import MeRead, RegisterRequest
from api.security import Scope
from api.services import accounts, auth
from api.services.tokens import Principal, scopes_for_role

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    operation_id="register",
    summary="Create a brand or creator account",
    responses=problem_responses(409, 422),
)
async def register(data: RegisterRequest, session: SessionDep, settings: SettingsDep) -> MeRead:
    """Role `brand` needs `brand` (the brand to create, with the new user as its owner); role
    `creator` creates an empty creator profile, optionally with a `display_name`. The email must
    be unused (case-insensitive): otherwise 409. Sign in afterwards at `POST /v1/auth/token`."""
    user = await accounts.register(session, settings, data)
    return MeRead(
        id=user.id,
        email=user.email,
        role=user.role,
        brand_id=user.brand_id,
        creator_id=await accounts.creator_id_for(session, user.id),
        scopes=sorted(scopes_for_role(user.role)),
        created_at=user.created_at,
    )


@router.post(
    "/token",
    operation_id="issueToken",
    summary="OAuth2 token endpoint (password and refresh_token grants)",
    description=(
        "Form-encoded, as OAuth2 requires. `grant_type=password` takes `username` (the email) "
        "and `password`; `grant_type=refresh_token` takes `refresh_token`. Every refresh "
        "returns a new refresh token; presenting a used one revokes the whole session. "
        "Repeated failures are throttled per account and per client address (429)."
    ),
    responses=problem_responses(401, 422, 429),
)
async def issue_token(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    address: Annotated[str, Depends(client_address)],
    grant_type: Annotated[Literal["password", "refresh_token"], Form()],
    username: Annotated[str | None, Form(max_length=320)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
) -> TokenResponse:
    bookkeeping = partial(independent_transaction, request)
    if grant_type == "password":
        if not username or not password:
            raise Unprocessable("`username` and `password` are required", code="invalid_request")
        issued = await auth.login(session, settings, username, password, address, bookkeeping)
    else:
        if not refresh_token:
            raise Unprocessable("`refresh_token` is required", code="invalid_request")
        issued = await auth.refresh(session, settings, refresh_token, bookkeeping)
    # RFC 6749 section 5.1: responses carrying tokens must not be cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


@router.post(
    "/revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="revokeToken",
    summary="Log out: revoke a refresh token and every token rotated from it",
    responses=problem_responses(401, 403, 422),
)
async def revoke(
    data: RevokeRequest,
    session: SessionDep,
    principal: Annotated[Principal, Security(get_principal, scopes=[Scope.profile_write])],
) -> Response:
    """Revokes the refresh token and its whole family (every token rotated from it), so the session
    cannot be refreshed again. Access tokens already issued expire on their own."""
    await auth.revoke_refresh_token(session, principal.user.id, data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
