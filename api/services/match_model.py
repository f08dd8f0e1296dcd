"""The match model: how well one social account of a creator fits a brief.

One definition serves every use. Each side (the brief, the account) is either a row of
features loaded as values, the columns of a match table, or a batch of rows as numpy
vectors; see `api.services.match_expr`. Both as values: numbers (apply time,
explanations, tests). The account as columns: the SQL that filters and ranks a whole
table by exactly the same formula (creators for a brief). The briefs as vectors: every
open brief scored at once in memory (briefs for a creator, `api.services.match_index`).

Hard requirements (`eligible`), as at apply time: the account is on one of the brief's
platforms; its followers are within the brief's explicit bounds, else in one of its tiers;
its engagement rate is at least the brief's minimum; the creator lives in one of the
brief's creator countries; a gifted brief needs a creator who accepts gifting.

The score is the weighted mean (weights: `settings.match_weights`) of eight parts, each in
[0, 1]. A part the brief does not ask about is 0.5 (neutral) for everybody, as is an
unknown price or a creator without deal history.

- `tier_fit`: 1 when the brief names tiers (eligible accounts are in one). Within explicit
  follower bounds, 1 at the middle of the range on a log scale falling linearly to 0.5 at
  either bound (a one-sided bound stands for a tenfold range). 0.5 without size wishes.
- `niche_overlap`: niches shared / the shorter of the two niche lists (a specialist in one
  of three wanted niches fits fully); 0 for a creator without niches.
- `audience_country`: the share of the audience in the brief's target countries, from the
  account's six largest audience countries (unreported shares count as elsewhere).
- `audience_gender`: the share of the audience of the target gender(s).
- `audience_age`: the share of the audience in the target age range (each age bucket
  counted by the fraction of its years inside the range, in permille; 65+ spans 65-100).
- `engagement`: the engagement rate against the norm (settings.engagement_norms) for the
  account's platform and tier: 0 at 0, 0.5 at the norm's low end, 1 at its high end and
  above, linear in between. Below the smallest tier the smallest tier's norm applies.
- `price_fit`: the creator's rate card for the brief's deliverables on this account's
  platform against the budget's pro-rata share for them (the budget is the top of the fee
  range; for gifted briefs, and hybrid ones without a fee, the product's retail value):
  1 within budget, budget / quote above it; 0.5 when unknown (no rate card entry for a
  deliverable, another currency, no budget, as for affiliate briefs). At apply time the
  proposed fee stands in for the rate card, against the whole budget.
- `reliability`: the creator's track record as one Laplace-smoothed success rate over every
  piece of evidence: each completed deal is a success, each published deliverable a
  success when on time and a failure when late (`deal_deliverables.late`):
  (completed + on_time + 1) / (completed + on_time + late + 2). 0.5 with no history, 0.67
  after one completed deal, 0.75 with one on-time post besides; a late post instead takes
  it back to 0.5. Always in (0, 1); a completed deal or an on-time post raises it, a late
  post lowers it. Counted over all the creator's deals (the match tables keep the three
  counts, migration 0007).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from api.models.matching import (
    AGE_BUCKETS,
    AUDIENCE_SLOTS,
    COUNTRY_CODES,
    FORMATS,
    PLATFORM_CODES,
    TIER_BITS,
    country_bit,
    platform_of,
)
from api.services.creators import tier_for
from api.services.match_expr import (
    Sql,
    absolute,
    add,
    and_,
    band,
    bit_set,
    bits_of,
    cases,
    clamp01,
    div,
    eq,
    ge,
    greatest,
    gt,
    in_codes,
    in_set,
    is_column,
    is_empty,
    is_null,
    is_sql,
    is_vector,
    item,
    le,
    least,
    ln,
    lt,
    mul,
    not_,
    not_null,
    or_,
    pick,
    popcount_and,
    shr,
    sub,
    total,
    when,
)
from api.settings import EngagementNorm, MatchWeights, Settings, TierBand

PARTS = (
    "tier_fit",
    "niche_overlap",
    "audience_country",
    "audience_gender",
    "audience_age",
    "engagement",
    "price_fit",
    "reliability",
)
NEUTRAL = 0.5
# Pruning compares scores with upper bounds: float sums of the weights may exceed an exact
# bound by an ulp, so a score counts as above a bound only past this margin.
BOUND_SLACK = 1e-9


class Side:
    """The features of a brief or an account: loaded values (numbers, or vectors: one
    entry per row of a batch), or a table alias's columns."""

    def __init__(self, values: Mapping[str, Any] | None = None, *, alias: str | None = None):
        if (values is None) == (alias is None):
            raise ValueError("a side is either values or an alias")
        self._values = values
        self._alias = alias
        if values is not None:
            # Plain attributes: scoring a page reads them a few hundred times, and a
            # `__getattr__` call for each was a fifth of the time.
            self.__dict__.update((k, v) for k, v in values.items() if not k.startswith("_"))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._values is not None:
            return self._values[name]
        return Sql(f"{self._alias}.{name}")


