"""Deals: the agreement an accepted application becomes, and its versioned terms."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.briefs import CommissionPercent, Disclosure, Product, UsageRights
from api.models.common import (
    ApiDate,
    DeliverableFormat,
    MoneyMinor,
    Platform,
    StrictInt,
    _no_nul,
)
from api.models.terms import MAX_DELIVERABLES


class DealStatus(StrEnum):
    pending_terms = "pending_terms"
    active = "active"
    completed = "completed"
    cancelled = "cancelled"


OPEN_DEAL_STATES = (DealStatus.pending_terms, DealStatus.active)


class Party(StrEnum):
    brand = "brand"
    creator = "creator"


class TermsStatus(StrEnum):
    proposed = "proposed"
    accepted = "accepted"
    superseded = "superseded"
    withdrawn = "withdrawn"


class Deal(SQLModel, table=True):
    __tablename__ = "deals"
    __table_args__ = (
        enum_check("status", DealStatus),
        enum_check("cancelled_by", Party, nullable=True),
        CheckConstraint(
            "accepted_version IS NULL OR accepted_version <= current_version",
            name="accepted_version_known",
        ),
        Index("ix_deals_brand_id_created_at", "brand_id", "created_at", "id"),
        Index("ix_deals_creator_id_created_at", "creator_id", "created_at", "id"),
        Index("ix_deals_brief_id", "brief_id"),
    )

    id: uuid.UUID = id_field()
    brief_id: uuid.UUID = SQLField(foreign_key="briefs.id", ondelete="CASCADE")
    application_id: uuid.UUID = SQLField(
        foreign_key="applications.id", unique=True, ondelete="CASCADE"
    )
    brand_id: uuid.UUID = SQLField(foreign_key="brands.id", ondelete="CASCADE")
    creator_id: uuid.UUID = SQLField(foreign_key="creators.id", ondelete="CASCADE")
    status: str = SQLField(default=DealStatus.pending_terms, sa_type=String(16))
    # The newest live version (a proposal awaiting its answer, or the one in force; a
    # withdrawn proposal hands it back to the version in force), and the newest both sides
    # accepted (the one in force).
    current_version: int = SQLField(default=1, sa_type=Integer)
    accepted_version: int | None = SQLField(default=None, sa_type=Integer)
    activated_at: datetime | None = timestamp_field(nullable=True)
    paid_at: datetime | None = timestamp_field(nullable=True)
    # The usage-rights term runs from the first publication of any of the deal's content.
    rights_start_date: date | None = SQLField(default=None, sa_type=Date)
    cancel_reason: str | None = SQLField(default=None, sa_type=Text)
    cancelled_by: str | None = SQLField(default=None, sa_type=String(16))
    cancelled_at: datetime | None = timestamp_field(nullable=True)
    completed_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class DealTerms(SQLModel, table=True):
    """One version of a deal's agreement. Once accepted it never changes (a trigger of
    migration 0005 refuses any update of an accepted row)."""

    __tablename__ = "deal_terms"
    __table_args__ = (
        enum_check("proposed_by", Party),
        UniqueConstraint("deal_id", "version"),
        CheckConstraint(
            "accepted_at IS NULL OR withdrawn_at IS NULL", name="accepted_or_withdrawn"
        ),
    )

    id: uuid.UUID = id_field()
    deal_id: uuid.UUID = SQLField(foreign_key="deals.id", ondelete="CASCADE")
    version: int = SQLField(sa_type=Integer)
    currency: str | None = SQLField(default=None, sa_type=String(3))
    fee_minor: int | None = SQLField(default=None, sa_type=BigInteger)
    commission_rate_percent: float | None = SQLField(default=None, sa_type=Numeric(5, 2))
    gifted_product: dict[str, Any] | None = SQLField(default=None, sa_type=JSONB)
    deliverables: list[dict[str, Any]] = SQLField(sa_type=JSONB)
    publish_start_date: date | None = SQLField(default=None, sa_type=Date)
    publish_end_date: date | None = SQLField(default=None, sa_type=Date)
    usage_rights: dict[str, Any] = SQLField(sa_type=JSONB)
    disclosure: dict[str, Any] = SQLField(sa_type=JSONB)
    proposed_by: str = SQLField(sa_type=String(16))
    proposed_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    proposed_at: datetime = timestamp_field()
    accepted_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    accepted_at: datetime | None = timestamp_field(nullable=True)
    withdrawn_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    withdrawn_at: datetime | None = timestamp_field(nullable=True)


# --- API schemas ----------------------------------------------------------------------------


class TermsDeliverable(BaseModel):
    """One kind of content owed under the deal, and when."""

    model_config = ConfigDict(extra="forbid")
    platform: Platform
    format: DeliverableFormat
    quantity: StrictInt = Field(ge=1, le=50)
    due_date: ApiDate | None = Field(
        default=None, description="Publish by this date; null for gifted deals (see below)."
    )
    due_days_after_delivery: StrictInt | None = Field(
        default=None,
        ge=1,
        le=365,
        description="Gifted deals: the draft is due this many days after the product arrives.",
    )


def _distinct_kinds(items: list[TermsDeliverable]) -> list[TermsDeliverable]:
    keys = [(d.platform, d.format) for d in items]
    if len(keys) != len(set(keys)):
        raise ValueError("list each platform and format once; use quantity for more")
    return items


TermsDeliverables = Annotated[
    list[TermsDeliverable],
    Field(min_length=1, max_length=MAX_DELIVERABLES),
    AfterValidator(_distinct_kinds),
]


class TermsProposal(BaseModel):
    """A new terms version. Fields you send replace those of the current version; fields you
    leave out are carried over. The currency is the brief's and does not change."""

    model_config = ConfigDict(extra="forbid")
    fee_minor: MoneyMinor | None = Field(
        default=None, description="Paid deals (and hybrid ones with a fee).", examples=[35_000]
    )
    commission_rate_percent: CommissionPercent | None = None
    gifted_product: Product | None = None
    deliverables: TermsDeliverables | None = None
    publish_start_date: ApiDate | None = None
    publish_end_date: ApiDate | None = None
    usage_rights: UsageRights | None = None
    disclosure: Disclosure | None = None


