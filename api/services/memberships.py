"""Brand teams: the one home of the rule "may this caller act for this brand, in this way".

A brand user acts for every brand it is a member of (`Principal.brands`, read with the
caller on each request). Brand-scoped routes resolve the brand from the object (brief,
application, deal → its brand) and call `require_role`; list routes use `brand_scope`;
creating a brief uses `acting_brand`. Non-members get 404 (the object's existence is the
brand's business), members whose role is too low 403 `insufficient_role`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, Forbidden, InvalidState, NotFound, Unprocessable
from api.models.base import utcnow
from api.models.brands import Brand
from api.models.memberships import (
    BrandInvitation,
    BrandInvitationCreate,
    BrandMembership,
    BrandRole,
    MemberRead,
)
from api.models.users import MembershipSummary, Role, User
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.security import new_opaque_token, token_digest
from api.services import events
from api.services.tokens import Principal

INVITATION_TTL = timedelta(days=7)
INVITATION_PREFIX = "bbi_"
MAX_MEMBERS = 200

_RANK = {BrandRole.viewer: 0, BrandRole.manager: 1, BrandRole.owner: 2}


# --- the rule -------------------------------------------------------------------------------


def role_in(principal: Principal, brand_id: uuid.UUID) -> BrandRole | None:
    """The caller's role in the brand, None when not a member."""
    role = principal.brands.get(brand_id)
    return BrandRole(role) if role is not None else None


def is_member(principal: Principal, brand_id: uuid.UUID) -> bool:
    return brand_id in principal.brands


def has_role(principal: Principal, brand_id: uuid.UUID, need: BrandRole) -> bool:
    role = role_in(principal, brand_id)
    return role is not None and _RANK[role] >= _RANK[need]


def require_role(
    principal: Principal, brand_id: uuid.UUID, need: BrandRole, *, noun: str
) -> BrandRole:
    """The caller's role in the brand if it is at least `need`: 404 (`<noun> not found`) for
    a non-member, 403 `insufficient_role` for a member whose role is too low."""
    role = role_in(principal, brand_id)
    if role is None:
        raise NotFound(f"{noun} not found")
    if _RANK[role] < _RANK[need]:
        raise Forbidden(
            f"your role in this brand ({role}) cannot do this; it needs {need} or above",
            code="insufficient_role",
        )
    return role


