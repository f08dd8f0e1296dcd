"""The outbox: events written in the same transaction as the change they describe.

The webhook dispatcher (`api.services.webhook_dispatch`) delivers them to subscriptions and
the event feed (`GET /v1/events`) lists them, each only to the brand and creator it concerns
(`api.services.audience`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import id_field, timestamp_field


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index(
            "ix_outbox_events_undispatched",
            "occurred_at",
            postgresql_where=text("dispatched_at IS NULL"),
        ),
        # The event feed: a party's events, oldest first.
        Index("ix_outbox_events_brand_id", "brand_id", "occurred_at", "id"),
        Index("ix_outbox_events_creator_id", "creator_id", "occurred_at", "id"),
    )

    id: uuid.UUID = id_field()
    type: str = SQLField(sa_type=String(60))
    brand_id: uuid.UUID | None = SQLField(default=None, foreign_key="brands.id", ondelete="CASCADE")
    creator_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="creators.id", ondelete="CASCADE"
    )
    payload: dict[str, Any] = SQLField(sa_type=JSONB)
    occurred_at: datetime = timestamp_field()
    dispatched_at: datetime | None = timestamp_field(nullable=True)


class EventRead(BaseModel):
    """An event as the feed lists it and a webhook delivers it (the body that is signed)."""

    id: uuid.UUID = Field(description="Stable: the same as the `webhook-id` header.")
    type: str = Field(examples=["application.created"])
    timestamp: datetime = Field(description="When the change happened.")
    data: dict[str, Any] = Field(description="The object as the API returns it.")


def event_body(event_id: uuid.UUID, event_type: str, occurred_at: datetime, data: Any) -> EventRead:
    return EventRead(id=event_id, type=event_type, timestamp=occurred_at, data=data)
