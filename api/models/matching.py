"""Matching: the denormalized match tables, their compact codes, and the API schemas.

`match_accounts` holds one row per social account, in slot 0 (its view,
`match_account_source`, also yields a row per niche of its creator, slot = niche code;
since migration 0011 they are not stored). `match_briefs` holds one row per open brief,
platform and tier (each tier it names, or 0), all in slot 0 (its view,
`match_brief_source`, also yields a row per niche, or slot 21 for none; since migration
0009 they are not stored). Both are kept by triggers (migrations 0006-0011)
from the tables they summarise, in the same transaction as every write, and hold only
settings-independent facts: the scoring model (`api.matching.model`) applies tiers,
norms and weights at query time. An account's row carries its creator's track record:
completed deals, and published deliverables on time and late.

Codes (stable; the migration's SQL functions use the same ones):
- platform: position in `Platform` + 1 (0 = any platform, briefs only);
- niche: position in `Niche` + 1, its mask bit `1 << (code - 1)`;
- deliverable format: position in `DeliverableFormat` (0-9);
- country: `(A - 65) * 26 + (B - 65)` of its two letters; currency likewise with three;
  a brief's country lists still carry a mask (`creator_mask`, `target_mask`, bit
  `code % 63` per country) that nothing reads any more: dropping the columns means
  rewriting the views and triggers of migrations 0006/0009, left to that migration;
- tier bits: nano 1, micro 2, macro 4, mega 8; gender bits: female 1, male 2, other 4;
- audience slot: `(country code << 10) | share in permille`, the six largest countries
  (0 for a slot without one);
- genders: female, male and other permille packed in 10 bits each.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from api.models.base import metadata
from api.models.briefs import CollaborationType, CompensationType
from api.models.common import (
    CountryCode,
    DeliverableFormat,
    Niche,
    Platform,
    QueryCount,
    QueryFraction,
    QueryPercent,
    Tier,
)

PLATFORM_CODES: dict[str, int] = {p.value: i + 1 for i, p in enumerate(Platform)}
NICHE_CODES: dict[str, int] = {n.value: i + 1 for i, n in enumerate(Niche)}
TIER_BITS: dict[str, int] = {t.value: 1 << i for i, t in enumerate(Tier)}
GENDER_BITS: dict[str, int] = {"female": 1, "male": 2, "other": 4}
AGE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("13-17", 13, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, 100),
)
AUDIENCE_SLOTS = 6
COUNTRY_CODES = 26 * 26  # codes 0-675, see `country_code`
ALL_SLOT = 0
ANY_PLATFORM = 0
FORMATS = len(DeliverableFormat)


def country_code(country: str) -> int:
    return (ord(country[0]) - 65) * 26 + (ord(country[1]) - 65)


def country_of(code: int) -> str:
    return chr(65 + code // 26) + chr(65 + code % 26)


def niche_mask(niches: Iterable[str]) -> int:
    mask = 0
    for niche in niches:
        mask |= 1 << (NICHE_CODES[niche] - 1)
    return mask


def niches_of(mask: int) -> list[str]:
    return [n for n, code in NICHE_CODES.items() if mask & (1 << (code - 1))]


def platform_of(code: int) -> str:
    return list(PLATFORM_CODES)[code - 1]


def _aud(i: int) -> Column[int]:
    return Column(f"aud_{i}", Integer, nullable=False)


def _age(i: int) -> Column[int]:
    return Column(f"age_{i}", SmallInteger, nullable=False)


def _age_weight(i: int) -> Column[int]:
    # The share of the bucket's years inside the brief's age range, in permille.
    return Column(f"age_w{i}", SmallInteger, nullable=False)


# Missing audience slots are 0, not null. (The column order followed the covering indexes
# of the SQL ranking, 0006-0010: fixed-width columns that are never null first.)

match_accounts = Table(
    "match_accounts",
    metadata,
    Column(
        "account_id",
        PG_UUID(as_uuid=True),
        ForeignKey("social_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("slot", SmallInteger, nullable=False),
    Column(
        "creator_id",
        PG_UUID(as_uuid=True),
        ForeignKey("creators.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("platform", SmallInteger, nullable=False),
    Column("country", SmallInteger, nullable=True),
    Column("followers", BigInteger, nullable=False),
    Column("er", Float, nullable=False),
    Column("accepts_gifting", Boolean, nullable=False),
    Column("niche_mask", Integer, nullable=False),
    Column("niche_count", SmallInteger, nullable=False),
    Column("genders", Integer, nullable=False),
    *[_age(i) for i in range(1, len(AGE_BUCKETS) + 1)],
    Column("deals_completed", Integer, nullable=False),
    *[_aud(i) for i in range(1, AUDIENCE_SLOTS + 1)],
    Column("fee_currency", SmallInteger, nullable=True),
    # The creator's rate card for this account's platform, by format index (+1); null: none.
    Column("fees", ARRAY(BigInteger), nullable=True),
    # The creator's published deliverables (all deals), on time and late (migration 0007).
    Column("published_on_time", Integer, nullable=False),
    Column("published_late", Integer, nullable=False),
    PrimaryKeyConstraint("account_id", "slot"),
    Index("ix_match_accounts_creator_id_slot", "creator_id", "slot"),
)

match_briefs = Table(
    "match_briefs",
    metadata,
    Column(
        "brief_id",
        PG_UUID(as_uuid=True),
        ForeignKey("briefs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("slot", SmallInteger, nullable=False),
    Column("platform", SmallInteger, nullable=False),
    # A tier the brief wants (its bit), or 0: any size (no tier named, or explicit bounds).
    Column("tier", SmallInteger, nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=True),
    Column("platform_mask", Integer, nullable=False),
    Column("tier_mask", SmallInteger, nullable=False),
    Column("requires_gifting", Boolean, nullable=False),
    Column("niche_mask", Integer, nullable=False),
    Column("niche_count", SmallInteger, nullable=False),
    # 63-bit summaries of the country lists (bit `code % 63` per country): a cheap test
    # that rules out most countries before an array is read. Empty list: 0.
    Column("creator_mask", BigInteger, nullable=False),
    Column("target_mask", BigInteger, nullable=False),
    Column("gender_mask", SmallInteger, nullable=False),
    Column("has_age", Boolean, nullable=False),
    *[_age_weight(i) for i in range(1, len(AGE_BUCKETS) + 1)],
    Column("units_total", Integer, nullable=False),
    # 0 when the brief sets no minimum; -1 when it names no currency.
    Column("min_er", Float, nullable=False),
    Column("currency", SmallInteger, nullable=False),
    # This row's platform: its deliverable units per format index (6 bits each), their sum,
    # and its pro-rata share of the budget (null when unknown). Briefs for a creator read
    # these; the whole brief's figures (`units`, `budget`) serve everything else.
    Column("row_units", BigInteger, nullable=False),
    Column("row_units_total", SmallInteger, nullable=False),
    Column("creator_countries", ARRAY(SmallInteger), nullable=False),
    Column("target_countries", ARRAY(SmallInteger), nullable=False),
    # Deliverable units by platform code * 10 + format index + 1 (1-100), then their sum
    # per platform at 100 + platform code (101-110).
    Column("units", ARRAY(SmallInteger), nullable=False),
    Column("budget", Float, nullable=True),
    Column("row_budget", Float, nullable=True),
    Column("size_min", BigInteger, nullable=True),
    Column("size_max", BigInteger, nullable=True),
    PrimaryKeyConstraint("brief_id", "slot", "platform", "tier"),
)


def _change_log(name: str, key: str) -> Table:
    """A change log of a match table: the keys whose rows a transaction changed, with the
    transaction's id, written by statement triggers on the table."""
    return Table(
        name,
        metadata,
        Column(
            "xid",
            BigInteger,
            nullable=False,
            server_default=text("(pg_current_xact_id())::text::bigint"),
        ),
        Column(key, PG_UUID(as_uuid=True), nullable=False),
        Index(f"ix_{name}_xid", "xid"),
    )


