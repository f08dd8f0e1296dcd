"""Sign-in, refresh-token rotation, throttling of failed logins, and credential checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import TooManyRequests, Unauthorized
from api.models.auth import LoginThrottle, RefreshToken
from api.models.users import User, login_email
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
    """The counters a sign-in attempt is reserved against: its account, then its address
    (always in this order, so concurrent reservations never wait on each other in a cycle)."""
    return [f"account:{login_email(email)[:320]}", f"address:{client_address[:64]}"]


# One guarded upsert reserves an attempt on every key at once, before the password is
# checked: concurrent attempts on all workers queue on the counter rows, and once a key
# reaches its limit (the attempt that reaches it still runs) it is blocked for the lockout
# and further attempts are not reserved (no row returned: 429). A window that has run out
# starts again at one. A success gives its reservation back (`release_attempt`).
_RESERVE_ATTEMPT = text(
    """
    INSERT INTO login_throttles AS t (key, failures, window_started_at, blocked_until)
    SELECT k.key, 1, :now,
           CASE WHEN 1 >= k.lim THEN CAST(:lockout_end AS timestamptz) END
    FROM (VALUES (CAST(:account_key AS text), CAST(:account_limit AS integer)),
                 (:address_key, :address_limit)) AS k(key, lim)
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN t.window_started_at < :window_start THEN 1 ELSE t.failures + 1 END,
      window_started_at = CASE WHEN t.window_started_at < :window_start
                               THEN :now ELSE t.window_started_at END,
      blocked_until = CASE
        WHEN (CASE WHEN t.window_started_at < :window_start THEN 1 ELSE t.failures + 1 END)
             >= (CASE WHEN t.key LIKE 'account:%'
                      THEN CAST(:account_limit AS integer) ELSE :address_limit END)
        THEN CAST(:lockout_end AS timestamptz)
        ELSE t.blocked_until END
      WHERE t.blocked_until IS NULL OR t.blocked_until <= :now
    RETURNING t.key
    """
)

_BLOCKED_UNTIL = text(
    "SELECT max(blocked_until) FROM login_throttles WHERE key IN (:account_key, :address_key)"
)


async def reserve_attempt(session: AsyncSession, settings: Settings, keys: list[str]) -> None:
    """Count a sign-in attempt against its account and address before it is checked, or
    429 with Retry-After (and nothing counted: the caller rolls back) while one is blocked.
    """
    now = datetime.now(UTC)
    account_key, address_key = keys
    params = {
        "account_key": account_key,
        "address_key": address_key,
        "account_limit": settings.login_max_failures_per_account,
        "address_limit": settings.login_max_failures_per_address,
        "now": now,
        "window_start": now - timedelta(seconds=settings.login_failure_window_seconds),
        "lockout_end": now + timedelta(seconds=settings.login_lockout_seconds),
    }
    reserved = (await session.execute(_RESERVE_ATTEMPT, params)).all()
    if len(reserved) == len(keys):
        return
    blocked_until = await session.scalar(_BLOCKED_UNTIL, params)
    raise TooManyRequests(
        "too many failed sign-ins; try again later",
        code="login_throttled",
        retry_after=int(((blocked_until or now) - now).total_seconds()) + 1,
    )


async def release_attempt(session: AsyncSession, settings: Settings, keys: list[str]) -> None:
    """A successful sign-in: its account starts afresh and its address gets its
    reservation back (a busy office signing in does not use up its allowance), with the
    block that reservation set when it was the one reaching the limit."""
    account_key, address_key = keys
    await session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == account_key))
    remaining = col(LoginThrottle.failures) - 1
    await session.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.key) == address_key, col(LoginThrottle.failures) > 0)
        .values(
            failures=remaining,
            blocked_until=case(
                (remaining < settings.login_max_failures_per_address, None),
                else_=col(LoginThrottle.blocked_until),
            ),
        )
    )


# Sign-ups per address: one guarded upsert counts the attempt, or counts nothing once the
# address has used its allowance for the window (no row returned).
_RESERVE_SIGN_UP = text(
    """
    INSERT INTO login_throttles AS t (key, failures, window_started_at)
    VALUES (:key, 1, :now)
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN t.window_started_at < :window_start THEN 1 ELSE t.failures + 1 END,
      window_started_at = CASE WHEN t.window_started_at < :window_start
                               THEN :now ELSE t.window_started_at END
      WHERE t.window_started_at < :window_start OR t.failures < :limit
    RETURNING t.key
    """
)


async def reserve_sign_up(session: AsyncSession, settings: Settings, client_address: str) -> None:
    """Count a sign-up attempt against its address, or 429 with Retry-After once the
    address has made `register_max_per_address` in the window."""
    now = datetime.now(UTC)
    window = timedelta(seconds=settings.register_window_seconds)
    key = f"register:{client_address[:64]}"
    params = {
        "key": key,
        "now": now,
        "window_start": now - window,
        "limit": settings.register_max_per_address,
    }
    if (await session.execute(_RESERVE_SIGN_UP, params)).first() is not None:
        return
    started = await session.scalar(
        select(col(LoginThrottle.window_started_at)).where(col(LoginThrottle.key) == key)
    )
    raise TooManyRequests(
        "too many sign-ups from this address; try again later",
        code="registration_throttled",
        retry_after=int(((started or now) + window - now).total_seconds()) + 1,
    )


async def purge_stale_counters(session: AsyncSession, settings: Settings, *, limit: int) -> int:
    """Delete up to `limit` counters whose window has run out and that block nothing: a
    new attempt would start them afresh anyway (sprayed addresses and emails leave many)."""
    now = datetime.now(UTC)
    window = max(settings.login_failure_window_seconds, settings.register_window_seconds)
    result = await session.execute(
        text(
            "DELETE FROM login_throttles WHERE key IN (SELECT key FROM login_throttles"
            " WHERE window_started_at < :stale AND (blocked_until IS NULL OR blocked_until <= :now)"
            " LIMIT :limit FOR UPDATE SKIP LOCKED)"
        ),
        {"stale": now - timedelta(seconds=window), "now": now, "limit": limit},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(col(User.email) == login_email(email)))


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
    """The password grant: reserve the attempt, check the credentials, issue tokens.

    The reservation (and the account's lookup) commit in a short transaction of their own
    (`bookkeeping`) before the password is checked, so a failed attempt stays counted
    however the request ends. The request's own session has not touched the database yet:
    no request ever holds one connection while it waits for another, and none is held
    while argon2 runs. Unknown emails cost one verification, like a wrong password.
    """
    keys = throttle_keys(email, client_address)
    async with bookkeeping() as counters:
        await reserve_attempt(counters, settings, keys)
        user = await user_by_email(counters, email)
    valid = await verify_password(settings, password, user.password_hash if user else None)
    if user is None or not valid:
        raise Unauthorized("wrong email or password", code="invalid_credentials")
    if user.suspended_at is not None:
        raise Unauthorized("the account is suspended", code="account_suspended")
    await release_attempt(session, settings, keys)
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
