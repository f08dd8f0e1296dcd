"""Briefs: a brand's call for creators, with the terms it offers (see `api.models.terms`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.common import (
    ApiDate,
    ApiDatetime,
    Count,
    CountryCode,
    CurrencyCode,
    DeliverableFormat,
    LongText,
    MoneyMinor,
    Niche,
    Platform,
    QueryMoneyMinor,
    ShortText,
    StrictFloat,
    StrictInt,
    Tier,
    _no_nul,
    reject_explicit_null,
)
from api.models.creators import GenderBucket

# The terms documents are re-exported: briefs are where most callers meet them.
from api.models.terms import (
    MAX_DELIVERABLES as MAX_DELIVERABLES,
)
from api.models.terms import (
    AdPermission as AdPermission,
)
from api.models.terms import (
    Countries,
    Deliverables,
    dedupe,
)
from api.models.terms import (
    DeliverableSpec as DeliverableSpec,
)
from api.models.terms import (
    Disclosure as Disclosure,
)
from api.models.terms import (
    Product as Product,
)
from api.models.terms import (
    UsageChannel as UsageChannel,
)
from api.models.terms import (
    UsageRights as UsageRights,
)

T = TypeVar("T")


class BriefStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    completed = "completed"
    cancelled = "cancelled"


class CollaborationType(StrEnum):
    sponsored_post = "sponsored_post"
    product_seeding = "product_seeding"
    product_review = "product_review"
    giveaway = "giveaway"
    brand_ambassador = "brand_ambassador"
    affiliate = "affiliate"
    ugc = "ugc"
    event = "event"
    takeover = "takeover"


class CompensationType(StrEnum):
    gifted = "gifted"
    paid = "paid"
    affiliate = "affiliate"
    hybrid = "hybrid"


class CloseReason(StrEnum):
    deadline = "deadline"
    slots_filled = "slots_filled"
    brand = "brand"


class BriefSort(StrEnum):
    relevance = "relevance"
    publish_date = "publish_date"
    deadline = "deadline"
    newest = "newest"
    fee = "fee"


# --- constrained values ---------------------------------------------------------------------


Question = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_no_nul),
]
Slots = Annotated[StrictInt, Field(ge=1, le=1000, description="How many creators are wanted.")]
CommissionPercent = Annotated[
    StrictFloat,
    Field(ge=0.01, le=100, description="Commission in percent of sales."),
    AfterValidator(lambda v: round(v, 2)),
]
EngagementRate = Annotated[
    StrictFloat,
    Field(ge=0, le=1, description="A fraction: 0.03 = 3 %."),
    AfterValidator(lambda v: round(v, 5)),
]
Platforms = Annotated[list[Platform], Field(max_length=len(Platform)), AfterValidator(dedupe)]
Tiers = Annotated[list[Tier], Field(max_length=len(Tier)), AfterValidator(dedupe)]
Niches = Annotated[list[Niche], Field(max_length=10), AfterValidator(dedupe)]
RevisionRounds = Annotated[StrictInt, Field(ge=0, le=10)]
ReviewWindowDays = Annotated[StrictInt, Field(ge=1, le=30)]

MAX_SCREENING_QUESTIONS = 10


# --- documents stored as JSONB --------------------------------------------------------------


def default_usage_rights(compensation: CompensationType) -> UsageRights:
    """Paid work licenses organic social, website and email for a year, worldwide;
    gifted and commission-only work only organic reposting. Never perpetual."""
    if compensation in (CompensationType.paid, CompensationType.hybrid):
        channels = [UsageChannel.organic_social, UsageChannel.website, UsageChannel.email]
    else:
        channels = [UsageChannel.organic_social]
    return UsageRights(channels=channels, duration_days=365, worldwide=True)


class TargetAudience(BaseModel):
    """Who the brand wants to reach; matching scores creators' audiences against it."""

    model_config = ConfigDict(extra="forbid")
    countries: Countries = Field(default_factory=list, examples=[["DE", "AT"]])
    genders: Annotated[list[GenderBucket], Field(max_length=3), AfterValidator(dedupe)] = Field(
        default_factory=list, examples=[["female"]]
    )
    age_min: StrictInt | None = Field(default=None, ge=13, le=100)
    age_max: StrictInt | None = Field(default=None, ge=13, le=100)

    @field_validator("age_max")
    @classmethod
    def _age_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        age_min = info.data.get("age_min")
        if value is not None and age_min is not None and value < age_min:
            raise ValueError("must not be below age_min")
        return value


