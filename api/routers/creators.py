"""Creator profiles: the public view, the creator's own profile, accounts and address."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, Security, status

from api.deps import (
    CreatorIndexDep,
    SessionDep,
    SettingsDep,
    current_creator,
    get_principal,
    require_brand,
)
from api.errors import problem_responses
from api.matching import directory as match_directory
from api.models.creators import (
    Creator,
    CreatorPublic,
    CreatorRead,
    CreatorUpdate,
    ShippingAddressRead,
    ShippingAddressWrite,
    SocialAccountCreate,
    SocialAccountRead,
    SocialAccountUpdate,
)
from api.models.matching import CreatorDirectoryQuery
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import creators
from api.services.tokens import Principal

router = APIRouter(prefix="/v1/creators", tags=["creators"])

OwnCreatorReader = Annotated[Creator, Security(current_creator, scopes=[Scope.profile_read])]
OwnCreatorWriter = Annotated[Creator, Security(current_creator, scopes=[Scope.profile_write])]
_OWN = problem_responses(401, 403, 422)


@router.get("/me", operation_id="getOwnCreatorProfile", summary="Your profile", responses=_OWN)
async def get_own_profile(
    creator: OwnCreatorReader, session: SessionDep, settings: SettingsDep
) -> CreatorRead:
    """Your full profile, including the rate card and your social accounts with their derived tier
    and engagement rate."""
    return await creators.own_profile(session, settings, creator)


@router.patch(
    "/me",
    operation_id="updateOwnCreatorProfile",
    summary="Update your profile and rate card",
    responses=problem_responses(401, 403, 409, 422),
)
async def update_own_profile(
    data: CreatorUpdate, creator: OwnCreatorWriter, session: SessionDep, settings: SettingsDep
) -> CreatorRead:
    """Send only the fields to change. The rate card is replaced as a whole and all its fees are in
    `rate_card_currency`."""
    await creators.update_profile(session, creator, data)
    return await creators.own_profile(session, settings, creator)


@router.post(
    "/me/accounts",
    status_code=status.HTTP_201_CREATED,
    operation_id="addSocialAccount",
    summary="Add a social account with its audience figures",
    responses=problem_responses(401, 403, 409, 422),
)
async def add_account(
    data: SocialAccountCreate, creator: OwnCreatorWriter, session: SessionDep, settings: SettingsDep
) -> SocialAccountRead:
    """One account per platform and handle. The API derives its tier (from followers) and engagement
    rate ((avg likes + avg comments) / followers); clients never send them. Audience shares are
    percentages summing to at most 100 per dimension."""
    account = await creators.add_account(session, creator, data)
    return creators.account_read(account, settings)


@router.patch(
    "/me/accounts/{account_id}",
    operation_id="updateSocialAccount",
    summary="Update one of your social accounts",
    responses=problem_responses(401, 403, 404, 422),
)
async def update_account(
    account_id: uuid.UUID,
    data: SocialAccountUpdate,
    creator: OwnCreatorWriter,
    session: SessionDep,
    settings: SettingsDep,
) -> SocialAccountRead:
    """Send only the fields to change; tier and engagement rate are derived again."""
    account = await creators.own_account(session, creator, account_id)
    await creators.update_account(session, account, data)
    return creators.account_read(account, settings)


@router.delete(
    "/me/accounts/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteSocialAccount",
    summary="Remove one of your social accounts",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_account(
    account_id: uuid.UUID, creator: OwnCreatorWriter, session: SessionDep
) -> Response:
    """Removes the account from your profile and from matching."""
    account = await creators.own_account(session, creator, account_id)
    await creators.delete_account(session, account)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/me/shipping-address",
    operation_id="putShippingAddress",
    summary="Set your private shipping address",
    description="Shown only to you, and to the brand of an active gifted deal.",
    responses=_OWN,
)
async def put_shipping_address(
    data: ShippingAddressWrite, creator: OwnCreatorWriter, session: SessionDep
) -> ShippingAddressRead:
    address = await creators.put_shipping_address(session, creator, data)
    return ShippingAddressRead.model_validate(address)


@router.get(
    "/me/shipping-address",
    operation_id="getShippingAddress",
    summary="Your private shipping address",
    responses=problem_responses(401, 403, 404),
)
async def get_shipping_address(
    creator: OwnCreatorReader, session: SessionDep
) -> ShippingAddressRead:
    """Private: only you, and the brand of an active gifted deal, ever see it. 404 until you set
    one."""
    return ShippingAddressRead.model_validate(await creators.get_shipping_address(session, creator))


@router.get(
    "",
    operation_id="searchCreators",
    summary="The creator directory (brand members)",
    description="Creators with a social account meeting every account filter (tier, platform, "
    "follower range, minimum engagement rate, audience country), who live in one of the "
    "countries and cover one of the niches asked for; largest matching account first. Public "
    "fields only. A repeated parameter matches any of its values.",
    responses=problem_responses(401, 403, 422),
)
async def search_creators(
    params: Annotated[CreatorDirectoryQuery, Query()],
    _: Annotated[Principal, Security(require_brand, scopes=[Scope.profile_read])],
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    index: CreatorIndexDep,
) -> Page[CreatorPublic]:
    items, cursor = await match_directory.search_creators(session, settings, index, params, page)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/{creator_id}",
    operation_id="getCreator",
    summary="A creator's public profile (no private fields)",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_creator(
    creator_id: uuid.UUID,
    _: Annotated[Principal, Security(get_principal, scopes=[Scope.profile_read])],
    session: SessionDep,
    settings: SettingsDep,
) -> CreatorPublic:
    """The public profile with social accounts and audience figures; the shipping address and other
    private fields are never included."""
    return await creators.public_profile(session, settings, creator_id)
