"""Periodic work every worker runs: each job is safe to run concurrently from many workers.

Jobs claim their rows with `FOR UPDATE SKIP LOCKED` (or are idempotent deletes), so
several workers never do the same work twice and never wait on each other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.matching import sync
from api.services import events, invitations, reviews, usage_rights
from api.services.auth import purge_stale_counters
from api.services.briefs import close_expired_briefs
from api.settings import Settings

log = logging.getLogger(__name__)

BATCH = 1000

Job = Callable[[AsyncSession, Settings], Awaitable[int]]


async def _close_briefs(session: AsyncSession, _: Settings) -> int:
    return await close_expired_briefs(session, limit=BATCH)


async def _purge_idempotency_keys(session: AsyncSession, settings: Settings) -> int:
    cutoff = datetime.now(UTC) - timedelta(hours=settings.idempotency_ttl_hours)
    result = await session.execute(
        text(
            "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys"
            " WHERE created_at < :cutoff LIMIT :batch FOR UPDATE SKIP LOCKED)"
        ),
        {"cutoff": cutoff, "batch": BATCH},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _purge_throttle_counters(session: AsyncSession, settings: Settings) -> int:
    return await purge_stale_counters(session, settings, limit=BATCH)


async def _prune_match_changes(session: AsyncSession, _: Settings) -> int:
    return await sync.prune_changes(session, limit=BATCH)


async def _approve_overdue_drafts(session: AsyncSession, _: Settings) -> int:
    return await reviews.approve_overdue(session, limit=BATCH)


async def _warn_expiring_rights(session: AsyncSession, _: Settings) -> int:
    return await usage_rights.warn_expiring(session, limit=BATCH)


async def _notify_expired_invitations(session: AsyncSession, _: Settings) -> int:
    return await invitations.notify_expired(session, limit=BATCH)


async def _purge_old_events(session: AsyncSession, _: Settings) -> int:
    return await events.purge_old(session, limit=BATCH)


# Invitations expire by their `expires_at`, read at every use; the job only tells the parties.
JOBS: dict[str, Job] = {
    "briefs closed at their deadline": _close_briefs,
    "expired idempotency keys purged": _purge_idempotency_keys,
    "stale sign-in and sign-up counters purged": _purge_throttle_counters,
    "drafts approved after the review window": _approve_overdue_drafts,
    "usage-rights expiry notices sent": _warn_expiring_rights,
    "match index change log entries pruned": _prune_match_changes,
    "invitation expiry events recorded": _notify_expired_invitations,
    "events past the 30-day feed window deleted": _purge_old_events,
}


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> dict[str, int]:
    """Run every job to completion, a batch per transaction; returns what each did."""
    done: dict[str, int] = {}
    for name, job in JOBS.items():
        total = 0
        while True:
            async with sessionmaker.begin() as session:
                batch = await job(session, settings)
            total += batch
            if batch < BATCH:
                break
        done[name] = total
    return done


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    interval_seconds: float | None = None,
) -> None:
    """Background task: `run_once` every `interval_seconds` (default: the setting). Failures
    (database down, schema not migrated yet) are logged and retried next round; only
    cancellation stops it."""
    interval_seconds = interval_seconds or settings.maintenance_interval_seconds
    while True:
        try:
            for name, count in (await run_once(sessionmaker, settings)).items():
                if count:
                    log.info("maintenance: %d %s", count, name)
        except Exception:
            log.warning("maintenance failed; retrying next round", exc_info=True)
        await asyncio.sleep(interval_seconds)
