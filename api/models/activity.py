"""The activity trail: who did what on a brief, its applications and its deals."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Index, String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import id_field, timestamp_field


class Activity(SQLModel, table=True):
    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_brief_id_occurred_at", "brief_id", "occurred_at", "id"),
        Index("ix_activity_deal_id_occurred_at", "deal_id", "occurred_at", "id"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID | None = SQLField(default=None, foreign_key="brands.id", ondelete="CASCADE")
    brief_id: uuid.UUID | None = SQLField(default=None, foreign_key="briefs.id", ondelete="CASCADE")
    application_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = SQLField(default=None, foreign_key="deals.id", ondelete="CASCADE")
    # NULL: the platform itself (timers: deadlines, automatic approvals, expiry notices).
    actor_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    action: str = SQLField(sa_type=String(60))
    request_id: str | None = SQLField(default=None, sa_type=String(64))
    occurred_at: datetime = timestamp_field()


class ActivityRead(BaseModel):
    id: uuid.UUID
    action: str = Field(examples=["brief.published", "deal.terms_accepted"])
    actor_user_id: uuid.UUID | None = Field(
        description="Who did it; null when the platform did (a deadline, a timer)."
    )
    brand_id: uuid.UUID | None
    brief_id: uuid.UUID | None
    application_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    request_id: str | None = Field(description="The `X-Request-Id` of the request that did it.")
    occurred_at: datetime
