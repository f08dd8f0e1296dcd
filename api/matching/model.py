"""The match model: how well one social account of a creator fits a brief.

One definition serves every use. Each side (the brief, the account) is either a row of
features loaded as values, or a batch of rows as numpy vectors; see
`api.matching.expressions`. Both as values: numbers (apply time, explanations, tests). The
briefs as vectors: every open brief scored at once for a creator (`brief_index`). The
accounts as vectors, all on one platform: a platform's accounts scored at once for a brief
(`creator_index`).

Only accounts meeting every hard requirement are scored: `api.matching.requirements`
(`eligible`), the same predicates that answer an application with 422 `ineligible`.

The score is the weighted mean (weights: `settings.match_weights`) of eight parts, each in
[0, 1]. A part the brief does not ask about is 0.5 (neutral) for everybody, as is an
unknown price or a creator without deal history.

- `tier_fit`: 1 when the brief names tiers (eligible accounts are in one). Within explicit
  follower bounds, 1 at the middle of the range on a log scale falling linearly to 0.5 at
  either bound (a one-sided bound stands for a tenfold range). 0.5 without size wishes.
- `niche_overlap`: the share of the brief's niches the creator lists (all of them: 1; one
  of three: 1/3; none, or a creator without niches: 0). Only the brief's list divides, so
  listing more niches never lowers it; a creator listing every niche gets 1, which is why
  this part weighs less than the measured ones (audience, engagement).
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
from typing import Any

from api.matching.expressions import (
    Side,
    absolute,
    add,
    and_,
    band,
    bit_set,
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
    is_vector,
    item,
    le,
    ln,
    mul,
    not_null,
    or_,
    pick,
    popcount_and,
    shr,
    sub,
    total,
    when,
)
from api.matching.requirements import bands
from api.models.matching import (
    AGE_BUCKETS,
    AUDIENCE_SLOTS,
    COUNTRY_CODES,
    FORMATS,
    PLATFORM_CODES,
    platform_of,
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
    # Over the brief's niches only: listing more niches never lowers a creator's part.
    return when(
        eq(b.niche_count, 0),
        NEUTRAL,
        lambda: div(popcount_and(b.niche_mask, a.niche_mask), b.niche_count),
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
        terms = [
            when(in_set(shr(slot, 10), targets), band(slot, 1023), 0)
            for slot in slots
            if slot is not None
        ]
        return div(total(terms), 1000)

    return when(is_empty(b.target_countries), NEUTRAL, share)


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


def engagement(b: Side, a: Side, settings: Settings) -> Any:
    sizes = bands(settings)
    if not sizes:
        return NEUTRAL
    if not is_column(a.platform):
        # An account as values, or vectors of one platform's accounts: the norm of each
        # account's band, picked by its followers.
        norms = _norms(platform_of(a.platform), settings)
        bounds = [band_.min_followers for band_ in sizes[1:]]
        ends = [_slopes(_band_norm(norms, band_)) for band_ in sizes]
        low, high, up, down = (pick(a.followers, bounds, [e[i] for e in ends]) for i in range(4))
        return _curve(a.er, low, high, up, down)
    raise ValueError("engagement needs the accounts of one platform")


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
    if is_column(a.platform):
        raise ValueError("prices need the accounts of one platform")
    return _price_on(b, a, a.platform)


def reliability(a: Side) -> Any:
    successes = add(a.deals_completed, a.published_on_time)
    return div(add(successes, 1), add(successes, a.published_late, 2))


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
    """Every part of the score of account `a` for brief `b` (values, or vectors); `given`:
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