class DealTermsRead(BaseModel):
    version: int
    status: TermsStatus = Field(
        description="`proposed`: awaiting the other party; `accepted`: agreed by both "
        "(immutable); `superseded`: replaced by a newer proposal before acceptance; "
        "`withdrawn`: taken back by its proposer."
    )
    currency: str | None
    fee_minor: int | None
    commission_rate_percent: float | None
    gifted_product: Product | None
    deliverables: list[TermsDeliverable]
    publish_start_date: date | None
    publish_end_date: date | None
    usage_rights: UsageRights
    disclosure: Disclosure
    proposed_by: Party
    proposed_by_user_id: uuid.UUID | None
    proposed_at: datetime
    accepted_by: Party | None = Field(description="Always the party that did not propose.")
    accepted_by_user_id: uuid.UUID | None
    accepted_at: datetime | None
    accepted: bool = Field(description="Both parties agree to this version.")
    withdrawn_at: datetime | None = None


class DealRead(BaseModel):
    id: uuid.UUID
    brief_id: uuid.UUID
    application_id: uuid.UUID
    brand_id: uuid.UUID
    creator_id: uuid.UUID
    status: DealStatus
    current_version: int = Field(
        description="The newest live terms version: a proposal awaiting its answer, or the "
        "version in force."
    )
    accepted_version: int | None = Field(
        description="The newest version both parties accepted: the terms in force."
    )
    current_terms: DealTermsRead
    pending_amendment: DealTermsRead | None = Field(
        description="A proposal to change the terms of an active deal, awaiting the other "
        "party. The deal stays `active` under `accepted_version` meanwhile."
    )
    activated_at: datetime | None
    paid_at: datetime | None
    rights_start_date: date | None = Field(
        description="When the usage-rights term started: the first publication of the content."
    )
    cancel_reason: str | None
    cancelled_by: Party | None
    cancelled_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000),
    AfterValidator(_no_nul),
]


class DealCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = Field(examples=["The product launch moved to next year."])
