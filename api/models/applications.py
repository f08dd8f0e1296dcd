"""Applications of creators to briefs, and brands' invitations to apply."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import BigInteger, Boolean, Float, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.common import (
    DeliverableFormat,
    MoneyMinor,
    Platform,
    StrictBool,
    StrictInt,
    _no_nul,
)
from api.models.matching import MatchParts
from api.models.terms import MAX_DELIVERABLES


class ApplicationStatus(StrEnum):
    submitted = "submitted"
    shortlisted = "shortlisted"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"


PENDING_STATES = (ApplicationStatus.submitted, ApplicationStatus.shortlisted)


class ApplicationSort(StrEnum):
    match_score = "match_score"
    newest = "newest"
    proposed_fee = "proposed_fee"


class InvitationStatus(StrEnum):
    """`pending`: it can be used; `applied`: it was; `expired`: its seven days ran out
    unused; `closed`: still within its days, but the brief no longer takes applications."""

    pending = "pending"
    applied = "applied"
    expired = "expired"
    closed = "closed"


class Application(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (
        enum_check("status", ApplicationStatus),
        # One application per creator per brief, also under concurrent requests.
        UniqueConstraint("brief_id", "creator_id"),
        Index("ix_applications_brief_id_match_score", "brief_id", "match_score", "id"),
        Index("ix_applications_brief_id_created_at", "brief_id", "created_at", "id"),
        Index("ix_applications_creator_id_created_at", "creator_id", "created_at", "id"),
    )

    id: uuid.UUID = id_field()
    brief_id: uuid.UUID = SQLField(foreign_key="briefs.id", ondelete="CASCADE")
    creator_id: uuid.UUID = SQLField(foreign_key="creators.id", ondelete="CASCADE")
    invitation_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="invitations.id", ondelete="SET NULL"
    )
    status: str = SQLField(default=ApplicationStatus.submitted, sa_type=String(16))
    pitch: str = SQLField(sa_type=Text)
    account_ids: list[uuid.UUID] = SQLField(sa_type=ARRAY(PG_UUID(as_uuid=True)))
    proposed_fee_minor: int | None = SQLField(default=None, sa_type=BigInteger)
    currency: str | None = SQLField(default=None, sa_type=String(3))
    answers: list[dict[str, Any]] = SQLField(
        default_factory=list, sa_type=JSONB, sa_column_kwargs={"server_default": "[]"}
    )
    # The creator's option for each either-or deliverable chosen ({deliverable, platform,
    # format}).
    deliverable_choices: list[dict[str, Any]] = SQLField(
        default_factory=list, sa_type=JSONB, sa_column_kwargs={"server_default": "[]"}
    )
    available_for_publish_date: bool = SQLField(sa_type=Boolean)
    match_score: float = SQLField(sa_type=Float)
    match_parts: dict[str, float] = SQLField(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": "{}"}
    )
    decided_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("brief_id", "creator_id"),
        Index("ix_invitations_creator_id_created_at", "creator_id", "created_at", "id"),
        Index(
            "ix_invitations_expiry_unnotified",
            "expires_at",
            postgresql_where=text("applied_at IS NULL AND expiry_notified_at IS NULL"),
        ),
    )

    id: uuid.UUID = id_field()
    brief_id: uuid.UUID = SQLField(foreign_key="briefs.id", ondelete="CASCADE")
    creator_id: uuid.UUID = SQLField(foreign_key="creators.id", ondelete="CASCADE")
    invited_by_user_id: uuid.UUID = SQLField(foreign_key="users.id", ondelete="CASCADE")
    message: str | None = SQLField(default=None, sa_type=Text)
    expires_at: datetime = timestamp_field(server_default=False)
    applied_at: datetime | None = timestamp_field(nullable=True)
    # When `invitation.expired` was recorded (api/services/invitations.py, notify_expired).
    expiry_notified_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()


# --- API schemas ----------------------------------------------------------------------------

Pitch = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000),
    AfterValidator(_no_nul),
]
AnswerText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000),
    AfterValidator(_no_nul),
]


class ScreeningAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_index: StrictInt = Field(ge=0, le=99, description="Position in the brief's questions.")
    answer: AnswerText


class DeliverableChoice(BaseModel):
    """Which option of an either-or deliverable will be delivered."""

    model_config = ConfigDict(extra="forbid")
    deliverable: StrictInt = Field(
        ge=0, lt=MAX_DELIVERABLES, description="Position in the brief's `deliverables`."
    )
    platform: Platform
    format: DeliverableFormat


DeliverableChoices = Annotated[list[DeliverableChoice], Field(max_length=MAX_DELIVERABLES)]


class ApplicationCreate(BaseModel):
    """Apply to an open brief before its deadline."""

    model_config = ConfigDict(extra="forbid")
    pitch: Pitch = Field(examples=["I cook weeknight dinners for 48k followers in Spain..."])
    account_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=10, description="Your social accounts you offer for the brief."
    )
    proposed_fee_minor: MoneyMinor | None = Field(
        default=None, description="Required for paid and hybrid briefs, in the brief's currency."
    )
    answers: list[ScreeningAnswer] = Field(default_factory=list, max_length=20)
    available_for_publish_date: bool = True
    deliverable_choices: DeliverableChoices = Field(
        default_factory=list,
        description="For deliverables with alternatives: the option you will deliver (on a "
        "platform of an account you offer). Unchosen ones the brand may choose at accept; "
        "else the first option on a platform you offer.",
    )


class ApplicationRead(BaseModel):
    id: uuid.UUID
    brief_id: uuid.UUID
    creator_id: uuid.UUID
    invitation_id: uuid.UUID | None
    status: ApplicationStatus
    pitch: str
    account_ids: list[uuid.UUID]
    proposed_fee_minor: int | None
    currency: str | None
    answers: list[ScreeningAnswer]
    available_for_publish_date: bool
    deliverable_choices: list[DeliverableChoice]
    match_score: float = Field(ge=0, le=1, description="Match score when the creator applied.")
    match_parts: MatchParts = Field(description="The score's named parts, each in [0, 1].")
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ApplicationAccept(BaseModel):
    """Optional body of an accept."""

    model_config = ConfigDict(extra="forbid")
    allow_over_budget: StrictBool = Field(
        default=False,
        description="Go past the campaign's budget (else 409 `over_budget`).",
    )
    deliverable_choices: DeliverableChoices = Field(
        default_factory=list,
        description="The brand's option for either-or deliverables; it rules over the "
        "creator's choice. Must be on a platform of an account the creator offered.",
    )


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    creator_id: uuid.UUID
    message: Pitch | None = None


class InvitationBriefSummary(BaseModel):
    """Enough of the brief to show an invitation without reading the brief."""

    title: str
    brand_id: uuid.UUID
    brand_name: str
    compensation_type: str = Field(examples=["gifted"])
    application_deadline: datetime | None


class InvitationRead(BaseModel):
    id: uuid.UUID
    brief_id: uuid.UUID
    brief: InvitationBriefSummary
    creator_id: uuid.UUID
    message: str | None
    status: InvitationStatus
    expires_at: datetime
    applied_at: datetime | None
    created_at: datetime