def default_disclosure(compensation: CompensationType) -> Disclosure:
    if compensation == CompensationType.gifted:
        return Disclosure(hashtags=["#gifted"])
    if compensation == CompensationType.affiliate:
        return Disclosure(hashtags=["#ad"])
    return Disclosure(hashtags=["#ad"], paid_partnership_label=True)


class ScreeningQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question = Field(examples=["Have you used a vitamin C serum before?"])
    required: bool = True


ScreeningQuestions = Annotated[list[ScreeningQuestion], Field(max_length=MAX_SCREENING_QUESTIONS)]


# --- tables ---------------------------------------------------------------------------------


def _array_check(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} <@ ARRAY[{values}]::varchar[]", name=f"{column}_valid")


_OPEN = text("status = 'open'")


class Brief(SQLModel, table=True):
    """A brief. `version` grows by one with every change and is the ETag."""

    __tablename__ = "briefs"
    __table_args__ = (
        enum_check("status", BriefStatus),
        enum_check("collaboration_type", CollaborationType),
        enum_check("compensation_type", CompensationType),
        enum_check("closed_reason", CloseReason, nullable=True),
        _array_check("platforms", Platform),
        _array_check("tiers", Tier),
        _array_check("niches", Niche),
        CheckConstraint("slots BETWEEN 1 AND 1000", name="slots_range"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "accepted_count >= 0 AND accepted_count <= coalesce(slots, 0)",
            name="accepted_within_slots",
        ),
        # Publishing validated these; the database keeps them true for every published brief.
        CheckConstraint(
            "status IN ('draft', 'cancelled') OR (publish_start_date IS NOT NULL"
            " AND application_deadline IS NOT NULL AND slots IS NOT NULL)",
            name="published_complete",
        ),
        # Checked when a draft is written too; cancelled drafts keep what they had.
        CheckConstraint(
            "status IN ('draft', 'cancelled') OR (fee_min_minor <= fee_max_minor) IS NOT FALSE",
            name="fee_range",
        ),
        CheckConstraint(
            "status IN ('draft', 'cancelled') OR (min_followers <= max_followers) IS NOT FALSE",
            name="follower_bounds",
        ),
        # Full text over title (weight A) and description (B); not mapped on the model,
        # so it is never loaded with a brief: queries use `brief_search_vector`.
        Column(
            "search",
            TSVECTOR,
            Computed(
                "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
                "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')",
                persisted=True,
            ),
            nullable=False,
        ),
        # The fee sort key: briefs without a fee (gifted, affiliate) sort as 0.
        Column(
            "fee_sort_minor",
            BigInteger,
            Computed("coalesce(fee_max_minor, 0)", persisted=True),
            nullable=False,
        ),
        Index("ix_briefs_brand_id_created_at", "brand_id", "created_at"),
        # Search only ever reads open briefs: every search index is partial.
        Index("ix_briefs_open_search", "search", postgresql_using="gin", postgresql_where=_OPEN),
        Index(
            "ix_briefs_open_platforms", "platforms", postgresql_using="gin", postgresql_where=_OPEN
        ),
        Index("ix_briefs_open_niches", "niches", postgresql_using="gin", postgresql_where=_OPEN),
        Index("ix_briefs_open_tiers", "tiers", postgresql_using="gin", postgresql_where=_OPEN),
        Index(
            "ix_briefs_open_creator_countries",
            "creator_countries",
            postgresql_using="gin",
            postgresql_where=_OPEN,
        ),
        Index(
            "ix_briefs_open_publish_start_date",
            "publish_start_date",
            "id",
            postgresql_where=_OPEN,
        ),
        Index(
            "ix_briefs_open_application_deadline",
            "application_deadline",
            "id",
            postgresql_where=_OPEN,
        ),
        Index("ix_briefs_open_published_at", "published_at", "id", postgresql_where=_OPEN),
        Index("ix_briefs_open_fee_sort", "fee_sort_minor", "id", postgresql_where=_OPEN),
    )
    __mapper_args__ = {"exclude_properties": ["search", "fee_sort_minor"]}

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = SQLField(foreign_key="brands.id", ondelete="CASCADE")
    status: str = SQLField(default=BriefStatus.draft, sa_type=String(16))
    version: int = SQLField(default=1)
    title: str = SQLField(sa_type=String(200))
    description: str | None = SQLField(default=None, sa_type=Text)
    product: dict[str, Any] | None = SQLField(default=None, sa_type=JSONB)
    collaboration_type: str = SQLField(sa_type=String(24))
    compensation_type: str = SQLField(sa_type=String(16))
    currency: str | None = SQLField(default=None, sa_type=String(3))
    fee_min_minor: int | None = SQLField(default=None, sa_type=BigInteger)
    fee_max_minor: int | None = SQLField(default=None, sa_type=BigInteger)
    commission_rate_percent: float | None = SQLField(
        default=None, sa_type=Numeric(5, 2, asdecimal=False)
    )
    gifted_product: dict[str, Any] | None = SQLField(default=None, sa_type=JSONB)
    posting_required: bool = SQLField(
        default=True, sa_type=Boolean, sa_column_kwargs={"server_default": "true"}
    )
    platforms: list[str] = SQLField(
        default_factory=list, sa_type=ARRAY(String(16)), sa_column_kwargs={"server_default": "{}"}
    )
    tiers: list[str] = SQLField(
        default_factory=list, sa_type=ARRAY(String(8)), sa_column_kwargs={"server_default": "{}"}
    )
    min_followers: int | None = SQLField(default=None, sa_type=BigInteger)
    max_followers: int | None = SQLField(default=None, sa_type=BigInteger)
    niches: list[str] = SQLField(
        default_factory=list, sa_type=ARRAY(String(20)), sa_column_kwargs={"server_default": "{}"}
    )
    min_engagement_rate: float | None = SQLField(
        default=None, sa_type=Numeric(6, 5, asdecimal=False)
    )
    # Where the creator must live (shipping, law); empty: anywhere.
    creator_countries: list[str] = SQLField(
        default_factory=list, sa_type=ARRAY(String(2)), sa_column_kwargs={"server_default": "{}"}
    )
    target_audience: dict[str, Any] = SQLField(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": "{}"}
    )
    publish_start_date: date | None = SQLField(default=None, sa_type=Date)
    publish_end_date: date | None = SQLField(default=None, sa_type=Date)
    application_deadline: datetime | None = timestamp_field(nullable=True)
    slots: int | None = SQLField(default=None)
    # Accepted applications so far; only the guarded accept UPDATE changes it.
    accepted_count: int = SQLField(default=0, sa_column_kwargs={"server_default": "0"})
    screening_questions: list[dict[str, Any]] = SQLField(
        default_factory=list, sa_type=JSONB, sa_column_kwargs={"server_default": "[]"}
    )
    disclosure: dict[str, Any] = SQLField(sa_type=JSONB)
    usage_rights: dict[str, Any] = SQLField(sa_type=JSONB)
    max_revision_rounds: int = SQLField(
        default=2, sa_type=SmallInteger, sa_column_kwargs={"server_default": "2"}
    )
    review_window_days: int = SQLField(
        default=3, sa_type=SmallInteger, sa_column_kwargs={"server_default": "3"}
    )
    closed_reason: str | None = SQLField(default=None, sa_type=String(16))
    published_at: datetime | None = timestamp_field(nullable=True)
    closed_at: datetime | None = timestamp_field(nullable=True)
    cancelled_at: datetime | None = timestamp_field(nullable=True)
    completed_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


