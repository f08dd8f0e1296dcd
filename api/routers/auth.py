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
    description="A brand account creates its brand (you become its owner), or joins an "
    "existing brand with an invitation sent to your email (`invitation_token`). Sign-up "
    "attempts are limited per client address (`REGISTER_MAX_PER_ADDRESS` per "
    "`REGISTER_WINDOW_SECONDS`; 429 with `Retry-After`).",
    responses=problem_responses(403, 404, 409, 422, 429),
)
async def register(
    request: Request,
    data: RegisterRequest,
    session: SessionDep,
    settings: SettingsDep,
    address: Annotated[str, Depends(client_address)],
) -> MeRead:
    # Counted in a transaction of its own before the sign-up runs, so refused attempts
    # (an email already taken) count too; the request's session is not in use yet.
    async with independent_transaction(request) as counters:
        await auth.reserve_sign_up(counters, settings, address)
    user = await accounts.register(session, settings, data)
    return await accounts.me_read(session, user, scopes_for_role(user.role))


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
    await auth.revoke_refresh_token(session, principal.user.id, data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
