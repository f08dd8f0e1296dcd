"""A brief's hard requirements, each written once: whether an account meets it (on values
or on vectors, as the model reads features) and what the creator is told when it does not.

The indexes rank only accounts meeting all of them (`eligible`); applying checks them on
the creator's offered accounts and answers 422 `ineligible` listing each unmet one, with
what was required and what the creator has (`unmet_requirements`).

- `platform`: the account is on one of the brief's platforms (any, if it names none).
- `followers`: within the brief's explicit follower bounds, else in one of its tiers.
- `engagement_rate`: at least the brief's minimum (0 when it sets none).
- `country`: the creator lives in one of the brief's creator countries (if it names any).
- `accepts_gifting`: a gifted brief needs a creator who accepts gifting.

An account requirement is met when one offered account on a brief platform meets them all:
its size, then its engagement (a big account with little engagement and a small one with
much do not add up to what the brand asked).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from api.errors import FieldError
from api.matching.expressions import (
    Side,
    and_,
    bit_set,
    bits_of,
    eq,
    ge,
    in_set,
    is_column,
    is_empty,
    is_null,
    le,
    not_,
    not_null,
    or_,
    when,
)
from api.models.account_figures import tier_for
from api.models.matching import TIER_BITS, country_of, platform_of
from api.settings import Settings, TierBand

# --- tiers and platforms ----------------------------------------------------------------------


def platform_codes(mask: int) -> list[int]:
    return [bit.bit_length() for bit in bits_of(mask)]


def bands(settings: Settings) -> list[TierBand]:
    return sorted(settings.tiers, key=lambda b: b.min_followers)


def tier_ranges(tier_mask: int, settings: Settings) -> list[tuple[int, int | None]]:
    """The follower ranges of the tiers in `tier_mask`, adjacent ones merged."""
    ranges: list[tuple[int, int | None]] = []
    for band_ in bands(settings):
        if not tier_mask & TIER_BITS.get(band_.name, 0):
            continue
        if ranges and ranges[-1][1] is not None and ranges[-1][1] + 1 == band_.min_followers:
            ranges[-1] = (ranges[-1][0], band_.max_followers)
        else:
            ranges.append((band_.min_followers, band_.max_followers))
    return ranges


def tier_bit(followers: int, settings: Settings) -> int:
    tier = tier_for(followers, settings.tiers)
    return TIER_BITS.get(tier, 0) if tier is not None else 0


def _in_wanted_tier(tier_mask: Any, followers: Any, settings: Settings) -> Any:
    if not is_column(followers):
        return bit_set(tier_mask, tier_bit(followers, settings))
    if is_column(tier_mask):
        raise ValueError("tiers need the brief or the account as values")
    return or_(
        *[
            and_(ge(followers, low), True if high is None else le(followers, high))
            for low, high in tier_ranges(tier_mask, settings)
        ]
    )


def _has_bounds(b: Side) -> Any:
    return or_(not_null(b.size_min), not_null(b.size_max))


# --- each requirement: whether it is met, and what the creator is told -------------------------


def _platform_met(b: Side, a: Side, settings: Settings) -> Any:
    if not is_column(b.platform_mask):
        codes = platform_codes(b.platform_mask)
        return in_set(a.platform, codes) if codes else True
    return or_(eq(b.platform_mask, 0), bit_set(b.platform_mask, 1 << (a.platform - 1)))


def _platform_unmet(b: Side, offered: Sequence[Side], settings: Settings) -> str:
    wanted = sorted(platform_of(c) for c in platform_codes(b.platform_mask))
    have = sorted({platform_of(a.platform) for a in offered})
    return f"required an account on one of {wanted}; offered {have}"


def _followers_met(b: Side, a: Side, settings: Settings) -> Any:
    # Explicit follower bounds rule over tiers, as the SPEC says.
    return when(
        _has_bounds(b),
        lambda: and_(
            or_(is_null(b.size_min), ge(a.followers, b.size_min)),
            or_(is_null(b.size_max), le(a.followers, b.size_max)),
        ),
        lambda: or_(eq(b.tier_mask, 0), _in_wanted_tier(b.tier_mask, a.followers, settings)),
    )


def follower_ranges(b: Side, settings: Settings) -> list[tuple[int, int | None]]:
    """The follower ranges of the accounts meeting `followers` (brief as values): its
    explicit bounds, else its tiers' ranges; none when it has no size wishes. The creator
    index reads only these slices."""
    if b.size_min is not None or b.size_max is not None:
        return [(int(b.size_min or 0), None if b.size_max is None else int(b.size_max))]
    return tier_ranges(int(b.tier_mask), settings) if b.tier_mask else []


def _followers_unmet(b: Side, offered: Sequence[Side], settings: Settings) -> str:
    if _has_bounds(b):
        wanted = f"{b.size_min or 0}-{b.size_max or 'any'} followers"
    else:
        tiers = sorted(t for t, bit in TIER_BITS.items() if b.tier_mask & bit)
        wanted = "tier " + " or ".join(tiers)
    have = ", ".join(
        f"{platform_of(a.platform)} {a.followers:,} "
        f"({tier_for(a.followers, settings.tiers) or 'no tier'})"
        for a in offered
    )
    return f"required {wanted}; you have {have}"


def _engagement_met(b: Side, a: Side, settings: Settings) -> Any:
    return ge(a.er, b.min_er)  # 0 when the brief sets no minimum


def _engagement_unmet(b: Side, offered: Sequence[Side], settings: Settings) -> str:
    rates = {platform_of(a.platform): a.er for a in offered}
    return f"required at least {b.min_er:.2%}; you have " + ", ".join(
        f"{platform} {rate:.2%}" for platform, rate in rates.items()
    )


def _country_met(b: Side, a: Side, settings: Settings) -> Any:
    return or_(is_empty(b.creator_countries), in_set(a.country, b.creator_countries))


def _country_unmet(b: Side, creator: Sequence[Side], settings: Settings) -> str:
    wanted = sorted(country_of(c) for c in b.creator_countries)
    have = country_of(creator[0].country) if creator[0].country is not None else "nothing"
    return f"required a creator living in {wanted}; your profile says {have}"


def _gifting_met(b: Side, a: Side, settings: Settings) -> Any:
    return or_(not_(b.requires_gifting), a.accepts_gifting)


def _gifting_unmet(b: Side, creator: Sequence[Side], settings: Settings) -> str:
    return "this brief pays in product; your profile declines gifting"


@dataclass(frozen=True)
class Requirement:
    """One hard requirement: `met` on a brief and an account (values or vectors), and
    `unmet`, the message for the accounts (or the creator) that miss it.

    `of`: what applying judges it on, the offered accounts ("account": met when one of
    them meets it and the account requirements before it) or the creator's profile
    ("creator"). `gates`: when no offered account meets it, the account requirements
    after it are not judged (they would be judged on accounts the brief does not take)."""

    name: str
    met: Callable[[Side, Side, Settings], Any]
    unmet: Callable[[Side, Sequence[Side], Settings], str]
    of: Literal["account", "creator"] = "account"
    gates: bool = False


PLATFORM = Requirement("platform", _platform_met, _platform_unmet, gates=True)
FOLLOWERS = Requirement("followers", _followers_met, _followers_unmet)
ENGAGEMENT = Requirement("engagement_rate", _engagement_met, _engagement_unmet)
COUNTRY = Requirement("country", _country_met, _country_unmet, of="creator")
GIFTING = Requirement("accepts_gifting", _gifting_met, _gifting_unmet, of="creator")
REQUIREMENTS = (PLATFORM, FOLLOWERS, ENGAGEMENT, COUNTRY, GIFTING)


def eligible(b: Side, a: Side, settings: Settings) -> Any:
    """Whether account `a` meets every hard requirement of brief `b`."""
    return and_(*(r.met(b, a, settings) for r in REQUIREMENTS))


def unmet_requirements(
    b: Side, offered: Sequence[Side], creator: Side, settings: Settings
) -> list[FieldError]:
    """Every hard requirement of brief `b` the creator misses with the `offered` accounts'
    features (`creator`: their country and `accepts_gifting`), each saying what is
    required and what they have.

    The account requirements are judged in order, each on the accounts meeting those
    before it (or, when none does, on the accounts judged before): the engagement must
    come from an account of the wanted size."""
    problems: list[FieldError] = []
    pool, gated = list(offered), False
    for requirement in REQUIREMENTS:
        if requirement.of == "creator":
            judged = [creator]
        elif gated:
            continue
        else:
            judged = pool
        meeting = [a for a in judged if requirement.met(b, a, settings)]
        if not meeting:
            problems.append(
                FieldError(
                    loc=["requirement", requirement.name],
                    msg=requirement.unmet(b, judged, settings),
                    type="ineligible",
                )
            )
            gated = gated or requirement.gates
        elif requirement.of == "account":
            pool = meeting
    return problems
