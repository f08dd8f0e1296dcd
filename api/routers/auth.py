"""Registration and the OAuth2 token endpoint."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, Security, status
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from api.db import independent_transaction
from api.deps import SessionDep, SettingsDep, client_address, get_principal
from api.errors import (
    FieldError,
    TokenError,
    TokenProblem,
    TooManyRequests,
    Unauthorized,
    problem_responses,
)
from api.models.auth import RevokeRequest, TokenRequest, TokenResponse
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
    """Role `brand` needs `brand` (the brand to create, with the new user as its owner) or an
    `invitation_token` (to join a brand); role `creator` creates an empty creator profile,
    optionally with a `display_name`. The email must be unused (case-insensitive, normalised):
    otherwise 409. Sign in afterwards at `POST /v1/auth/token`."""
    # Counted in a transaction of its own before the sign-up runs, so refused attempts
    # (an email already taken) count too; the request's session is not in use yet.
    async with independent_transaction(request) as counters:
        await auth.reserve_sign_up(counters, settings, address)
    user = await accounts.register(session, settings, data)
    return await accounts.me_read(session, user, scopes_for_role(user.role))


async def _token_request(request: Request) -> TokenRequest:
    """The form, read here rather than by FastAPI so that a malformed one is RFC 6749's 400
    `invalid_request`, not the 422 every other route gives."""
    try:
        form = await request.form()
        repeated = sorted({key for key in form if len(form.getlist(key)) > 1})
        if repeated:
            # RFC 6749 section 3.2: a parameter must not be sent more than once.
            raise TokenError("invalid_request", f"sent more than once: {', '.join(repeated)}")
        return TokenRequest.model_validate(dict(form))
    except ValidationError as exc:
        errors = [
            FieldError(loc=["body", *map(str, e["loc"])], msg=e["msg"], type=e["type"])
            for e in exc.errors()
        ]
        raise TokenError(
            "invalid_request", "the token request is malformed", errors=errors
        ) from None
    except HTTPException as exc:
        # Starlette's answer to an unparsable multipart form; a body over the limit (413)
        # keeps its own answer.
        if exc.status_code != 400:
            raise
        raise TokenError("invalid_request", "the form cannot be read") from None


@router.post(
    "/token",
    operation_id="issueToken",
    summary="OAuth2 token endpoint (password and refresh_token grants)",
    description=(
        "Form-encoded, as OAuth2 requires. `grant_type=password` takes `username` (the email) "
        "and `password`; `grant_type=refresh_token` takes `refresh_token`. Every refresh "
        "returns a new refresh token; presenting a used one revokes the whole session. "
        "Errors follow RFC 6749 section 5.2: 400 with `error` = `invalid_request` (a field "
        "missing or malformed), `unsupported_grant_type`, or `invalid_grant` (wrong email or "
        "password, suspended account, unknown, expired, revoked or reused refresh token), "
        "beside the usual problem members (`code` tells the exact reason). There are no "
        "registered clients: `client_id` and `client_secret` are ignored, so `invalid_client` "
        "never occurs. Repeated failures are throttled per account and per client address: "
        "429 with `Retry-After` and `error` = `temporarily_unavailable`."
    ),
    responses=problem_responses(400, 429, model=TokenProblem),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": TokenRequest.model_json_schema()}
            },
        }
    },
)
async def issue_token(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    address: Annotated[str, Depends(client_address)],
) -> TokenResponse:
    form = await _token_request(request)
    bookkeeping = partial(independent_transaction, request)
    try:
        if form.grant_type == "password":
            if not form.username or not form.password:
                raise TokenError("invalid_request", "`username` and `password` are required")
            issued = await auth.login(
                session, settings, form.username, form.password, address, bookkeeping
            )
        elif form.grant_type == "refresh_token":
            if not form.refresh_token:
                raise TokenError("invalid_request", "`refresh_token` is required")
            issued = await auth.refresh(session, settings, form.refresh_token, bookkeeping)
        else:
            raise TokenError(
                "unsupported_grant_type", "grant_type must be `password` or `refresh_token`"
            )
    # The services speak the API's language; OAuth2 clients need RFC 6749's. The problem
    # `code` keeps the precise reason (invalid_credentials, account_suspended, ...).
    except Unauthorized as exc:
        raise TokenError("invalid_grant", exc.detail, code=exc.code) from None
    except TooManyRequests as exc:
        raise TokenError(
            "temporarily_unavailable",
            exc.detail,
            code=exc.code,
            status_code=exc.status_code,
            headers=exc.headers,
        ) from None
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
