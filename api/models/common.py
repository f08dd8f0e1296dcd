"""Vocabulary and constrained types shared by several resources."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

# --- enumerations of SPEC section 1 -------------------------------------------------------


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
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2_000, pattern=r"^https?://[^\s\x00]+$"),
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


def _not_a_boolean(value: object) -> object:
    # pydantic's lax mode reads true/false as 1/0; for a count or an amount that is a
    # client's mistake, not a number.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


# PostgreSQL bigint bounds: larger numbers are rejected as 422, never sent to the database.
Count = Annotated[int, Field(ge=0, le=9_000_000_000_000_000), BeforeValidator(_not_a_boolean)]
MoneyMinor = Annotated[int, Field(ge=0, le=1_000_000_000_000), BeforeValidator(_not_a_boolean)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]

EMAIL_PATTERN = re.compile(r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,255}\.[^@\s\x00]{2,63}$")


def reject_explicit_null(value: object) -> object:
    """For PATCH fields that may be omitted but never cleared."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


def figures_stale(as_of: date) -> bool:
    """Figures true on `as_of` are stale once older than FIGURES_STALE_AFTER_DAYS: one rule
    for account figures and metrics readings."""
    from api.settings import get_settings  # settings import models' types

    age = datetime.now(UTC).date() - as_of
    return age > timedelta(days=get_settings().figures_stale_after_days)
