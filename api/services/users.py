"""Administration of users."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import InvalidState, NotFound
from api.models.base import utcnow
from api.models.users import Role, User
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.services.auth import revoke_all_for_user
from api.services.tokens import revoke_all_api_tokens


async def list_users(
    session: AsyncSession, page: PageParams, role: Role | None = None
) -> tuple[list[User], str | None]:
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(col(User.role) == role)
    stmt = keyset(
        stmt,
        page,
        [col(User.created_at), col(User.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.scalars(stmt)).all()
    return make_page(rows, page, lambda u: (u.created_at, u.id))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def suspend(session: AsyncSession, user: User) -> User:
    """Suspend at once: every access token stops working; refresh and API tokens are
    revoked, so lifting the suspension brings none of them back."""
    if user.role == Role.admin:
        raise InvalidState("admins cannot be suspended through the API", code="invalid_state")
    if user.suspended_at is None:
        user.suspended_at = utcnow()
        user.token_generation += 1
        session.add(user)
        await revoke_all_for_user(session, user.id)
        await revoke_all_api_tokens(session, user.id)
        await session.flush()
    return user


async def unsuspend(session: AsyncSession, user: User) -> User:
    if user.suspended_at is not None:
        user.suspended_at = None
        session.add(user)
        await session.flush()
    return user
