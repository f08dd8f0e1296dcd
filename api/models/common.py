"""Vocabulary and constrained types shared by several resources."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
)

from api.urls import check_public_url

# --- the stable enumerations (README: Concepts) ----------------------------------------------


class Platform(StrEnum):
    instagram = "instagram"
    tiktok = "tiktok"
    youtube = "youtube"
    facebook = "facebook"
    x = "x"
    twitch = "twitch"
    pinterest = "pinterest"
    snapchat = "snapchat"
    linkedin = "linkedin"
    blog = "blog"


class Tier(StrEnum):
    nano = "nano"
    micro = "micro"
    macro = "macro"
    mega = "mega"


class Niche(StrEnum):
    beauty = "beauty"
    fashion = "fashion"
    fitness = "fitness"
    food = "food"
    travel = "travel"
    tech = "tech"
    gaming = "gaming"
    parenting = "parenting"
    finance = "finance"
    home = "home"
    pets = "pets"
    health = "health"
    sports = "sports"
    music = "music"
    art = "art"
    education = "education"
    lifestyle = "lifestyle"
    automotive = "automotive"
    business = "business"
    entertainment = "entertainment"


class DeliverableFormat(StrEnum):
    post = "post"
    carousel = "carousel"
    story = "story"
    reel = "reel"
    short_video = "short_video"
    long_video = "long_video"
    live = "live"
    blog_post = "blog_post"
    ugc_video = "ugc_video"
    ugc_photo = "ugc_photo"


# --- constrained scalars --------------------------------------------------------------------

_NUL = "\x00"


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; reject it here as a clear 422 rather than a DB error.
    if _NUL in value:
        raise ValueError("must not contain NUL characters")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    AfterValidator(_no_nul),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
]
LongText = Annotated[str, StringConstraints(max_length=5_000), AfterValidator(_no_nul)]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40),
    AfterValidator(_no_nul),
]
# The form of a link as the OpenAPI document states it: a DNS host name with an alphabetic
# top-level label (so never an IPv4 number, never a single label), at most 3 + 1 labels (the
# name stays under 253 characters), an optional port, then printable ASCII without `\\`.
# `check_public_url` is the rule and takes more (public IP literals, IDN host names, longer
# names): every link of this form passes it, bar a name under .local, .internal and friends.
_DNS_HOST = r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,24}(:[0-9]{1,4})?"


def link_pattern(schemes: str, *, fragment: bool = True) -> str:
    """The documented pattern of a link with these schemes (a regex alternative), with or
    without a `#fragment`."""
    if fragment:
        return rf"^({schemes})://{_DNS_HOST}([/?#][!-\[\]-~]*)?$"
    return rf"^({schemes})://{_DNS_HOST}([/?][!$-\[\]-~]*)?$"


# Every stored link: a public http(s) URL (see `api.urls.check_public_url`).
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2_000, pattern=r"^https?://[^\s\x00]+$"),
    AfterValidator(check_public_url),
    Field(json_schema_extra={"pattern": link_pattern("https?")}),
]
Handle = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=60, pattern=r"^@?[A-Za-z0-9_.\-]+$"
    ),
]
# pydantic checks `pattern` before changing the case, so the patterns take either case and
# the value is then normalised ("gb" is stored as "GB").
CountryCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")
]
CurrencyCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")
]
LanguageCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z]{2,3}$")
]


# --- numbers ----------------------------------------------------------------------------------
# Every number of a request body is one of these: a JSON number of the right kind, never
# `true` (which pydantic's lax mode reads as 1), never a string ("5") and, for integers,
# never a float (5.0). A float field still takes an integer (3 means 3.0).
StrictInt = Annotated[int, Strict()]
StrictFloat = Annotated[float, Strict(), Field(allow_inf_nan=False)]
# Booleans likewise: JSON `true`/`false` only, never 0/1 or "yes" (lax mode reads those).
StrictBool = Annotated[bool, Strict()]

# Query parameters arrive as text: numbers there are plain decimal ("5", "-5", "0.25"), not
# what Python's int() and float() also take (" 5", "+5", "5_0", "1e3", "inf").
_QUERY_INT = re.compile(r"-?[0-9]{1,40}")
_QUERY_FLOAT = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?")


def _plain_decimal(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: object) -> object:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"must be {what} in plain decimal digits")
        return value

    return BeforeValidator(check)


# Last in a query type's metadata, after its bounds (so the bounds stay in the JSON schema).
PLAIN_INTEGER = _plain_decimal(_QUERY_INT, "an integer")
PLAIN_NUMBER = _plain_decimal(_QUERY_FLOAT, "a number")

# PostgreSQL bigint bounds: larger numbers are rejected as 422, never sent to the database.
_COUNT = Field(ge=0, le=9_000_000_000_000_000)
_MONEY = Field(ge=0, le=1_000_000_000_000)
Count = Annotated[StrictInt, _COUNT]
MoneyMinor = Annotated[StrictInt, _MONEY]
Percent = Annotated[StrictFloat, Field(ge=0, le=100)]
QueryCount = Annotated[int, _COUNT, PLAIN_INTEGER]
QueryMoneyMinor = Annotated[int, _MONEY, PLAIN_INTEGER]
QueryPageSize = Annotated[int, Field(ge=1), PLAIN_INTEGER]
QueryFraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), PLAIN_NUMBER]
QueryPercent = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False), PLAIN_NUMBER]

# --- dates and times ----------------------------------------------------------------------
# Every date and time a request carries, in a body or a query: ISO 8601 text only (no Unix
# timestamps such as 0 or "0.5", which pydantic would otherwise read), times with their
# offset, and years 2000-2100, so that no arithmetic on them (to UTC, plus some days) can
# leave the calendar.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?"
)


def _iso_date(value: object) -> object:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("must be an ISO 8601 date: YYYY-MM-DD")


def _iso_datetime(value: object) -> object:
    if isinstance(value, str) and _ISO_DATETIME.fullmatch(value):
        return value
    if isinstance(value, datetime):
        return value
    raise ValueError("must be an ISO 8601 date and time with its offset: YYYY-MM-DDThh:mm:ssZ")


def _within_years(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
    return value


ApiDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_within_years)]
ApiDatetime = Annotated[
    AwareDatetime, BeforeValidator(_iso_datetime), AfterValidator(_within_years)
]

EMAIL_PATTERN = re.compile(r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,255}\.[^@\s\x00]{2,63}$")


def reject_explicit_null(value: object) -> object:
    """For PATCH fields that may be omitted but never cleared."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


def sent_values(data: BaseModel, **dump: Any) -> dict[str, Any]:
    """The fields an update sent, each dumped whole.

    `model_dump(exclude_unset=True)` also drops the unsent fields of nested objects, so a
    nested object sent in a PATCH would be stored without its documented defaults. Only the
    top level is filtered here; a create dumps everything (`model_dump()`).
    """
    return data.model_dump(include=set(data.model_fields_set), **dump)


def figures_stale(as_of: date) -> bool:
    """Figures true on `as_of` are stale once older than FIGURES_STALE_AFTER_DAYS: one rule
    for account figures and metrics readings."""
    from api.settings import get_settings  # settings import models' types

    age = datetime.now(UTC).date() - as_of
    return age > timedelta(days=get_settings().figures_stale_after_days)
