"""Registration and the account a user acts as."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from api.errors import Conflict
from api.models.brands import Brand
from api.models.creators import Creator
from api.models.memberships import BrandRole
from api.models.users import (
    MembershipSummary,
    MeRead,
    RegisterRequest,
    Role,
    User,
    normalize_email,
)
from api.security import hash_password
from api.services import hot_sql, memberships
from api.services.tokens import Caller, Principal
from api.settings import Settings


async def email_taken(session: AsyncSession, email: str) -> bool:
    return (await session.scalar(select(col(User.id)).where(col(User.email) == email))) is not None


async def register(session: AsyncSession, settings: Settings, data: RegisterRequest) -> User:
    """Create the user and, by role, its brand (owner) or its empty creator profile."""
    if await email_taken(session, data.email):
        raise Conflict("an account with this email exists", code="email_taken")
    password_hash = await hash_password(settings, data.password_value())
    user = User(id=uuid.uuid4(), email=data.email, password_hash=password_hash, role=data.role)
    if data.role == Role.brand:
        session.add(user)
        await session.flush()
        if data.invitation_token is not None:
            await memberships.accept_invitation(
                session, data.invitation_token, user.id, user.email, user.role
            )
        else:
            assert data.brand is not None
            brand = Brand(name=data.brand.name)
            session.add(brand)
            await session.flush()
            await memberships.add_member(
                session, brand.id, user.id, BrandRole.owner, announce=False
            )
    else:
        session.add(user)
        await session.flush()
        display_name = data.display_name or data.email.split("@", 1)[0][:120]
        session.add(Creator(user_id=user.id, display_name=display_name))
    await session.flush()
    return user


async def create_admin(
    session: AsyncSession, settings: Settings, email: str, password: str
) -> User:
    """Create an admin account (CLI only; there is no endpoint that makes admins).

    Raises ValueError for an email address that could not register."""
    email = normalize_email(email)
    if await email_taken(session, email):
        raise Conflict("an account with this email exists", code="email_taken")
    user = User(email=email, password_hash=await hash_password(settings, password), role=Role.admin)
    session.add(user)
    await session.flush()
    return user


async def creator_id_for(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(col(Creator.id)).where(col(Creator.user_id) == user_id))


async def me_read(
    session: AsyncSession,
    user: User | Caller,
    scopes: Iterable[str],
    brands: Mapping[uuid.UUID, str] | None = None,
) -> MeRead:
    """The account as `GET /v1/me` shows it; `brands` as the credential sees them (an API
    token limited to one brand sees that one), by default every membership."""
    if brands is None:
        brands = await memberships.brands_of_user(session, user.id)
    return _me(
        user,
        scopes,
        brands,
        await memberships.summaries(session, brands),
        await creator_id_for(session, user.id),
    )


def _me(
    user: User | Caller,
    scopes: Iterable[str],
    brands: Mapping[uuid.UUID, str],
    summaries: list[MembershipSummary],
    creator_id: uuid.UUID | None,
) -> MeRead:
    return MeRead(
        id=user.id,
        email=user.email,
        role=Role(user.role),
        brand_id=next(iter(brands)) if len(brands) == 1 else None,
        memberships=summaries,
        creator_id=creator_id,
        scopes=sorted(scopes),
        created_at=user.created_at,
    )


async def hot_me(connection: AsyncConnection, principal: Principal) -> tuple[int, MeRead]:
    """`me_read` for `GET /v1/me` in one statement (`hot_sql.ME`), with the access version
    of its snapshot (to confirm a cached principal)."""
    brands = principal.brands
    row = await hot_sql.fetchrow(connection, hot_sql.ME, principal.user.id, list(brands))
    assert row is not None  # the one-row access_state
    named = row["brands"]
    named = json.loads(named) if isinstance(named, str) else named
    summaries = [
        MembershipSummary(brand_id=brand_id, brand_name=name, role=brands[uuid.UUID(brand_id)])
        for brand_id, name in named
    ]
    me = _me(principal.user, principal.scopes, brands, summaries, row["creator_id"])
    return row["access_version"], me