# --- hard requirements ------------------------------------------------------------------------


def platform_codes(mask: int) -> list[int]:
    return [bit.bit_length() for bit in bits_of(mask)]


def _bands(settings: Settings) -> list[TierBand]:
    return sorted(settings.tiers, key=lambda b: b.min_followers)


def tier_ranges(tier_mask: int, settings: Settings) -> list[tuple[int, int | None]]:
    """The follower ranges of the tiers in `tier_mask`, adjacent ones merged."""
    ranges: list[tuple[int, int | None]] = []
    for band_ in _bands(settings):
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


def _none(codes: Any, mask: Any) -> Any:
    """Whether a country list is empty (its mask says so without reading the array)."""
    return is_empty(codes) if not is_column(codes) else eq(mask, 0)


def _member(code: Any, codes: Any, mask: Any) -> Any:
    """Whether `code` is in a country list; against a column, the list's mask is tested
    first so that the array is read only for the few codes sharing a bit with it."""
    if is_column(codes) and not is_column(code):
        if code is None:
            return None
        return and_(bit_set(mask, country_bit(code)), in_set(code, codes))
    return in_set(code, codes)


def eligible(b: Side, a: Side, settings: Settings) -> Any:
    """Whether account `a` meets every hard requirement of brief `b`."""
    if not is_column(b.platform_mask):
        codes = platform_codes(b.platform_mask)
        platform_ok = in_set(a.platform, codes) if codes else True
    else:
        platform_ok = or_(eq(b.platform_mask, 0), bit_set(b.platform_mask, 1 << (a.platform - 1)))
    has_bounds = or_(not_null(b.size_min), not_null(b.size_max))
    size_ok = when(
        has_bounds,
        lambda: and_(
            or_(is_null(b.size_min), ge(a.followers, b.size_min)),
            or_(is_null(b.size_max), le(a.followers, b.size_max)),
        ),
        lambda: or_(eq(b.tier_mask, 0), _in_wanted_tier(b.tier_mask, a.followers, settings)),
    )
    return and_(
        platform_ok,
        size_ok,
        ge(a.er, b.min_er),  # 0 when the brief sets no minimum
        or_(
            _none(b.creator_countries, b.creator_mask),
            _member(a.country, b.creator_countries, b.creator_mask),
        ),
        or_(not_(b.requires_gifting), a.accepts_gifting),
    )


# --- the parts ----------------------------------------------------------------------------------


