"""Gifting logistics: the parcels a brand sends to a deal's creator."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from sqlalchemy import CheckConstraint, Index, String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import id_field, timestamp_field
from api.models.common import ApiDatetime, _no_nul, reject_explicit_null

MAX_SHIPMENTS_PER_DEAL = 20


class DealShipment(SQLModel, table=True):
    __tablename__ = "deal_shipments"
    __table_args__ = (
        CheckConstraint(
            "delivered_at IS NULL OR (shipped_at IS NOT NULL AND delivered_at >= shipped_at)",
            name="delivered_after_shipped",
        ),
        Index("ix_deal_shipments_deal_id_created_at", "deal_id", "created_at", "id"),
    )

    id: uuid.UUID = id_field()
    deal_id: uuid.UUID = SQLField(foreign_key="deals.id", ondelete="CASCADE")
    carrier: str = SQLField(sa_type=String(60))
    tracking_number: str | None = SQLField(default=None, sa_type=String(100))
    shipped_at: datetime | None = timestamp_field(nullable=True)
    delivered_at: datetime | None = timestamp_field(nullable=True)
    created_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


# --- API schemas ----------------------------------------------------------------------------

Carrier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(_no_nul),
]
TrackingNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[\w\- ]+$"),
]


class ShipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: Carrier = Field(examples=["DHL"])
    tracking_number: TrackingNumber | None = Field(default=None, examples=["JD014600006281230"])
    shipped_at: ApiDatetime | None = None
    delivered_at: ApiDatetime | None = Field(
        default=None, description="Needs shipped_at; gifted drafts fall due from this day."
    )


class ShipmentUpdate(BaseModel):
    """Fields you send change; none may be cleared."""

    model_config = ConfigDict(extra="forbid")
    carrier: Carrier | None = None
    tracking_number: TrackingNumber | None = None
    shipped_at: ApiDatetime | None = None
    delivered_at: ApiDatetime | None = None

    _not_null = field_validator("carrier", "tracking_number", "shipped_at", "delivered_at")(
        reject_explicit_null
    )


class ShipmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    deal_id: uuid.UUID
    carrier: str
    tracking_number: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