brief_search_vector: Any = Brief.__table__.c.search  # type: ignore[attr-defined]
brief_fee_sort: Any = Brief.__table__.c.fee_sort_minor  # type: ignore[attr-defined]


class BriefDeliverable(SQLModel, table=True):
    __tablename__ = "brief_deliverables"
    __table_args__ = (
        enum_check("platform", Platform),
        enum_check("format", DeliverableFormat),
        CheckConstraint("quantity BETWEEN 1 AND 50", name="quantity_range"),
        UniqueConstraint("brief_id", "position"),
    )

    id: uuid.UUID = id_field()
    brief_id: uuid.UUID = SQLField(foreign_key="briefs.id", ondelete="CASCADE")
    position: int = SQLField(sa_type=SmallInteger)
    platform: str = SQLField(sa_type=String(16))
    format: str = SQLField(sa_type=String(16))
    quantity: int = SQLField(sa_type=SmallInteger)
    # Other options ({platform, format}) of an either-or deliverable.
    alternatives: list[dict[str, str]] = SQLField(
        default_factory=list, sa_type=JSONB, sa_column_kwargs={"server_default": "[]"}
    )

    def options(self) -> list[tuple[str, str]]:
        return [(self.platform, self.format)] + [
            (a["platform"], a["format"]) for a in self.alternatives
        ]


