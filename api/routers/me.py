"""The caller: who they are, and their scoped API tokens."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response, Security, status

from api.deps import SessionDep, get_principal, hot_caller, json_response
from api.errors import problem_responses
from api.idempotency import shows_secret
from api.models.auth import ApiTokenCreate, ApiTokenCreated, ApiTokenRead
from api.models.users import MeRead
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import accounts, hot_sql, tokens
from api.services.tokens import HotCaller, Principal

router = APIRouter(prefix="/v1/me", tags=["me"])

ProfileReader = Annotated[Principal, Security(get_principal, scopes=[Scope.profile_read])]
HotProfileReader = Annotated[HotCaller, Security(hot_caller, scopes=[Scope.profile_read])]
ProfileWriter = Annotated[Principal, Security(get_principal, scopes=[Scope.profile_write])]


@router.get(
    "",
    operation_id="getMe",
    summary="The caller: role, brand memberships with roles, or creator id",
    response_model=MeRead,
    responses=problem_responses(401, 403),
)
async def get_me(caller: HotProfileReader, request: Request) -> Response:
    """Who the credential belongs to: role, the brands (with your role in each) or creator
    profile it acts as (use these ids in other calls), and the scopes it carries."""
    # A hot path (`api.services.hot_sql`): one statement, the caller from this worker's
    # cache when it is current for that statement's snapshot.
    async with hot_sql.read_connection(request) as connection:
        principal = caller.principal
        version, me = await accounts.hot_me(connection, principal)
        confirmed = await caller.confirm(connection, version)
        if confirmed is not principal:  # the caller as it is now: its brands may differ
            _, me = await accounts.hot_me(connection, confirmed)
    return json_response(me)


@router.post(
    "/api-tokens",
    status_code=status.HTTP_201_CREATED,
    operation_id="createApiToken",
    summary="Create a scoped API token for a third-party client (shown once)",
    responses=problem_responses(401, 403, 409, 422),
)
@shows_secret
async def create_api_token(
    data: ApiTokenCreate, principal: ProfileWriter, session: SessionDep
) -> ApiTokenCreated:
    """A named token (`bbt_...`) with a subset of your role's scopes, for a third-party client. The
    secret is in this answer only; it is stored as a digest."""
    token, secret = await tokens.create_api_token(session, principal, data)
    return ApiTokenCreated(**ApiTokenRead.model_validate(token).model_dump(), token=secret)


@router.get(
    "/api-tokens",
    operation_id="listApiTokens",
    summary="Your API tokens (never their secrets)",
    responses=problem_responses(401, 403, 422),
)
async def list_api_tokens(
    principal: ProfileReader, session: SessionDep, page: PageDep
) -> Page[ApiTokenRead]:
    """Active and revoked tokens with their scopes, prefix and last use; never the secrets."""
    rows, cursor = await tokens.list_api_tokens(session, principal.user.id, page)
    return Page(items=[ApiTokenRead.model_validate(t) for t in rows], next_cursor=cursor)


@router.delete(
    "/api-tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="revokeApiToken",
    summary="Revoke one of your API tokens",
    responses=problem_responses(401, 403, 404, 422),
)
async def revoke_api_token(
    token_id: uuid.UUID, principal: ProfileWriter, session: SessionDep
) -> Response:
    """The token stops working at once. Unknown or other users' tokens answer 404."""
    await tokens.revoke_api_token(session, principal.user.id, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
