"""The outbox: events written in the same transaction as the change they describe.

A worker (the webhooks issue) delivers them; until then they are the durable record of
what happened, for the brand and creator they concern.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

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
