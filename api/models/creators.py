"""Creators: profiles, social accounts with audience figures, and the private address."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from sqlalchemy import BigInteger, Boolean, Date, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.common import (
    ApiDate,
    Count,
    CountryCode,
    CurrencyCode,
    DeliverableFormat,
    Handle,
    LanguageCode,
    LongText,
    MoneyMinor,
    Name,
    Niche,
    Percent,
    Platform,
    ShortText,
    Tag,
    Tier,
    figures_stale,
    reject_explicit_null,
)


class MetricsSource(StrEnum):
    self_reported = "self_reported"
    verified = "verified"


def _claimable(value: object) -> object:
    if value == MetricsSource.verified:
        raise ValueError(
            "a creator reports figures as `self_reported`; only a trusted path (an admin, "
            "a platform integration) may mark them `verified`"
        )
    return value


# What a creator may say about the source of their own figures.
ClaimedSource = Annotated[
    Literal["self_reported"],
    BeforeValidator(_claimable),
    Field(description="`self_reported`; `verified` is set only by a trusted path."),
]


GenderBucket = Literal["female", "male", "other"]
AgeBucket = Literal["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]


class Creator(SQLModel, table=True):
    __tablename__ = "creators"
    __table_args__ = (
        Index("uq_creators_handle", text("lower(handle)"), unique=True),
        Index("ix_creators_niches", "niches", postgresql_using="gin"),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = SQLField(foreign_key="users.id", unique=True, ondelete="CASCADE")
    display_name: str = SQLField(sa_type=String(120))
    handle: str | None = SQLField(default=None, sa_type=String(60))
    bio: str | None = SQLField(default=None, sa_type=Text)
    country: str | None = SQLField(default=None, sa_type=String(2))
    languages: list[str] = SQLField(
        default_factory=list, sa_type=ARRAY(String(3)), sa_column_kwargs={"server_default": "{}"}
    )
    niches: list[str] = SQLField(
        default_factory=list, sa_type=ARRAY(String(20)), sa_column_kwargs={"server_default": "{}"}
    )
    content_styles: list[str] = SQLField(
        default_factory=list, sa_type=ARRAY(String(40)), sa_column_kwargs={"server_default": "{}"}
    )
    rate_card_currency: str | None = SQLField(default=None, sa_type=String(3))
    rate_card: list[dict[str, Any]] = SQLField(
        default_factory=list, sa_type=JSONB, sa_column_kwargs={"server_default": "[]"}
    )
    accepts_gifting: bool = SQLField(
        default=True, sa_type=Boolean, sa_column_kwargs={"server_default": "true"}
    )
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class SocialAccount(SQLModel, table=True):
    __tablename__ = "social_accounts"
    __table_args__ = (
        enum_check("platform", Platform),
        enum_check("source", MetricsSource),
        UniqueConstraint("creator_id", "platform"),
    )

    id: uuid.UUID = id_field()
    creator_id: uuid.UUID = SQLField(foreign_key="creators.id", ondelete="CASCADE")
    platform: str = SQLField(sa_type=String(16))
    handle: str = SQLField(sa_type=String(60))
    followers: int = SQLField(sa_type=BigInteger)
    avg_likes: int = SQLField(sa_type=BigInteger)
    avg_comments: int = SQLField(sa_type=BigInteger)
    avg_views: int | None = SQLField(default=None, sa_type=BigInteger)
    reach: int | None = SQLField(default=None, sa_type=BigInteger)
    impressions: int | None = SQLField(default=None, sa_type=BigInteger)
    audience_countries: dict[str, float] = SQLField(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": "{}"}
    )
    audience_genders: dict[str, float] = SQLField(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": "{}"}
    )
    audience_ages: dict[str, float] = SQLField(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": "{}"}
    )
    source: str = SQLField(sa_type=String(16))
    as_of: date = SQLField(sa_type=Date)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class ShippingAddress(SQLModel, table=True):
    __tablename__ = "shipping_addresses"

    creator_id: uuid.UUID = SQLField(
        foreign_key="creators.id", primary_key=True, ondelete="CASCADE"
    )
    recipient_name: str = SQLField(sa_type=String(120))
    line1: str = SQLField(sa_type=String(200))
    line2: str | None = SQLField(default=None, sa_type=String(200))
    city: str = SQLField(sa_type=String(120))
    region: str | None = SQLField(default=None, sa_type=String(120))
    postal_code: str = SQLField(sa_type=String(20))
    country: str = SQLField(sa_type=String(2))
    phone: str | None = SQLField(default=None, sa_type=String(40))
    updated_at: datetime = timestamp_field()


# --- API schemas ----------------------------------------------------------------------------


def _shares_at_most_100(shares: dict[Any, float]) -> dict[Any, float]:
    if sum(shares.values()) > 100.0001:
        raise ValueError("shares must sum to at most 100 percent")
    return shares


class RateCardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Platform
    format: DeliverableFormat
    fee_minor: MoneyMinor = Field(description="Fee in minor units of the rate card currency.")


class AudienceDemographics(BaseModel):
    """Audience shares in percent; each group sums to at most 100."""

    model_config = ConfigDict(extra="forbid")
    countries: dict[CountryCode, Percent] = Field(
        default_factory=dict, max_length=60, examples=[{"US": 41.5, "GB": 12.0}]
    )
    genders: dict[GenderBucket, Percent] = Field(
        default_factory=dict, examples=[{"female": 72.0, "male": 27.0}]
    )
    ages: dict[AgeBucket, Percent] = Field(
        default_factory=dict, examples=[{"18-24": 38.0, "25-34": 44.0}]
    )

    _sum = field_validator("countries", "genders", "ages")(_shares_at_most_100)


class SocialAccountFigures(BaseModel):
    model_config = ConfigDict(extra="forbid")
    followers: Count = Field(examples=[48_200])
    avg_likes: Count = Field(examples=[2_150])
    avg_comments: Count = Field(examples=[96])
    avg_views: Count | None = None
    reach: Count | None = None
    impressions: Count | None = None


class SocialAccountCreate(SocialAccountFigures):
    """A social account; tier and engagement rate are derived, never sent."""

    platform: Platform
    handle: Handle = Field(examples=["@ana.cooks"])
    audience: AudienceDemographics = Field(default_factory=AudienceDemographics)
    source: ClaimedSource = "self_reported"
    as_of: ApiDate = Field(description="When the figures were taken.")


class SocialAccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    handle: Handle | None = None
    followers: Count | None = None
    avg_likes: Count | None = None
    avg_comments: Count | None = None
    avg_views: Count | None = None
    reach: Count | None = None
    impressions: Count | None = None
    audience: AudienceDemographics | None = None
    source: ClaimedSource | None = None
    as_of: ApiDate | None = None

    _not_null = field_validator(
        "handle", "followers", "avg_likes", "avg_comments", "audience", "source", "as_of"
    )(reject_explicit_null)


class SocialAccountRead(BaseModel):
    id: uuid.UUID
    platform: Platform
    handle: str
    followers: int
    avg_likes: int
    avg_comments: int
    avg_views: int | None
    reach: int | None
    impressions: int | None
    tier: Tier | None = Field(description="Derived from followers; null below the smallest band.")
    engagement_rate: float = Field(
        description="(avg likes + avg comments) / followers, a fraction (0.045 = 4.5 %)."
    )
    audience: AudienceDemographics
    source: MetricsSource
    as_of: date = Field(description="The date the figures were true.")
    updated_at: datetime

    # A plain field set from `as_of` (not a computed field), so the schema is one and the
    # same where the object is an answer and where it is a webhook payload.
    stale: bool = Field(
        default=False,
        description="The figures are older than the configured age (FIGURES_STALE_AFTER_DAYS).",
    )

    @model_validator(mode="after")
    def _flag_stale(self) -> Self:
        self.stale = figures_stale(self.as_of)
        return self


class CreatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: Name | None = None
    handle: Handle | None = None
    bio: LongText | None = None
    country: CountryCode | None = None
    languages: list[LanguageCode] | None = Field(default=None, max_length=10)
    niches: list[Niche] | None = Field(default=None, max_length=5)
    content_styles: list[Tag] | None = Field(default=None, max_length=20)
    rate_card_currency: CurrencyCode | None = None
    rate_card: list[RateCardEntry] | None = Field(default=None, max_length=50)
    accepts_gifting: bool | None = None

    _not_null = field_validator(
        "display_name", "languages", "niches", "content_styles", "rate_card", "accepts_gifting"
    )(reject_explicit_null)

    @model_validator(mode="after")
    def _unique_rate_card(self) -> CreatorUpdate:
        if self.rate_card:
            keys = [(e.platform, e.format) for e in self.rate_card]
            if len(keys) != len(set(keys)):
                raise ValueError("rate_card has two fees for the same platform and format")
        return self


class CreatorPublic(BaseModel):
    """What anyone signed in may see of a creator."""

    id: uuid.UUID
    display_name: str
    handle: str | None
    bio: str | None
    country: str | None
    languages: list[str]
    niches: list[Niche]
    content_styles: list[str]
    accepts_gifting: bool
    accounts: list[SocialAccountRead]
    created_at: datetime


class CreatorRead(CreatorPublic):
    """The creator's own view: adds the rate card and whether an address is on file."""

    rate_card_currency: str | None
    rate_card: list[RateCardEntry]
    has_shipping_address: bool
    updated_at: datetime


class ShippingAddressWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient_name: Name
    line1: ShortText
    line2: ShortText | None = None
    city: Name
    region: Name | None = None
    postal_code: Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9 \-]+$")]
    country: CountryCode
    phone: Annotated[str, Field(max_length=40, pattern=r"^\+?[0-9 ()\-]{4,40}$")] | None = None


class ShippingAddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    recipient_name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    phone: str | None
    updated_at: datetime