def tier_fit(b: Side, a: Side) -> Any:
    def within_bounds() -> Any:
        low = greatest(when(not_null(b.size_min), b.size_min, lambda: mul(b.size_max, 0.1)), 1.0)
        high = greatest(when(not_null(b.size_max), b.size_max, lambda: mul(b.size_min, 10.0)), 1.0)
        span = sub(ln(high), ln(low))

        def placed() -> Any:
            t = clamp01(div(sub(ln(greatest(a.followers, 1)), ln(low)), span))
            return sub(1.0, mul(0.5, absolute(sub(mul(2.0, t), 1.0))))

        return when(gt(span, 0.0), placed, 1.0)

    has_bounds = or_(not_null(b.size_min), not_null(b.size_max))
    return when(has_bounds, within_bounds, lambda: when(gt(b.tier_mask, 0), 1.0, NEUTRAL))


def niche_overlap(b: Side, a: Side) -> Any:
    return when(
        eq(b.niche_count, 0),
        NEUTRAL,
        lambda: when(
            eq(a.niche_count, 0),
            0.0,
            lambda: div(
                popcount_and(b.niche_mask, a.niche_mask), least(b.niche_count, a.niche_count)
            ),
        ),
    )


def audience_country(b: Side, a: Side) -> Any:
    def share() -> Any:
        targets = b.target_countries
        if is_vector(a.followers) and not is_column(targets):
            # Accounts as vectors hold each slot decoded (`aud_country_i`, `aud_share_i`):
            # the share times whether the country is targeted.
            terms = [
                mul(
                    getattr(a, f"aud_share_{i}"),
                    in_codes(getattr(a, f"aud_country_{i}"), targets, COUNTRY_CODES),
                )
                for i in range(1, AUDIENCE_SLOTS + 1)
            ]
            return div(total(terms), 1000)
        slots = [getattr(a, f"aud_{i}") for i in range(1, AUDIENCE_SLOTS + 1)]
        if is_sql(a.aud_1) and not is_column(targets) and len(targets) <= 3:
            # Few targets against columns: one CASE per target finds its slot (a country
            # holds at most one), fewer steps than testing every slot against the list.
            found = [
                band(cases([(eq(shr(slot, 10), code), slot) for slot in slots], 0), 1023)
                for code in targets
            ]
            return div(total(found), 1000)
        terms = [
            when(_member(shr(slot, 10), targets, b.target_mask), band(slot, 1023), 0)
            for slot in slots
            if slot is not None
        ]
        return div(total(terms), 1000)

    return when(_none(b.target_countries, b.target_mask), NEUTRAL, share)


GENDER_SHIFTS = ((1, 0), (2, 10), (4, 20))


def audience_gender(b: Side, a: Side) -> Any:
    def share() -> Any:
        terms = [
            when(bit_set(b.gender_mask, bit), band(shr(a.genders, shift), 1023), 0)
            for bit, shift in GENDER_SHIFTS
        ]
        return div(total(terms), 1000)

    return when(eq(b.gender_mask, 0), NEUTRAL, share)


def audience_age(b: Side, a: Side) -> Any:
    def share() -> Any:
        terms = []
        for i in range(1, len(AGE_BUCKETS) + 1):
            weight, part = getattr(b, f"age_w{i}"), getattr(a, f"age_{i}")
            if (not is_column(weight) and weight == 0) or (not is_column(part) and part == 0):
                continue
            terms.append(mul(part, weight))
        return div(total(terms), 1_000_000)  # permille of the audience x permille of a bucket

    return when(b.has_age, share, NEUTRAL)


def _slopes(norm: EngagementNorm) -> tuple[float, float, float, float]:
    """A norm's low and high ends, and the curve's slope above and below the low end."""
    up = 0.5 / (norm.high - norm.low) if norm.high > norm.low else 0.0
    down = 0.5 / norm.low if norm.low > 0 else 0.0
    return norm.low, norm.high, up, down


def _curve(er: Any, low: Any, high: Any, up: Any, down: Any) -> Any:
    """0 at 0, 0.5 at the norm's low end, 1 at its high end, linear in between."""
    return when(
        ge(er, high),
        1.0,
        lambda: when(ge(er, low), lambda: add(0.5, mul(sub(er, low), up)), mul(er, down)),
    )


