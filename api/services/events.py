"""Writing events to the outbox, inside the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.events import OutboxEvent
from api.services import activity

# Built once; a Core insert: the event is written, never read back in the request.
_INSERT = insert(OutboxEvent)


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
    await connection.execute(
        _INSERT,
        {
            "id": uuid.uuid4(),
            "type": event_type,
            "payload": body,
            "brand_id": brand_id,
            "creator_id": creator_id,
        },
    )
    await activity.from_event(session, event_type, body, brand_id)
