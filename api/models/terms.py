"""Terms documents: what a brief offers and a deal agrees on.

Deliverables, products, disclosure and usage rights are shared by briefs (the offer) and
deals (each terms version), so they live here rather than in either resource's module.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.models.common import (
    ApiDate,
    Count,
    CountryCode,
    DeliverableFormat,
    MoneyMinor,
    Platform,
    ShortText,
    StrictInt,
    Tag,
    Url,
    _no_nul,
)

T = TypeVar("T")

MAX_DELIVERABLES = 20


class UsageChannel(StrEnum):
    organic_social = "organic_social"
    paid_social = "paid_social"
    website = "website"
    email = "email"
    ecommerce = "ecommerce"
    print = "print"
    ooh = "ooh"
    broadcast = "broadcast"


class AdPermission(StrEnum):
    none = "none"
    partnership_ads = "partnership_ads"
    allowlisting = "allowlisting"
    spark_code = "spark_code"


def dedupe(values: list[T]) -> list[T]:
    """Set-like lists: keep the first of each value, in the order given."""
    return list(dict.fromkeys(values))


Hashtag = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^#\w{1,49}$"), AfterValidator(_no_nul)
]
Mention = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^@[A-Za-z0-9_.\-]{1,59}$")
]
Countries = Annotated[list[CountryCode], Field(max_length=60), AfterValidator(dedupe)]


class UsageRights(BaseModel):
    """What the brand may do with the creator's content, where and for how long.

    The term runs from the content's publication. A perpetual grant is never a default: it
    must be asked for with `perpetual: true` (and then carries no `duration_days`).
    """

    # The two either-or rules of the validators below, as JSON Schema can say them.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [
                {
                    "oneOf": [
                        {
                            "properties": {
                                "perpetual": {"const": True},
                                "duration_days": {"type": "null"},
                            },
                            "required": ["perpetual"],
                        },
                        {
                            "properties": {
                                "perpetual": {"const": False},
                                "duration_days": {"type": "integer"},
                            },
                            "required": ["duration_days"],
                        },
                    ]
                },
                {
                    "oneOf": [
                        {
                            "properties": {
                                "worldwide": {"const": True},
                                "countries": {"maxItems": 0},
                            }
                        },
                        {
                            "properties": {
                                "worldwide": {"const": False},
                                "countries": {"minItems": 1},
                            },
                            "required": ["worldwide", "countries"],
                        },
                    ]
                },
            ]
        },
    )
    channels: Annotated[
        list[UsageChannel],
        Field(min_length=1, max_length=len(UsageChannel)),
        AfterValidator(dedupe),
    ] = Field(examples=[["organic_social", "website", "email"]])
    perpetual: bool = False
    duration_days: StrictInt | None = Field(default=None, ge=1, le=3650, validate_default=True)
    worldwide: bool = True
    countries: Countries = Field(
        default_factory=list, validate_default=True, description="When not worldwide."
    )
    exclusivity_days: StrictInt = Field(default=0, ge=0, le=3650)
    exclusivity_categories: Annotated[list[Tag], Field(max_length=10), AfterValidator(dedupe)] = (
        Field(
            default_factory=list,
            validate_default=True,
            description="Competitor categories the creator may not promote while exclusive.",
            examples=[["skincare"]],
        )
    )
    ad_permission: AdPermission = AdPermission.none
    ad_start_date: ApiDate | None = None
    ad_end_date: ApiDate | None = None
    impressions_cap: Count | None = None
    raw_footage_included: bool = False
    edits_allowed: bool = False
    credit_required: bool = True
    portfolio_reuse_allowed: bool = True
    ai_likeness_reuse_prohibited: bool = True
    licensing_fee_minor: MoneyMinor | None = Field(
        default=None, description="In the currency of the brief or deal."
    )

    @field_validator("duration_days")
    @classmethod
    def _duration_or_perpetual(cls, value: int | None, info: ValidationInfo) -> int | None:
        perpetual = info.data.get("perpetual", False)
        if perpetual and value is not None:
            raise ValueError("a perpetual grant has no duration_days")
        if not perpetual and value is None:
            raise ValueError("required unless perpetual is true")
        return value

    @field_validator("countries")
    @classmethod
    def _territory(cls, value: list[str], info: ValidationInfo) -> list[str]:
        worldwide = info.data.get("worldwide", True)
        if worldwide and value:
            raise ValueError("leave countries empty for a worldwide grant")
        if not worldwide and not value:
            raise ValueError("name the countries of a grant that is not worldwide")
        return value

    @field_validator("exclusivity_categories")
    @classmethod
    def _exclusivity(cls, value: list[str], info: ValidationInfo) -> list[str]:
        days = info.data.get("exclusivity_days", 0)
        if days and not value:
            raise ValueError("name the competitor categories of the exclusivity")
        if value and not days:
            raise ValueError("set exclusivity_days for these categories")
        return value

    @field_validator("ad_permission")
    @classmethod
    def _ads_need_paid_social(cls, value: AdPermission, info: ValidationInfo) -> AdPermission:
        channels = info.data.get("channels")
        if (
            value != AdPermission.none
            and channels is not None
            and UsageChannel.paid_social not in channels
        ):
            raise ValueError("ad permission needs the paid_social channel")
        return value

    @field_validator("ad_start_date", "ad_end_date")
    @classmethod
    def _ad_dates(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            return value
        if info.data.get("ad_permission", AdPermission.none) == AdPermission.none:
            raise ValueError("ad dates need an ad_permission other than none")
        start = info.data.get("ad_start_date")
        if info.field_name == "ad_end_date" and start is not None and value < start:
            raise ValueError("must not be before ad_start_date")
        return value


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText = Field(examples=["Hydra Glow Serum 30 ml"])
    url: Url | None = Field(default=None, examples=["https://glowlabs.example/serum"])
    retail_value_minor: MoneyMinor | None = Field(
        default=None, description="In the brief's currency.", examples=[3_900]
    )


class Disclosure(BaseModel):
    """What every post must carry: hashtags, mentions, the platform's paid-partnership label."""

    model_config = ConfigDict(extra="forbid")
    hashtags: Annotated[list[Hashtag], Field(max_length=10), AfterValidator(dedupe)] = Field(
        default_factory=list, examples=[["#ad"]]
    )
    mentions: Annotated[list[Mention], Field(max_length=10), AfterValidator(dedupe)] = Field(
        default_factory=list, examples=[["@glowlabs"]]
    )
    paid_partnership_label: bool = False


