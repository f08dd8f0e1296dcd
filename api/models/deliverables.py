"""Deliverables: each unit of content a deal owes, its draft reviews and its performance."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.common import (
    ApiDate,
    ApiDatetime,
    Count,
    DeliverableFormat,
    Platform,
    Url,
    _no_nul,
    figures_stale,
)
from api.models.deals import Party
from api.models.terms import Disclosure


class DeliverableStatus(StrEnum):
    pending = "pending"
    in_review = "in_review"
    changes_requested = "changes_requested"
    approved = "approved"
    published = "published"
    dropped = "dropped"


class SubmissionStatus(StrEnum):
    pending_review = "pending_review"
    approved = "approved"
    changes_requested = "changes_requested"


class DealDeliverable(SQLModel, table=True):
    """One unit of content (e.g. the 2nd of 3 Instagram reels), created when terms are
    accepted. An amendment that lowers a quantity marks surplus units `dropped`."""

    __tablename__ = "deal_deliverables"
    __table_args__ = (
        enum_check("status", DeliverableStatus),
        enum_check("platform", Platform),
        enum_check("format", DeliverableFormat),
        CheckConstraint(
            "status <> 'published' OR (published_at IS NOT NULL AND published_url IS NOT NULL)",
            name="published_complete",
        ),
        UniqueConstraint("deal_id", "position"),
        UniqueConstraint("deal_id", "platform", "format", "unit"),
    )

    id: uuid.UUID = id_field()
    deal_id: uuid.UUID = SQLField(foreign_key="deals.id", ondelete="CASCADE")
    position: int = SQLField(sa_type=SmallInteger)
    platform: str = SQLField(sa_type=String(16))
    format: str = SQLField(sa_type=String(16))
    unit: int = SQLField(sa_type=SmallInteger)
    status: str = SQLField(default=DeliverableStatus.pending, sa_type=String(24))
    # Gifted briefs with `posting_required` false: the post is welcome, not owed.
    optional: bool = SQLField(default=False, sa_type=Boolean)
    due_date: date | None = SQLField(default=None, sa_type=Date)
    due_days_after_delivery: int | None = SQLField(default=None, sa_type=SmallInteger)
    draft_due_date: date | None = SQLField(default=None, sa_type=Date)
    disclosure: dict[str, Any] = SQLField(sa_type=JSONB)
    change_requests: int = SQLField(
        default=0, sa_type=SmallInteger, sa_column_kwargs={"server_default": "0"}
    )
    approved_at: datetime | None = timestamp_field(nullable=True)
    published_url: str | None = SQLField(default=None, sa_type=Text)
    published_at: datetime | None = timestamp_field(nullable=True)
    published_caption: str | None = SQLField(default=None, sa_type=Text)
    paid_partnership_label: bool | None = SQLField(default=None, sa_type=Boolean)
    late: bool | None = SQLField(default=None, sa_type=Boolean)
    disclosure_check: dict[str, Any] | None = SQLField(default=None, sa_type=JSONB)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class DeliverableSubmission(SQLModel, table=True):
    """One draft round: submitted by the creator, approved or sent back by the brand (or
    approved automatically when the brief's review window passes)."""

    __tablename__ = "deliverable_submissions"
    __table_args__ = (
        enum_check("status", SubmissionStatus),
        UniqueConstraint("deliverable_id", "round"),
        # One draft awaits review at a time; the auto-approval sweep reads this index.
        Index(
            "ix_deliverable_submissions_pending",
            "deliverable_id",
            unique=True,
            postgresql_where=text("status = 'pending_review'"),
        ),
        Index(
            "ix_deliverable_submissions_pending_since",
            "submitted_at",
            postgresql_where=text("status = 'pending_review'"),
        ),
    )

    id: uuid.UUID = id_field()
    deliverable_id: uuid.UUID = SQLField(foreign_key="deal_deliverables.id", ondelete="CASCADE")
    round: int = SQLField(sa_type=SmallInteger)
    draft_url: str = SQLField(sa_type=Text)
    caption: str = SQLField(sa_type=Text)
    status: str = SQLField(default=SubmissionStatus.pending_review, sa_type=String(24))
    late: bool = SQLField(default=False, sa_type=Boolean)
    submitted_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    submitted_at: datetime = timestamp_field()
    reviewed_at: datetime | None = timestamp_field(nullable=True)
    reviewed_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    auto_approved: bool = SQLField(default=False, sa_type=Boolean)
    comments: list[str] = SQLField(
        default_factory=list, sa_type=JSONB, sa_column_kwargs={"server_default": "[]"}
    )
    # The intended caption and label against the checklist, as submitted (null: drafts
    # submitted before drafts were checked).
    paid_partnership_label: bool = SQLField(
        default=False, sa_type=Boolean, sa_column_kwargs={"server_default": "false"}
    )
    disclosure_check: dict[str, Any] | None = SQLField(default=None, sa_type=JSONB)
    disclosure_gaps_acknowledged: bool = SQLField(
        default=False, sa_type=Boolean, sa_column_kwargs={"server_default": "false"}
    )


METRIC_NAMES = (
    "reach",
    "impressions",
    "likes",
    "comments",
    "shares",
    "saves",
    "clicks",
    "conversions",
)


class DeliverableMetrics(SQLModel, table=True):
    """One reading of a published deliverable's performance; readings are kept, the newest
    counts."""

    __tablename__ = "deliverable_metrics"
    __table_args__ = (
        enum_check("source", Party),
        Index("ix_deliverable_metrics_latest", "deliverable_id", "recorded_at", "id"),
    )

    id: uuid.UUID = id_field()
    deliverable_id: uuid.UUID = SQLField(foreign_key="deal_deliverables.id", ondelete="CASCADE")
    source: str = SQLField(sa_type=String(16))
    recorded_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    recorded_at: datetime = timestamp_field()
    # The date the figures were true (a reading may be entered days later); the newest
    # `as_of` counts.
    as_of: date = SQLField(sa_type=Date)
    reach: int | None = SQLField(default=None, sa_type=BigInteger)
    impressions: int | None = SQLField(default=None, sa_type=BigInteger)
    likes: int | None = SQLField(default=None, sa_type=BigInteger)
    comments: int | None = SQLField(default=None, sa_type=BigInteger)
    shares: int | None = SQLField(default=None, sa_type=BigInteger)
    saves: int | None = SQLField(default=None, sa_type=BigInteger)
    clicks: int | None = SQLField(default=None, sa_type=BigInteger)
    conversions: int | None = SQLField(default=None, sa_type=BigInteger)


# --- API schemas ----------------------------------------------------------------------------

Caption = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000),
    AfterValidator(_no_nul),
]
Comment = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000),
    AfterValidator(_no_nul),
]


class SubmissionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    draft_url: Url = Field(examples=["https://drive.example/ana/serum-reel-v1.mp4"])
    caption: Caption = Field(
        examples=["My 7am routine ✨ #ad @glowlabs"],
        description="The caption you intend to publish; checked for disclosure now.",
    )
    paid_partnership_label: bool = Field(
        default=False, description="You intend to switch the platform's paid-partnership label on."
    )


class ApproveDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Comment | None = None
    acknowledge_disclosure_gaps: bool = Field(
        default=False,
        description="Needed to approve a draft whose disclosure check failed (else 422 "
        "`disclosure_gaps`): you approve knowing what is missing.",
    )


class RequestChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comments: list[Comment] = Field(
        min_length=1, max_length=20, examples=[["Show the bottle in the first 3 seconds."]]
    )


class PublishDeliverable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    live_url: Url = Field(examples=["https://instagram.com/reel/Cx123"])
    published_at: ApiDatetime | None = Field(
        default=None, description="When the post went live; default now; not in the future."
    )
    caption: Caption = Field(description="The caption as published; checked for disclosure.")
    paid_partnership_label: bool = Field(
        default=False, description="The platform's paid-partnership label is switched on."
    )


class MetricsCreate(BaseModel):
    """Performance figures as read now; send those you have (at least one)."""

    model_config = ConfigDict(extra="forbid")
    reach: Count | None = None
    impressions: Count | None = None
    likes: Count | None = None
    comments: Count | None = None
    shares: Count | None = None
    saves: Count | None = None
    clicks: Count | None = None
    conversions: Count | None = None
    as_of: ApiDate | None = Field(
        default=None,
        description="The date the figures were true; default today; not in the future nor "
        "before the publication.",
    )

    @model_validator(mode="after")
    def _something(self) -> MetricsCreate:
        if all(getattr(self, name) is None for name in METRIC_NAMES):
            raise ValueError("send at least one figure")
        return self


class MetricsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    deliverable_id: uuid.UUID
    source: Party = Field(description="Who recorded the figures.")
    recorded_at: datetime
    as_of: date = Field(description="The date the figures were true.")
    reach: int | None
    impressions: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    clicks: int | None
    conversions: int | None

    # A plain field set from `as_of` (not a computed field), so the schema is one and the
    # same where the object is an answer and where it is a webhook payload.
    stale: bool = Field(
        default=False,
        description="The reading is older than the configured age (FIGURES_STALE_AFTER_DAYS).",
    )

    @model_validator(mode="after")
    def _flag_stale(self) -> Self:
        self.stale = figures_stale(self.as_of)
        return self


class DisclosureCheck(BaseModel):
    """A caption (the draft's intended one, or the published one) against the
    deliverable's disclosure checklist."""

    compliant: bool
    missing_hashtags: list[str]
    missing_mentions: list[str]
    paid_partnership_label_missing: bool


class SubmissionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    round: int
    draft_url: str
    caption: str
    status: SubmissionStatus
    late: bool = Field(description="Submitted after the draft due date.")
    submitted_at: datetime
    reviewed_at: datetime | None
    auto_approved: bool = Field(description="Approved by the review-window timer.")
    comments: list[str]
    paid_partnership_label: bool = Field(description="The label the creator intends to use.")
    disclosure_check: DisclosureCheck | None = Field(
        description="The draft's caption and label against the checklist, run at submission."
    )
    disclosure_gaps_acknowledged: bool = Field(
        description="The brand approved this draft knowing its disclosure check failed."
    )


class DeliverableRead(BaseModel):
    id: uuid.UUID
    deal_id: uuid.UUID
    position: int
    platform: Platform
    format: DeliverableFormat
    unit: int = Field(description="Which of the quantity agreed for this platform and format.")
    status: DeliverableStatus
    optional: bool = Field(description="Posting is not required (some gifted briefs).")
    due_date: date | None = Field(description="Publish by this date.")
    due_days_after_delivery: int | None
    draft_due_date: date | None = Field(
        description="Gifted deals: the product's delivery date plus due_days_after_delivery."
    )
    disclosure: Disclosure = Field(description="The checklist every post must meet.")
    change_requests: int
    revision_rounds_left: int = Field(description="Change requests the brand has left.")
    approved_at: datetime | None
    published_url: str | None
    published_at: datetime | None
    published_caption: str | None
    paid_partnership_label: bool | None
    late: bool | None = Field(
        description="Published after the due date (or, without one, the draft due date)."
    )
    disclosure_check: DisclosureCheck | None
    submissions: list[SubmissionRead] = Field(description="Every draft round, oldest first.")
    latest_metrics: MetricsRead | None
    created_at: datetime
    updated_at: datetime