def brand_scope(principal: Principal, brand_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """The brands a "mine" list covers: every brand of the caller, or the one asked for
    (403 `not_a_member` when the caller does not belong to it)."""
    if brand_id is None:
        return sorted(principal.brands)
    if brand_id not in principal.brands:
        raise Forbidden("you are not a member of this brand", code="not_a_member")
    return [brand_id]


def acting_brand(principal: Principal, brand_id: uuid.UUID | None, need: BrandRole) -> uuid.UUID:
    """The brand a new object belongs to: the one named, or the caller's only brand;
    422 `brand_required` when the caller has several and named none."""
    if brand_id is None:
        if len(principal.brands) > 1:
            raise Unprocessable(
                "you belong to several brands: say which with `brand_id`", code="brand_required"
            )
        if not principal.brands:
            raise Forbidden("you are not a member of any brand", code="not_a_member")
        brand_id = next(iter(principal.brands))
    elif brand_id not in principal.brands:
        raise Forbidden("you are not a member of this brand", code="not_a_member")
    require_role(principal, brand_id, need, noun="brand")
    return brand_id


# --- reading the team -----------------------------------------------------------------------


async def brands_of_user(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(col(BrandMembership.brand_id), col(BrandMembership.role)).where(
            col(BrandMembership.user_id) == user_id
        )
    )
    return {row[0]: row[1] for row in rows}


async def summaries(
    session: AsyncSession, brands: Mapping[uuid.UUID, str]
) -> list[MembershipSummary]:
    """Brands with their names and the given roles, by name."""
    if not brands:
        return []
    rows = await session.execute(
        select(col(Brand.id), col(Brand.name))
        .where(col(Brand.id).in_(list(brands)))
        .order_by(col(Brand.name), col(Brand.id))
    )
    return [
        MembershipSummary(brand_id=b_id, brand_name=name, role=brands[b_id]) for b_id, name in rows
    ]


async def list_members(session: AsyncSession, brand_id: uuid.UUID) -> list[MemberRead]:
    """Every member of the brand, owners first, then by joining time (at most MAX_MEMBERS)."""
    rows = await session.execute(
        select(BrandMembership, col(User.email))
        .join(User, col(User.id) == col(BrandMembership.user_id))
        .where(col(BrandMembership.brand_id) == brand_id)
        .order_by(col(BrandMembership.created_at), col(BrandMembership.user_id))
        .limit(MAX_MEMBERS)
    )
    members = [
        MemberRead(user_id=m.user_id, email=email, role=BrandRole(m.role), joined_at=m.created_at)
        for m, email in rows
    ]
    members.sort(key=lambda m: -_RANK[m.role])  # stable: by joining time within a role
    return members


async def _membership(
    session: AsyncSession, brand_id: uuid.UUID, user_id: uuid.UUID
) -> BrandMembership:
    """A member's row, locked; 404 when the user is not a member."""
    membership = await session.scalar(
        select(BrandMembership)
        .where(col(BrandMembership.brand_id) == brand_id, col(BrandMembership.user_id) == user_id)
        .with_for_update()
    )
    if membership is None:
        raise NotFound("member not found")
    return membership


async def _lock_owners(session: AsyncSession, brand_id: uuid.UUID) -> int:
    """How many owners the brand has, with their rows locked: two owners stepping down at
    once queue here, so the brand never ends without an owner."""
    rows = await session.scalars(
        select(col(BrandMembership.id))
        .where(
            col(BrandMembership.brand_id) == brand_id,
            col(BrandMembership.role) == BrandRole.owner,
        )
        .with_for_update()
    )
    return len(rows.all())


def _member_event(brand_id: uuid.UUID, user_id: uuid.UUID, role: str | None) -> dict[str, Any]:
    return {"brand_id": str(brand_id), "user_id": str(user_id), "role": role}


async def add_member(
    session: AsyncSession,
    brand_id: uuid.UUID,
    user_id: uuid.UUID,
    role: BrandRole,
    *,
    announce: bool = True,
) -> BrandMembership:
    """Make the user a member: when an invitation is accepted (event `brand.member_added`)
    or as the founding owner at sign-up (`announce=False`: the brand is new, nobody to tell)."""
    membership = BrandMembership(brand_id=brand_id, user_id=user_id, role=role)
    session.add(membership)
    await session.flush()
    if not announce:
        return membership
    await events.record(
        session,
        "brand.member_added",
        _member_event(brand_id, user_id, role),
        brand_id=brand_id,
    )
    return membership


async def change_role(
    session: AsyncSession, brand_id: uuid.UUID, user_id: uuid.UUID, role: BrandRole
) -> MemberRead:
    """Change a member's role; the last owner cannot be demoted (409 `last_owner`)."""
    owners = await _lock_owners(session, brand_id)
    membership = await _membership(session, brand_id, user_id)
    if membership.role == BrandRole.owner and role != BrandRole.owner and owners <= 1:
        raise InvalidState("a brand needs an owner: promote another first", code="last_owner")
    if membership.role != role:
        membership.role = role
        membership.updated_at = utcnow()
        session.add(membership)
        await session.flush()
        await events.record(
            session,
            "brand.member_updated",
            _member_event(brand_id, user_id, role),
            brand_id=brand_id,
        )
    email = await session.scalar(select(col(User.email)).where(col(User.id) == user_id))
    return MemberRead(
        user_id=user_id, email=email or "", role=role, joined_at=membership.created_at
    )


async def remove_member(session: AsyncSession, brand_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Remove a member (or leave); the last owner cannot (409 `last_owner`). The removed
    user's sign-in and API tokens lose the brand with the next request."""
    owners = await _lock_owners(session, brand_id)
    membership = await _membership(session, brand_id, user_id)
    if membership.role == BrandRole.owner and owners <= 1:
        raise InvalidState("a brand needs an owner: promote another first", code="last_owner")
    await session.delete(membership)
    await session.flush()
    await events.record(
        session,
        "brand.member_removed",
        _member_event(brand_id, user_id, None),
        brand_id=brand_id,
    )


# --- invitations ----------------------------------------------------------------------------


async def invite(
    session: AsyncSession, brand_id: uuid.UUID, inviter_id: uuid.UUID, data: BrandInvitationCreate
) -> tuple[BrandInvitation, str]:
    """Invite someone by email; the token is returned once, only its digest is stored."""
    already = await session.scalar(
        select(col(BrandMembership.id))
        .join(User, col(User.id) == col(BrandMembership.user_id))
        .where(col(BrandMembership.brand_id) == brand_id, col(User.email) == data.email)
    )
    if already is not None:
        raise Conflict("this person is already a member", code="already_member")
    members = await session.scalar(
        select(func.count()).where(col(BrandMembership.brand_id) == brand_id)
    )
    if (members or 0) >= MAX_MEMBERS:
        raise Conflict(f"a brand has at most {MAX_MEMBERS} members", code="team_full")
    secret = new_opaque_token(INVITATION_PREFIX)
    now = utcnow()
    invitation = BrandInvitation(
        brand_id=brand_id,
        email=data.email,
        role=data.role,
        token_hash=token_digest(secret),
        invited_by_user_id=inviter_id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    await session.flush()
    return invitation, secret


async def pending_invitations(
    session: AsyncSession, brand_id: uuid.UUID, page: PageParams
) -> tuple[list[BrandInvitation], str | None]:
    """The brand's invitations not yet accepted, revoked or expired, newest first."""
    stmt = select(BrandInvitation).where(
        col(BrandInvitation.brand_id) == brand_id,
        col(BrandInvitation.accepted_at).is_(None),
        col(BrandInvitation.revoked_at).is_(None),
        col(BrandInvitation.expires_at) > func.now(),
    )
    stmt = keyset(
        stmt,
        page,
        [col(BrandInvitation.created_at), col(BrandInvitation.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.scalars(stmt)).all()
    return make_page(rows, page, lambda i: (i.created_at, i.id))


async def revoke_invitation(
    session: AsyncSession, brand_id: uuid.UUID, invitation_id: uuid.UUID
) -> None:
    """Withdraw an invitation: its token stops working (revoking twice is harmless)."""
    invitation = await session.scalar(
        select(BrandInvitation)
        .where(col(BrandInvitation.id) == invitation_id, col(BrandInvitation.brand_id) == brand_id)
        .with_for_update()
    )
    if invitation is None:
        raise NotFound("invitation not found")
    if invitation.accepted_at is not None:
        raise InvalidState("the invitation was already accepted", code="invitation_accepted")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.add(invitation)
        await session.flush()


async def _live_invitation(session: AsyncSession, token: str) -> BrandInvitation:
    """The unused, unexpired, unrevoked invitation for this token, locked; 404
    `invitation_invalid` alike for unknown, used, revoked and expired tokens."""
    invitation = await session.scalar(
        select(BrandInvitation)
        .where(col(BrandInvitation.token_hash) == token_digest(token))
        .with_for_update()
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise NotFound("the invitation is invalid, used or expired", code="invitation_invalid")
    return invitation


async def accept_invitation(
    session: AsyncSession, token: str, user_id: uuid.UUID, email: str, role: str
) -> BrandMembership:
    """Join the brand with the invitation sent to this user's email (single use)."""
    invitation = await _live_invitation(session, token)
    if role != Role.brand:
        raise Forbidden("only brand accounts can join a brand", code="brand_only")
    if invitation.email != email:
        raise Forbidden(
            "this invitation was sent to another email address", code="invitation_email_mismatch"
        )
    invitation.accepted_at = utcnow()
    invitation.accepted_by_user_id = user_id
    session.add(invitation)
    already = await session.scalar(
        select(BrandMembership).where(
            col(BrandMembership.brand_id) == invitation.brand_id,
            col(BrandMembership.user_id) == user_id,
        )
    )
    if already is not None:
        raise Conflict("you are already a member of this brand", code="already_member")
    return await add_member(session, invitation.brand_id, user_id, BrandRole(invitation.role))
