"""Brand teams: members and their roles, invitations to join."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, Security, status

from api.deps import SessionDep, get_principal, require_brand
from api.errors import problem_responses
from api.models.memberships import (
    BrandInvitationAccept,
    BrandInvitationCreate,
    BrandInvitationCreated,
    BrandInvitationRead,
    BrandRole,
    MemberRead,
    MemberUpdate,
)
from api.models.users import MembershipSummary
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import brands, memberships
from api.services.tokens import Principal

router = APIRouter(prefix="/v1", tags=["brand teams"])

TeamReader = Annotated[Principal, Security(require_brand, scopes=[Scope.profile_read])]
TeamWriter = Annotated[Principal, Security(require_brand, scopes=[Scope.profile_write])]
Joiner = Annotated[Principal, Security(get_principal, scopes=[Scope.profile_write])]


@router.get(
    "/brands/{brand_id}/members",
    operation_id="listBrandMembers",
    summary="The brand's members and their roles (its members only)",
    description="Owners first. Non-members get 404.",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_members(
    brand_id: uuid.UUID, principal: TeamReader, session: SessionDep
) -> list[MemberRead]:
    memberships.require_role(principal, brand_id, BrandRole.viewer, noun="brand")
    return await memberships.list_members(session, brand_id)


@router.post(
    "/brands/{brand_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    operation_id="inviteBrandMember",
    summary="Invite someone to the brand by email (owners; the token is shown once)",
    description="The invitation is single use and expires after 7 days. Hand the `token` to "
    "the invitee: they accept it signed in (`POST /v1/brand-invitations/accept`) or when "
    "registering (`invitation_token`). Only its digest is stored.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def invite(
    brand_id: uuid.UUID, data: BrandInvitationCreate, principal: TeamWriter, session: SessionDep
) -> BrandInvitationCreated:
    memberships.require_role(principal, brand_id, BrandRole.owner, noun="brand")
    invitation, secret = await memberships.invite(session, brand_id, principal.user.id, data)
    read = BrandInvitationRead.model_validate(invitation)
    return BrandInvitationCreated(**read.model_dump(), token=secret)


@router.get(
    "/brands/{brand_id}/invitations",
    operation_id="listBrandInvitations",
    description=("Owners see the brand's invitations that are still pending (never their tokens)."),
    summary="The brand's pending invitations, newest first (owners; never their tokens)",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_invitations(
    brand_id: uuid.UUID, principal: TeamReader, session: SessionDep, page: PageDep
) -> Page[BrandInvitationRead]:
    memberships.require_role(principal, brand_id, BrandRole.owner, noun="brand")
    rows, cursor = await memberships.pending_invitations(session, brand_id, page)
    return Page(items=[BrandInvitationRead.model_validate(i) for i in rows], next_cursor=cursor)


@router.delete(
    "/brands/{brand_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="revokeBrandInvitation",
    description=("Owners withdraw a pending invitation; its token stops working at once."),
    summary="Withdraw an invitation: its token stops working (owners)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def revoke_invitation(
    brand_id: uuid.UUID, invitation_id: uuid.UUID, principal: TeamWriter, session: SessionDep
) -> Response:
    memberships.require_role(principal, brand_id, BrandRole.owner, noun="brand")
    await memberships.revoke_invitation(session, brand_id, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/brand-invitations/accept",
    operation_id="acceptBrandInvitation",
    summary="Join a brand with an invitation sent to your email",
    description="Brand accounts only. Unknown, used and expired tokens alike get 404 "
    "`invitation_invalid`; a token sent to another email 403.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def accept_invitation(
    data: BrandInvitationAccept, principal: Joiner, session: SessionDep
) -> MembershipSummary:
    user = principal.user
    membership = await memberships.accept_invitation(
        session, data.token, user.id, user.email, user.role
    )
    brand = await brands.get_brand(session, membership.brand_id)
    return MembershipSummary(brand_id=brand.id, brand_name=brand.name, role=membership.role)


@router.patch(
    "/brands/{brand_id}/members/{user_id}",
    operation_id="updateBrandMember",
    summary="Change a member's role (owners)",
    description="The last owner cannot be demoted (409 `last_owner`).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_member(
    brand_id: uuid.UUID,
    user_id: uuid.UUID,
    data: MemberUpdate,
    principal: TeamWriter,
    session: SessionDep,
) -> MemberRead:
    memberships.require_role(principal, brand_id, BrandRole.owner, noun="brand")
    return await memberships.change_role(session, brand_id, user_id, data.role)


@router.delete(
    "/brands/{brand_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="removeBrandMember",
    summary="Remove a member (owners), or leave the brand (yourself)",
    description="Access ends at once, API tokens included. The last owner cannot leave "
    "(409 `last_owner`).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def remove_member(
    brand_id: uuid.UUID, user_id: uuid.UUID, principal: TeamWriter, session: SessionDep
) -> Response:
    need = BrandRole.viewer if user_id == principal.user.id else BrandRole.owner
    memberships.require_role(principal, brand_id, need, noun="brand")
    await memberships.remove_member(session, brand_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