def _norms(platform: str, settings: Settings) -> dict[str, EngagementNorm]:
    norms = settings.engagement_norms
    return norms.get(platform) or norms.get("default") or {}


def _band_norm(norms: dict[str, EngagementNorm], band_: TierBand) -> EngagementNorm:
    return norms.get(band_.name) or EngagementNorm(low=0.0, high=0.0)


def _bands_for(b: Side, bands: list[TierBand], settings: Settings) -> list[TierBand]:
    """The bands an eligible account of brief `b` can be in (all of them unless `b` is
    values), so the SQL skips branches no candidate takes. The smallest band stays when
    the brief admits accounts below it, whose norm it is."""
    if is_column(b.tier_mask) or is_column(b.size_min) or is_column(b.size_max):
        return bands
    if b.size_min is not None or b.size_max is not None:
        low, high = b.size_min or 0, b.size_max
        kept = [
            band_
            for band_ in bands
            if (high is None or band_.min_followers <= high)
            and (band_.max_followers is None or band_.max_followers >= low)
        ]
        if low < bands[0].min_followers and bands[0] not in kept:
            kept.insert(0, bands[0])
    elif b.tier_mask:
        kept = [band_ for band_ in bands if TIER_BITS.get(band_.name, 0) & b.tier_mask]
    else:
        return bands
    return kept or bands


def engagement(b: Side, a: Side, settings: Settings) -> Any:
    bands = _bands(settings)
    if not bands:
        return NEUTRAL
    if not is_column(a.platform):
        # One platform (an account as values, or vectors of one platform's accounts): the
        # norm of each account's band, picked by its followers.
        norms = _norms(platform_of(a.platform), settings)
        bounds = [band_.min_followers for band_ in bands[1:]]
        ends = [_slopes(_band_norm(norms, band_)) for band_ in bands]
        low, high, up, down = (pick(a.followers, bounds, [e[i] for e in ends]) for i in range(4))
        return _curve(a.er, low, high, up, down)
    # The account is a column: one branch per platform group and tier, for the platforms
    # the brief accepts (a band reaches up to the next band's start, as above).
    mask = b.platform_mask if not is_column(b.platform_mask) else 0
    codes = platform_codes(mask) or list(PLATFORM_CODES.values())
    groups: dict[int, list[int]] = {}
    tables: dict[int, dict[str, EngagementNorm]] = {}
    for code in codes:
        norms = _norms(platform_of(code), settings)
        groups.setdefault(id(norms), []).append(code)
        tables[id(norms)] = norms

    bands = _bands_for(b, bands, settings)

    def by_band(norms: dict[str, EngagementNorm]) -> Any:
        branches = [
            (lt(a.followers, nxt.min_followers), _curve(a.er, *_slopes(_band_norm(norms, cur))))
            for cur, nxt in pairwise(bands)
        ]
        return cases(branches, _curve(a.er, *_slopes(_band_norm(norms, bands[-1]))))

    keys = list(groups)
    branches = [(in_set(a.platform, groups[k]), by_band(tables[k])) for k in keys[:-1]]
    return cases(branches, by_band(tables[keys[-1]]))


def _unit_index(platform: int, fmt: int) -> int:
    return (platform - 1) * FORMATS + fmt + 1


def _platform_units(b: Side, platform: int) -> Any:
    """The brief's deliverable units on a platform (kept after the per-format ones)."""
    return item(b.units, len(PLATFORM_CODES) * FORMATS + platform)


