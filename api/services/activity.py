"""The activity trail: one row per thing done to a brief, application or deal, with who
did it (the signed-in caller of the request), for which brand, and the request id.

Outbox events (`api.services.events.record`) land here too, so every evented change is in
the trail without a second call; brief lifecycle actions, which are not events, call
`record` directly.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.models.activity import Activity, ActivityRead
from api.models.base import utcnow
from api.observability import request_id_var
from api.pagination import PageParams, keyset, make_page, parse_datetime

# The user acting in this request (set when the caller is authenticated).
actor_var: ContextVar[uuid.UUID | None] = ContextVar("actor_user_id", default=None)


def _id(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value is not None else None


def subjects(event_type: str, payload: dict[str, Any]) -> dict[str, uuid.UUID | None]:
    """The brief, application and deal an event's payload is about."""
    kind = event_type.split(".", 1)[0]
    return {
        f"{name}_id": _id(payload.get("id") if kind == name else payload.get(f"{name}_id"))
        for name in ("brief", "application", "deal")
    }


def trail_row(event_type: str, payload: dict[str, Any]) -> list[Any] | None:
    """The trail row of an event, as the arguments `hot_sql.INSERT_EVENT_AND_ACTIVITY` takes
    after the event's own (id, actor, request id, brief, application, deal, time), or None:
    the trail is read per brief and per deal, and an event about neither has no row."""
    subject = subjects(event_type, payload)
    if subject["brief_id"] is None and subject["deal_id"] is None:
        return None
    return [
        uuid.uuid4(),
        actor_var.get(),
        request_id_var.get(),
        subject["brief_id"],
        subject["application_id"],
        subject["deal_id"],
        # Python's clock, not the transaction's: several rows of one request keep order.
        utcnow(),
    ]


async def trail(
    session: AsyncSession,
    page: PageParams,
    *,
    brief_id: uuid.UUID | None = None,
    deal_id: uuid.UUID | None = None,
) -> tuple[list[ActivityRead], str | None]:
    """The trail of a brief (its applications and deals' creation included) or of a deal,
    newest first."""
    stmt = select(Activity)
    if brief_id is not None:
        stmt = stmt.where(col(Activity.brief_id) == brief_id)
    else:
        stmt = stmt.where(col(Activity.deal_id) == deal_id)
    stmt = keyset(
        stmt,
        page,
        [col(Activity.occurred_at), col(Activity.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.scalars(stmt)).all()
    items, cursor = make_page(rows, page, lambda a: (a.occurred_at, a.id))
    return [ActivityRead.model_validate(a, from_attributes=True) for a in items], cursor
