"""Engine, sessions and the per-request transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from api.settings import Settings


def create_engine(url: str, settings: Settings, **overrides: Any) -> AsyncEngine:
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
        "connect_args": {
            "server_settings": {
                "application_name": "briefboard",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
            }
        },
    }
    options.update(overrides)
    return create_async_engine(url, **options)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after the commit that precedes the response.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit when the endpoint returns, roll back on any error.

    Used with `scope="function"` so the commit happens before the response is sent: a
    failed commit becomes a 5xx, never a lost 2xx.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


@asynccontextmanager
async def independent_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """A transaction of its own, committed even if the request later fails.

    Only for security bookkeeping that must survive a rejected request: failed-login
    counters and revoking a refresh-token family on reuse.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker.begin() as session:
        yield session