def _price_on(b: Side, a: Side, platform: int) -> Any:
    if is_column(b.row_units):
        # A row of `platform` (briefs for a creator read the rows of each account's
        # platform): its own packed units and budget share, no array to read.
        if is_column(a.fees):
            raise ValueError("prices need the brief or the account as values")
        formats = [f for f in range(FORMATS) if item(a.fees, f + 1) is not None]
        units = {f: band(shr(b.row_units, 6 * f), 63) for f in formats}
        units_p, budget_known = b.row_units_total, not_null(b.row_budget)

        def budget_p() -> Any:
            return b.row_budget

    else:
        units_p = _platform_units(b, platform)
        formats = [f for f in range(FORMATS) if item(b.units, _unit_index(platform, f))]
        units = {f: item(b.units, _unit_index(platform, f)) for f in formats}
        budget_known = and_(not_null(b.budget), gt(b.units_total, 0))

        def budget_p() -> Any:
            return div(mul(b.budget, units_p), b.units_total)

    quote = total(mul(units[f], item(a.fees, f + 1)) for f in formats)
    covered = total(units[f] for f in formats)
    known = and_(
        gt(units_p, 0),
        not_null(quote),
        eq(covered, units_p),
        eq(a.fee_currency, b.currency),
        budget_known,
    )

    def fit() -> Any:
        budget = budget_p()
        return when(le(quote, budget), 1.0, lambda: div(budget, quote))

    return when(known, fit, NEUTRAL)


def price_fit(b: Side, a: Side, proposed_fee: int | None = None) -> Any:
    if proposed_fee is not None:
        return when(
            not_null(b.budget),
            lambda: when(le(proposed_fee, b.budget), 1.0, lambda: div(b.budget, proposed_fee)),
            NEUTRAL,
        )
    if not is_column(a.platform):
        return _price_on(b, a, a.platform)
    if is_column(b.units):
        raise ValueError("prices need the brief or the account as values")
    mask = b.platform_mask if not is_column(b.platform_mask) else 0
    codes = platform_codes(mask) or list(PLATFORM_CODES.values())
    branches = [
        (eq(a.platform, code), _price_on(b, a, code)) for code in codes if _platform_units(b, code)
    ]
    return cases(branches, NEUTRAL)


def reliability(a: Side) -> Any:
    successes = add(a.deals_completed, a.published_on_time)
    return div(add(successes, 1), add(successes, a.published_late, 2))


def reliability_bound(deals_completed: int, published_on_time: int) -> float:
    """The most reliability can be for a creator with at most these completed deals and
    on-time posts (no late ones)."""
    return float(
        reliability(
            Side(
                {
                    "deals_completed": deals_completed,
                    "published_on_time": published_on_time,
                    "published_late": 0,
                }
            )
        )
    )


ACCOUNT_PARTS = ("engagement", "reliability")


def account_parts(a: Side, settings: Settings) -> dict[str, Any]:
    """The parts that depend on the account alone (and the settings), whatever the brief:
    they may be computed once for many briefs and passed to `parts` as `given`."""
    anywhere = Side({"platform_mask": 0})
    return {"engagement": engagement(anywhere, a, settings), "reliability": reliability(a)}


def parts(
    b: Side,
    a: Side,
    settings: Settings,
    *,
    proposed_fee: int | None = None,
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every part of the score of account `a` for brief `b` (values, or SQL); `given`:
    the `account_parts` of `a`, computed before."""
    return {
        "tier_fit": tier_fit(b, a),
        "niche_overlap": niche_overlap(b, a),
        "audience_country": audience_country(b, a),
        "audience_gender": audience_gender(b, a),
        "audience_age": audience_age(b, a),
        "engagement": given["engagement"] if given else engagement(b, a, settings),
        "price_fit": price_fit(b, a, proposed_fee),
        "reliability": given["reliability"] if given else reliability(a),
    }


def normalized_weights(weights: MatchWeights) -> dict[str, float]:
    raw = weights.model_dump()
    whole = sum(raw.values())
    return {name: raw[name] / whole for name in PARTS}


def score(values: Mapping[str, Any], weights: MatchWeights) -> Any:
    """The weighted mean of the parts, in [0, 1]."""
    share = normalized_weights(weights)
    return add(*[mul(share[name], values[name]) for name in PARTS if share[name] > 0])
