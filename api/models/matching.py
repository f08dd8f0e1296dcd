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

Their columns are the features of `api.matching.registry`, which states each once (its SQL,
type, nullability, the source columns that feed it) and documents the compact codes; the
helpers below turn codes back into names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from api.matching import registry
from api.matching.registry import AGE_BUCKETS as AGE_BUCKETS
from api.matching.registry import AUDIENCE_SLOTS as AUDIENCE_SLOTS
from api.matching.registry import FORMATS as FORMATS
from api.matching.registry import GENDER_BITS as GENDER_BITS
from api.matching.registry import Feature
from api.models.base import metadata
from api.models.briefs import CollaborationType, CompensationType
from api.models.common import (
    CountryCode,
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
COUNTRY_CODES = 26 * 26  # codes 0-675, see `country_code`
ALL_SLOT = 0
ANY_PLATFORM = 0


def country_code(country: str) -> int:
    return (ord(country[0]) - 65) * 26 + (ord(country[1]) - 65)


def currency_code(currency: str) -> int:
    return country_code(currency[:2]) * 26 + ord(currency[2]) - 65


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


# The row keys reference the rows they summarise; every other column is a feature of the
# registry (`api.matching.registry`), in its order.
_REFERENCES = {
    "account_id": "social_accounts.id",
    "creator_id": "creators.id",
    "brief_id": "briefs.id",
}


def _columns(features: Sequence[Feature]) -> list[Column[Any]]:
    columns = []
    for f in registry.stored(features):
        target = _REFERENCES.get(f.name)
        keys = [ForeignKey(target, ondelete="CASCADE")] if target else []
        columns.append(f.column(*keys))
    return columns


match_accounts = Table(
    "match_accounts",
    metadata,
    *_columns(registry.ACCOUNT),
    PrimaryKeyConstraint("account_id", "slot"),
    Index("ix_match_accounts_creator_id_slot", "creator_id", "slot"),
)

match_briefs = Table(
    "match_briefs",
    metadata,
    *_columns(registry.BRIEF),
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
BRIEF_FEATURES = registry.names(registry.BRIEF)
ACCOUNT_FEATURES = registry.names(registry.ACCOUNT)


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
