"""Sign-in, refresh-token rotation, throttling of failed logins, and credential checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import TooManyRequests, Unauthorized
from api.models.auth import LoginThrottle, RefreshToken
from api.models.users import User
from api.security import create_access_token, new_opaque_token, token_digest, verify_password
from api.settings import Settings


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


class RefreshTokenReused(Exception):
    """A rotated refresh token came back: its whole family must be revoked."""

    def __init__(self, family_id: uuid.UUID) -> None:
        super().__init__("refresh token reused")
        self.family_id = family_id


def throttle_keys(email: str, client_address: str) -> list[str]:
    return [f"account:{email.strip().lower()[:320]}", f"address:{client_address[:64]}"]


async def ensure_not_throttled(session: AsyncSession, keys: list[str]) -> None:
    """429 with Retry-After while any of the keys is blocked."""
    now = datetime.now(UTC)
    blocked_until = await session.scalar(
        select(func.max(LoginThrottle.blocked_until)).where(
            col(LoginThrottle.key).in_(keys), col(LoginThrottle.blocked_until) > now
        )
    )
    if blocked_until is not None:
        raise TooManyRequests(
            "too many failed sign-ins; try again later",
            code="login_throttled",
            retry_after=int((blocked_until - now).total_seconds()) + 1,
        )


# One atomic upsert per key: concurrent failures on several workers all count. A window that
# has run out starts again at one; reaching the limit blocks the key for the lockout.
_RECORD_FAILURE = text(
    """
    INSERT INTO login_throttles AS t (key, failures, window_started_at, blocked_until)
    VALUES (:key, 1, :now, CASE WHEN 1 >= :limit THEN CAST(:lockout_end AS timestamptz) END)
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN t.window_started_at < :window_start THEN 1 ELSE t.failures + 1 END,
      window_started_at = CASE WHEN t.window_started_at < :window_start
                               THEN :now ELSE t.window_started_at END,
      blocked_until = CASE
        WHEN (CASE WHEN t.window_started_at < :window_start THEN 1 ELSE t.failures + 1 END)
             >= :limit THEN CAST(:lockout_end AS timestamptz)
        ELSE t.blocked_until END
    """
)


async def record_failure(session: AsyncSession, settings: Settings, keys: list[str]) -> None:
    """Count a failed sign-in against each key; the counters are shared by all workers."""
    now = datetime.now(UTC)
    for key in keys:
        limit = (
            settings.login_max_failures_per_account
            if key.startswith("account:")
            else settings.login_max_failures_per_address
        )
        await session.execute(
            _RECORD_FAILURE,
            {
                "key": key,
                "now": now,
                "limit": limit,
                "window_start": now - timedelta(seconds=settings.login_failure_window_seconds),
                "lockout_end": now + timedelta(seconds=settings.login_lockout_seconds),
            },
        )


async def clear_account_failures(session: AsyncSession, email: str) -> None:
    await session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == f"account:{email}"))


async def authenticate(
    session: AsyncSession, settings: Settings, email: str, password: str
) -> User | None:
    """The active user with these credentials, or None. Unknown emails cost the same time."""
    user = await session.scalar(select(User).where(col(User.email) == email.strip().lower()))
    valid = await verify_password(settings, password, user.password_hash if user else None)
    if user is None or not valid:
        return None
    return user


async def issue_tokens(
    session: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID | None = None
) -> IssuedTokens:
    """A new access token and a new refresh token (in `family_id`, or a new family)."""
    refresh = new_opaque_token()
    now = datetime.now(UTC)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=token_digest(refresh),
            created_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_ttl_days),
        )
    )
    await session.flush()
    return IssuedTokens(
        access_token=create_access_token(settings, user.id, user.token_generation, now),
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
    )


async def rotate_refresh_token(
    session: AsyncSession, settings: Settings, token: str
) -> IssuedTokens:
    """Exchange a refresh token for new tokens; the old one can never be used again.

    The guarded UPDATE makes rotation atomic: of two concurrent uses only one wins, and the
    other is treated as reuse. Raises `RefreshTokenReused` when a rotated token returns.
    """
    digest = token_digest(token)
    now = datetime.now(UTC)
    row = (
        await session.execute(
            update(RefreshToken)
            .where(
                col(RefreshToken.token_hash) == digest,
                col(RefreshToken.rotated_at).is_(None),
                col(RefreshToken.revoked_at).is_(None),
                col(RefreshToken.expires_at) > now,
            )
            .values(rotated_at=now)
            .returning(col(RefreshToken.user_id), col(RefreshToken.family_id))
        )
    ).first()
    if row is None:
        existing = await session.scalar(
            select(RefreshToken).where(col(RefreshToken.token_hash) == digest)
        )
        if existing is not None and existing.rotated_at is not None and existing.revoked_at is None:
            raise RefreshTokenReused(existing.family_id)
        raise Unauthorized("the refresh token is invalid, expired or revoked", code="invalid_grant")
    user = await session.get(User, row.user_id)
    if user is None or user.suspended_at is not None:
        raise Unauthorized("the account is suspended", code="account_suspended")
    return await issue_tokens(session, settings, user, family_id=row.family_id)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


async def revoke_refresh_token(session: AsyncSession, user_id: uuid.UUID, token: str) -> None:
    """Log out: revoke the token's family, if the token is the caller's (silently otherwise)."""
    family_id = await session.scalar(
        select(col(RefreshToken.family_id)).where(
            col(RefreshToken.token_hash) == token_digest(token),
            col(RefreshToken.user_id) == user_id,
        )
    )
    if family_id is not None:
        await revoke_family(session, family_id)


async def revoke_all_for_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


Bookkeeping = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def login(
    session: AsyncSession,
    settings: Settings,
    email: str,
    password: str,
    client_address: str,
    bookkeeping: Bookkeeping,
) -> IssuedTokens:
    """The password grant: throttle check, credential check, tokens.

    `bookkeeping` opens a transaction that commits even though this request will fail, so a
    failed attempt is counted however the request ends.
    """
    keys = throttle_keys(email, client_address)
    await ensure_not_throttled(session, keys)
    user = await authenticate(session, settings, email, password)
    if user is None:
        async with bookkeeping() as counters:
            await record_failure(counters, settings, keys)
        raise Unauthorized("wrong email or password", code="invalid_credentials")
    if user.suspended_at is not None:
        raise Unauthorized("the account is suspended", code="account_suspended")
    await clear_account_failures(session, user.email)
    return await issue_tokens(session, settings, user)


async def refresh(
    session: AsyncSession, settings: Settings, token: str, bookkeeping: Bookkeeping
) -> IssuedTokens:
    """The refresh grant; reuse of a rotated token revokes its whole family (committed)."""
    try:
        return await rotate_refresh_token(session, settings, token)
    except RefreshTokenReused as reuse:
        # When this use raced the winning rotation, the guarded UPDATE above waited for it and
        # then locked the token's row. The request fails anyway: end its transaction now, or
        # the independent revocation below would wait on that lock until the statement
        # timeout, and the family would stay alive.
        await session.rollback()
        async with bookkeeping() as independent:
            await revoke_family(independent, reuse.family_id)
        raise Unauthorized(
            "the refresh token was already used; its session is revoked",
            code="refresh_token_reused",
        ) from None