class DeliverableOption(BaseModel):
    """A platform and format a deliverable may be delivered as."""

    model_config = ConfigDict(extra="forbid")
    platform: Platform
    format: DeliverableFormat


MAX_ALTERNATIVES = 4


class DeliverableSpec(BaseModel):
    """One kind of content the brief asks for, e.g. 2 Instagram reels; with `alternatives`,
    one of several ("1 post on Instagram or TikTok"): the creator delivers one option."""

    model_config = ConfigDict(extra="forbid")
    platform: Platform
    format: DeliverableFormat
    quantity: StrictInt = Field(default=1, ge=1, le=50)
    alternatives: list[DeliverableOption] = Field(
        default_factory=list,
        max_length=MAX_ALTERNATIVES,
        description="Other platforms/formats the creator may deliver instead: the creator "
        "chooses one option when applying (or the brand when accepting); the deal owes that "
        "one only.",
        examples=[[{"platform": "tiktok", "format": "short_video"}]],
    )

    def options(self) -> list[tuple[str, str]]:
        """Every way to deliver it, the first (`platform`, `format`) first."""
        return [(self.platform.value, self.format.value)] + [
            (a.platform.value, a.format.value) for a in self.alternatives
        ]


def _distinct_deliverables(items: list[DeliverableSpec]) -> list[DeliverableSpec]:
    keys = [key for d in items for key in d.options()]
    if len(keys) != len(set(keys)):
        raise ValueError(
            "list each platform and format once (in one deliverable or its alternatives); "
            "use quantity for more"
        )
    return items


Deliverables = Annotated[
    list[DeliverableSpec],
    Field(max_length=MAX_DELIVERABLES),
    AfterValidator(_distinct_deliverables),
]
