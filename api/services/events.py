"""Writing events to the outbox, inside the caller's transaction; reading them as a feed."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.models.base import utcnow
from api.models.events import EventRead, OutboxEvent, event_body
from api.pagination import PageParams, encode_cursor, keyset, parse_datetime
from api.services import activity, hot_sql
from api.services.audience import Party, reaches_party


async def record(
    session: AsyncSession,
    event_type: str,
    payload: BaseModel | dict[str, Any],
    *,
    brand_id: uuid.UUID | None = None,
    creator_id: uuid.UUID | None = None,
) -> None:
    """Add an event for the brand and/or creator it concerns; it commits with the change."""
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    # The change the event describes is written first (its errors surface in the service);
    # with nothing pending, as on the apply path, this costs nothing.
    await session.flush()
    connection = await session.connection()
    # The event (and its trail row) is written, never read back in the request.
    event = [uuid.uuid4(), event_type, brand_id, creator_id, json.dumps(body), utcnow()]
    trail = activity.trail_row(event_type, body)
    if trail is None:
        await hot_sql.execute(connection, hot_sql.INSERT_EVENT, *event)
    else:
        await hot_sql.execute(connection, hot_sql.INSERT_EVENT_AND_ACTIVITY, *event, *trail)


# --- the feed -------------------------------------------------------------------------------

# How long events stay on the feed (and in the outbox).
RETENTION = timedelta(days=30)
# Events that only the system sees: a test ping goes to its one subscription.
_NOT_ON_FEED = ("webhook.test",)


async def feed(
    session: AsyncSession,
    party: Party,
    page: PageParams,
    *,
    types: list[str],
    settle: float,
) -> tuple[list[EventRead], str | None]:
    """The party's events of the last 30 days, oldest first, resumable by cursor.

    The newest `settle` seconds are held back: an event's time is its transaction's start,
    so a slow transaction may commit an event older than one already listed; waiting keeps
    it from landing behind a client's cursor.
    """
    now = utcnow()
    stmt = select(
        col(OutboxEvent.id),
        col(OutboxEvent.type),
        col(OutboxEvent.occurred_at),
        col(OutboxEvent.payload),
    ).where(
        reaches_party(party),
        col(OutboxEvent.occurred_at) >= now - RETENTION,
        col(OutboxEvent.occurred_at) <= now - timedelta(seconds=settle),
        col(OutboxEvent.type).not_in(_NOT_ON_FEED),
    )
    if types:
        stmt = stmt.where(type_matches(col(OutboxEvent.type), types))
    columns = [col(OutboxEvent.occurred_at), col(OutboxEvent.id)]
    stmt = keyset(stmt, page, columns, [parse_datetime, uuid.UUID], [False, False])
    rows = (await session.execute(stmt)).all()[: page.limit]
    # Unlike other lists, the last page has a cursor too: where to resume polling.
    cursor = encode_cursor((rows[-1].occurred_at, rows[-1].id)) if rows else page.cursor
    return [event_body(r.id, r.type, r.occurred_at, r.payload) for r in rows], cursor


def type_matches(event_type: Any, patterns: list[str]) -> ColumnElement[bool]:
    """SQL: the type is one of the names or falls under a `resource.*` wildcard."""
    exact = [p for p in patterns if not p.endswith(".*")]
    prefixes = [p[:-1] for p in patterns if p.endswith(".*")]
    return or_(
        event_type.in_(exact),
        *(event_type.startswith(prefix, autoescape=True) for prefix in prefixes),
    )


async def purge_old(session: AsyncSession, *, limit: int) -> int:
    """Delete up to `limit` events older than the retention (their deliveries go too)."""
    cutoff = utcnow() - RETENTION
    claimed = (
        select(col(OutboxEvent.id))
        .where(col(OutboxEvent.occurred_at) < cutoff, col(OutboxEvent.dispatched_at).is_not(None))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await session.execute(delete(OutboxEvent).where(col(OutboxEvent.id).in_(claimed)))
    return int(getattr(result, "rowcount", 0) or 0)
