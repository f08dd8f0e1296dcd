"""Registration and the account a user acts as."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, Unprocessable
from api.models.brands import Brand
from api.models.creators import Creator
from api.models.users import RegisterRequest, Role, User, normalize_email
from api.security import hash_password
from api.settings import Settings


async def email_taken(session: AsyncSession, email: str) -> bool:
    return (await session.scalar(select(col(User.id)).where(col(User.email) == email))) is not None


async def register(session: AsyncSession, settings: Settings, data: RegisterRequest) -> User:
    """Create the user and, by role, its brand (owner) or its empty creator profile."""
    if data.role == Role.brand and data.brand is None:
        raise Unprocessable("a brand account needs `brand.name`", code="brand_required")
    if await email_taken(session, data.email):
        raise Conflict("an account with this email exists", code="email_taken")
    password_hash = await hash_password(settings, data.password_value())
    user = User(id=uuid.uuid4(), email=data.email, password_hash=password_hash, role=data.role)
    if data.role == Role.brand:
        assert data.brand is not None
        brand = Brand(name=data.brand.name)
        session.add(brand)
        await session.flush()
        user.brand_id = brand.id
        session.add(user)
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