# --- API schemas ----------------------------------------------------------------------------


class _BriefOptionalFields(BaseModel):
    """Fields a draft may leave empty (null); publishing checks what each brief needs."""

    model_config = ConfigDict(extra="forbid")
    description: LongText | None = None
    product: Product | None = Field(default=None, description="The product being promoted.")
    currency: CurrencyCode | None = Field(
        default=None, description="ISO 4217; every amount of the brief is in it.", examples=["EUR"]
    )
    fee_min_minor: MoneyMinor | None = Field(
        default=None, description="Paid and hybrid briefs: the fee range, minor units."
    )
    fee_max_minor: MoneyMinor | None = None
    commission_rate_percent: CommissionPercent | None = Field(
        default=None, description="Affiliate and hybrid briefs."
    )
    gifted_product: Product | None = Field(
        default=None, description="What the creator receives: gifted and hybrid briefs."
    )
    min_followers: Count | None = Field(
        default=None, description="Explicit follower bounds; when set they rule over `tiers`."
    )
    max_followers: Count | None = None
    min_engagement_rate: EngagementRate | None = None
    publish_start_date: ApiDate | None = Field(
        default=None, description="The publish date, or the first day of the publish window."
    )
    publish_end_date: ApiDate | None = Field(
        default=None, description="The last day of a publish window; empty for a single date."
    )
    application_deadline: ApiDatetime | None = Field(
        default=None, description="Applications close then; must be before the publish date."
    )
    slots: Slots | None = None


class BriefCreate(_BriefOptionalFields):
    """A new draft. Only the title and the kind of brief are needed to start."""

    title: ShortText = Field(examples=["Summer glow: serum reels"])
    collaboration_type: CollaborationType
    compensation_type: CompensationType
    posting_required: bool = Field(
        default=True, description="Gifted briefs may make posting optional."
    )
    platforms: Platforms = Field(default_factory=list, examples=[["instagram", "tiktok"]])
    deliverables: Deliverables = Field(default_factory=list)
    tiers: Tiers = Field(default_factory=list, examples=[["micro"]])
    niches: Niches = Field(default_factory=list, examples=[["beauty"]])
    creator_countries: Countries = Field(
        default_factory=list, description="Where creators must live; empty: anywhere."
    )
    target_audience: TargetAudience = Field(default_factory=TargetAudience)
    screening_questions: ScreeningQuestions = Field(default_factory=list)
    disclosure: Disclosure | None = Field(
        default=None, description="Default: #ad (and the paid-partnership label) or #gifted."
    )
    usage_rights: UsageRights | None = Field(
        default=None, description="Default: from the compensation type; never perpetual."
    )
    max_revision_rounds: RevisionRounds = 2
    review_window_days: ReviewWindowDays = 3