# The in-memory indexes follow the match tables through these logs: the brief index
# (`api.matching.brief_index`) `match_briefs` (migration 0008), the creator index
# (`api.matching.creator_index`) `match_accounts` (migration 0010).
match_brief_changes = _change_log("match_brief_changes", "brief_id")
match_account_changes = _change_log("match_account_changes", "account_id")

# One row: `generation` is raised by rewrites the logs do not see (a TRUNCATE of
# match_briefs or match_accounts, by trigger), and the logs hold no transaction below
# `pruned_below` any more; either sends a worker's indexes back to a full copy.
match_index_state = Table(
    "match_index_state",
    metadata,
    Column("id", Boolean, nullable=False, server_default=text("true")),
    Column("generation", BigInteger, nullable=False, server_default=text("0")),
    Column("pruned_below", BigInteger, nullable=False, server_default=text("0")),
    Column("next_prune", BigInteger, nullable=True),
    Column("next_prune_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("id"),
    CheckConstraint("id", name="one_row"),
)

# The columns of a brief's features, as `match_brief_source` yields them (any status).
BRIEF_FEATURES = [c.name for c in match_briefs.columns]
ACCOUNT_FEATURES = [c.name for c in match_accounts.columns]


# --- API schemas ----------------------------------------------------------------------------

Score = Annotated[float, Field(ge=0, le=1)]


class MatchParts(BaseModel):
    """The named parts of a match score, each in [0, 1]; 0.5 is neutral (the brief does
    not ask, or the figure is unknown)."""

    tier_fit: Score = Field(description="Size: in a wanted tier, or placed within the bounds.")
    niche_overlap: Score = Field(description="Shared niches over the smaller niche list.")
    audience_country: Score = Field(description="Share of the audience in target countries.")
    audience_gender: Score = Field(description="Share of the audience of the target gender.")
    audience_age: Score = Field(description="Share of the audience in the target age range.")
    engagement: Score = Field(description="Engagement rate against its tier's platform norm.")
    price_fit: Score = Field(description="Rate card (or proposed fee) against the budget.")
    reliability: Score = Field(
        description="Completed deals and on-time publishing; 0.5 without any history."
    )


class MatchedAccount(BaseModel):
    """The creator's social account the match is scored on."""

    id: uuid.UUID
    platform: Platform
    handle: str
    followers: int
    tier: Tier | None
    engagement_rate: float = Field(description="A fraction: 0.045 = 4.5 %.")


class CreatorSummary(BaseModel):
    id: uuid.UUID
    display_name: str
    handle: str | None
    country: str | None
    niches: list[Niche]
    accepts_gifting: bool


class CreatorMatch(BaseModel):
    """A creator ranked for a brief."""

    creator: CreatorSummary
    account: MatchedAccount
    score: Score
    parts: MatchParts
    reasons: list[str] = Field(examples=[["covers beauty", "61 % of the audience in DE, AT"]])
    invited: bool = Field(description="You already invited this creator to apply.")


class BriefSummary(BaseModel):
    id: uuid.UUID
    brand_id: uuid.UUID
    title: str
    collaboration_type: CollaborationType
    compensation_type: CompensationType
    platforms: list[Platform]
    niches: list[Niche]
    currency: str | None
    fee_min_minor: int | None
    fee_max_minor: int | None
    application_deadline: datetime | None
    publish_start_date: date | None


class BriefMatch(BaseModel):
    """An open brief ranked for the calling creator."""

    brief: BriefSummary
    account: MatchedAccount = Field(description="Your account that fits the brief best.")
    score: Score
    parts: MatchParts
    reasons: list[str]


class CreatorMatchFilters(BaseModel):
    """Extra filters of `GET /v1/briefs/{id}/matches`, on top of the brief's requirements."""

    country: list[CountryCode] = Field(
        default_factory=list, max_length=60, description="Creators living in one of these."
    )
    niche: list[Niche] = Field(
        default_factory=list, max_length=len(Niche), description="Creators covering any."
    )
    min_followers: QueryCount | None = None


class CreatorDirectoryQuery(BaseModel):
    """Query parameters of `GET /v1/creators`. Filters combine with AND; a repeated
    parameter matches any of its values. Account filters hold for one account."""

    tier: list[Tier] = Field(default_factory=list, max_length=len(Tier))
    platform: list[Platform] = Field(default_factory=list, max_length=len(Platform))
    niche: list[Niche] = Field(default_factory=list, max_length=len(Niche))
    country: list[CountryCode] = Field(
        default_factory=list, max_length=60, description="Where the creator lives."
    )
    min_followers: QueryCount | None = None
    max_followers: QueryCount | None = None
    min_engagement_rate: QueryFraction | None = Field(
        default=None, description="A fraction: 0.03 = 3 %."
    )
    audience_country: list[CountryCode] = Field(
        default_factory=list,
        max_length=20,
        description="Among the account's six largest audience countries.",
    )
    min_audience_share: QueryPercent | None = Field(
        default=None,
        description="With audience_country: their combined share, in percent, at least this.",
    )
