"""Webhook subscriptions, their deliveries (one per event and subscription) and attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.common import StrictBool, _no_nul, link_pattern, reject_explicit_null

MAX_SUBSCRIPTIONS_PER_OWNER = 20
MAX_EVENT_TYPES = 50
EXCERPT_BYTES = 1024


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class DisabledReason(StrEnum):
    owner = "owner"  # turned off with PATCH enabled=false
    gone = "gone"  # the receiver answered 410 Gone
    failing = "failing"  # every attempt failed for days


class WebhookSubscription(SQLModel, table=True):
    """Owned by a brand or by a creator profile (exactly one), so that only the ownership
    lookup changes when users act for several brands."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        CheckConstraint("(brand_id IS NULL) <> (creator_id IS NULL)", name="one_owner"),
        enum_check("disabled_reason", DisabledReason, nullable=True),
        Index("ix_webhook_subscriptions_brand_id", "brand_id", "created_at", "id"),
        Index("ix_webhook_subscriptions_creator_id", "creator_id", "created_at", "id"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID | None = SQLField(default=None, foreign_key="brands.id", ondelete="CASCADE")
    creator_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="creators.id", ondelete="CASCADE"
    )
    url: str = SQLField(sa_type=Text)
    event_types: list[str] = SQLField(
        default_factory=list,
        sa_type=ARRAY(String(60)),
        sa_column_kwargs={"server_default": text("'{}'")},
    )
    description: str | None = SQLField(default=None, sa_type=Text)
    enabled: bool = True
    disabled_reason: str | None = SQLField(default=None, sa_type=String(16))
    # Fernet tokens; the previous secret keeps signing until previous_secret_expires_at.
    secret_encrypted: str = SQLField(sa_type=Text)
    previous_secret_encrypted: str | None = SQLField(default=None, sa_type=Text)
    previous_secret_expires_at: datetime | None = timestamp_field(nullable=True)
    # Set at the first failed attempt after a success; 5 days of that disables it.
    failing_since: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one subscription; attempts are its history."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        enum_check("status", DeliveryStatus),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_subscription_id", "subscription_id", "created_at", "id"),
        # Deleting old events deletes their deliveries.
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )

    id: uuid.UUID = id_field()
    subscription_id: uuid.UUID = SQLField(
        foreign_key="webhook_subscriptions.id", ondelete="CASCADE"
    )
    event_id: uuid.UUID = SQLField(foreign_key="outbox_events.id", ondelete="CASCADE")
    status: str = SQLField(default=DeliveryStatus.pending, sa_type=String(16))
    attempt_count: int = 0
    next_attempt_at: datetime | None = timestamp_field(nullable=True)
    # Retries stop here (about three days after the event, or after a manual retry).
    give_up_at: datetime | None = timestamp_field(nullable=True)
    delivered_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_id", "delivery_id", "attempted_at"),)

    id: uuid.UUID = id_field()
    delivery_id: uuid.UUID = SQLField(foreign_key="webhook_deliveries.id", ondelete="CASCADE")
    attempted_at: datetime = timestamp_field(server_default=False)
    status_code: int | None = None
    # Why an attempt got no HTTP answer (timeout, refused target, ...).
    error: str | None = SQLField(default=None, sa_type=String(200))
    duration_ms: int = 0
    response_excerpt: str | None = SQLField(default=None, sa_type=Text)


# --- API schemas -------------------------------------------------------------------------------

# The rule is `api.services.webhook_targets` (https, a public address, no credentials, no
# fragment); the document states its usual form, an https link without a fragment.
WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_no_nul),
    Field(json_schema_extra={"pattern": link_pattern("https", fragment=False)}),
]
# The shape of a name; the names themselves are the catalog's (api.services.event_catalog,
# which imports these models): the OpenAPI document lists them in place of this pattern.
EVENT_TYPE_PATTERN = r"^[a-z_]+(\.[a-z_]+|\.\*)$"
EventTypeName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=60, pattern=EVENT_TYPE_PATTERN),
]
Description = Annotated[str, StringConstraints(max_length=500), AfterValidator(_no_nul)]


class WebhookBase(BaseModel):
    url: WebhookUrl = Field(
        description="Where events are POSTed: https (http and private addresses only where "
        "the server allows them, in development).",
        examples=["https://hooks.example.com/briefboard"],
    )
    event_types: list[EventTypeName] = Field(
        default_factory=list,
        max_length=MAX_EVENT_TYPES,
        description="Exact event types or `resource.*` wildcards; empty means every event.",
        examples=[["application.created", "deal.*"]],
    )
    description: Description | None = None


class WebhookCreate(WebhookBase):
    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool = True


class WebhookUpdate(BaseModel):
    """Fields you send change; none may be cleared except `description`."""

    model_config = ConfigDict(extra="forbid")
    url: WebhookUrl | None = None
    event_types: list[EventTypeName] | None = Field(default=None, max_length=MAX_EVENT_TYPES)
    description: Description | None = None
    enabled: StrictBool | None = None

    _not_null = field_validator("url", "event_types", "enabled", mode="before")(
        reject_explicit_null
    )


class WebhookRead(WebhookBase):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    brand_id: uuid.UUID | None
    creator_id: uuid.UUID | None
    enabled: bool
    disabled_reason: DisabledReason | None = Field(
        description="`owner` (turned off), `gone` (the receiver answered 410) or `failing` "
        "(every attempt failed for 5 days)."
    )
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookSecret(BaseModel):
    secret: str = Field(
        description="The signing secret, shown only now: verify `webhook-signature` with it "
        "(Standard Webhooks).",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )
    previous_secret_expires_at: datetime | None = Field(
        default=None,
        description="After a rotation, until when deliveries are also signed with the old one.",
    )


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret, shown only once.")


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None = Field(description="Why there was no answer: timeout, refused target...")
    duration_ms: int
    response_excerpt: str | None = Field(description="The first 1 KB of the response body.")


class DeliveryRead(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due.")
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[AttemptRead] = Field(description="Every attempt, oldest first.")