class BriefUpdate(_BriefOptionalFields):
    """Changes to a brief: a draft may change anything; an open brief only its description,
    a later deadline and more slots. Nullable fields are cleared with null."""

    title: ShortText | None = None
    collaboration_type: CollaborationType | None = None
    compensation_type: CompensationType | None = None
    posting_required: bool | None = None
    platforms: Platforms | None = None
    deliverables: Deliverables | None = None
    tiers: Tiers | None = None
    niches: Niches | None = None
    creator_countries: Countries | None = None
    target_audience: TargetAudience | None = None
    screening_questions: ScreeningQuestions | None = None
    disclosure: Disclosure | None = None
    usage_rights: UsageRights | None = None
    max_revision_rounds: RevisionRounds | None = None
    review_window_days: ReviewWindowDays | None = None

    _required_not_null = field_validator(
        "title",
        "collaboration_type",
        "compensation_type",
        "posting_required",
        "platforms",
        "deliverables",
        "tiers",
        "niches",
        "creator_countries",
        "target_audience",
        "screening_questions",
        "disclosure",
        "usage_rights",
        "max_revision_rounds",
        "review_window_days",
    )(reject_explicit_null)


class BriefRead(BaseModel):
    id: uuid.UUID
    brand_id: uuid.UUID
    status: BriefStatus
    version: int = Field(description="Grows with every change; the ETag is this number.")
    title: str
    description: str | None
    product: Product | None
    collaboration_type: CollaborationType
    compensation_type: CompensationType
    currency: str | None
    fee_min_minor: int | None
    fee_max_minor: int | None
    commission_rate_percent: float | None
    gifted_product: Product | None
    posting_required: bool
    platforms: list[Platform]
    deliverables: list[DeliverableSpec]
    tiers: list[Tier]
    min_followers: int | None
    max_followers: int | None
    niches: list[Niche]
    min_engagement_rate: float | None
    creator_countries: list[str]
    target_audience: TargetAudience
    publish_start_date: date | None
    publish_end_date: date | None
    application_deadline: datetime | None
    slots: int | None
    screening_questions: list[ScreeningQuestion]
    disclosure: Disclosure
    usage_rights: UsageRights
    max_revision_rounds: int
    review_window_days: int
    closed_reason: CloseReason | None = Field(
        description="Why an open brief closed: its deadline, its slots filled, or the brand."
    )
    published_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


SearchText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
]


class BriefSearch(BaseModel):
    """Query parameters of `GET /v1/briefs`. Repeat a list parameter to match any value."""

    mine: bool = Field(
        default=False, description="Brands: your own briefs in every state, instead of search."
    )
    status: list[BriefStatus] = Field(
        default_factory=list, max_length=len(BriefStatus), description="With `mine` only."
    )
    q: SearchText | None = Field(
        default=None, description="Full text over title and description (web-search syntax)."
    )
    collaboration_type: list[CollaborationType] = Field(
        default_factory=list, max_length=len(CollaborationType)
    )
    compensation_type: list[CompensationType] = Field(
        default_factory=list, max_length=len(CompensationType)
    )
    platform: list[Platform] = Field(default_factory=list, max_length=len(Platform))
    tier: list[Tier] = Field(
        default_factory=list,
        max_length=len(Tier),
        description="Briefs wanting this tier, by tiers or by follower bounds overlapping it.",
    )
    niche: list[Niche] = Field(default_factory=list, max_length=len(Niche))
    creator_country: list[CountryCode] = Field(
        default_factory=list,
        max_length=20,
        description="Briefs open to creators living here (or anywhere).",
    )
    currency: CurrencyCode | None = Field(default=None, description="Required with a fee filter.")
    fee_min: QueryMoneyMinor | None = Field(
        default=None, description="The fee range overlaps this."
    )
    fee_max: QueryMoneyMinor | None = None
    publish_from: ApiDate | None = Field(
        default=None, description="The publish date or window overlaps this range."
    )
    publish_to: ApiDate | None = None
    deadline_after: ApiDatetime | None = None
    deadline_before: ApiDatetime | None = None
    sort: BriefSort | None = Field(
        default=None,
        description="Default: `relevance` with `q`, else `newest`. `publish_date` and "
        "`deadline` run soonest first; `newest` and `fee` (the top of the range) highest first.",
    )
