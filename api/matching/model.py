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

Each part is one `Part` (a section below each): its value, the bound the brief index
prunes with (`best`) and the sentence a match's reasons tell about it (`explain`). Adding
a part is adding a section and its entry in `SCORE_PARTS` (and its weight in the
settings). What each part measures is said in its value function's docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from api.matching.expressions import (
    CodeSets,
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
from api.models.account_figures import tier_for
from api.models.matching import (
    AGE_BUCKETS,
    AUDIENCE_SLOTS,
    COUNTRY_CODES,
    FORMATS,
    GENDER_BITS,
    PLATFORM_CODES,
    country_of,
    niches_of,
    platform_of,
)
from api.settings import EngagementNorm, MatchWeights, Settings, TierBand

NEUTRAL = 0.5
# A brief side for the parts that read the account alone.
ANYWHERE = Side({"platform_mask": 0})
# Pruning compares scores with upper bounds: float sums of the weights may exceed an exact
# bound by an ulp, so a score counts as above a bound only past this margin.
BOUND_SLACK = 1e-9


# --- a part, and how the rest of the package reads it ------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of the score, written once (one section below each):

    - `value(b, a, settings, proposed_fee)`: the part in [0, 1], on values or vectors (see
      the module's docstring); `proposed_fee` stands in for the rate card at apply time.
    - `best(b, a, settings)`: the most it can be for account `a` (values) on each of the
      briefs `b` (the brief index's columns at some rows) that share no niche with it: the
      brief index prunes those briefs with the score of these bounds.
    - `explain(b, a, value, settings)`: the sentence a match's reasons tell about it (`b`,
      `a`: the rows as values; `value`: the part), or None when there is nothing to say;
      `api.matching.explain` picks which are told, what raised the score and what lowered it.
    - `account_only`: it depends on the account alone (and the settings), whatever the
      brief, so the creator index computes it once per copy (`account_parts`).
    - `told`: the order of reasons that move the score equally.
    """

    name: str
    value: Callable[[Side, Side, Settings, int | None], Any]
    best: Callable[[Side, Side, Settings], Any]
    explain: Callable[[Mapping[str, Any], Mapping[str, Any], float, Settings], str | None]
    told: int
    account_only: bool = False


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def _only(value: float) -> str:
    """A share that lowered its part says so."""
    return f"only {_percent(value)}" if value < NEUTRAL else _percent(value)


# --- tier_fit -----------------------------------------------------------------------------------


def tier_fit(b: Side, a: Side) -> Any:
    """1 when the brief names tiers (eligible accounts are in one). Within explicit
    follower bounds, 1 at the middle of the range on a log scale falling linearly to 0.5 at
    either bound (a one-sided bound stands for a tenfold range). 0.5 without size wishes."""

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


def _explain_tier(
    b: Mapping[str, Any], a: Mapping[str, Any], value: float, settings: Settings
) -> str | None:
    followers = a["followers"]
    if b["size_min"] is not None or b["size_max"] is not None:
        low = f"{b['size_min']:,}" if b["size_min"] is not None else "0"
        high = f"{b['size_max']:,}" if b["size_max"] is not None else "any"
        return f"{followers:,} followers, within {low}-{high}"
    if b["tier_mask"]:
        tier = tier_for(followers, settings.tiers)
        return f"{tier} account, a tier the brief asks for" if tier else None
    return None


TIER_FIT = Part(
    "tier_fit",
    value=lambda b, a, settings, fee: tier_fit(b, a),
    best=lambda b, a, settings: 1.0,
    explain=_explain_tier,
    told=6,
)


# --- niche_overlap ------------------------------------------------------------------------------


def niche_overlap(b: Side, a: Side) -> Any:
    """The share of the brief's niches the creator lists (all of them: 1; one
    of three: 1/3; none, or a creator without niches: 0). Only the brief's list divides, so
    listing more niches never lowers it; a creator listing every niche gets 1, which is why
    this part weighs less than the measured ones (audience, engagement)."""
    return when(
        eq(b.niche_count, 0),
        NEUTRAL,
        lambda: div(popcount_and(b.niche_mask, a.niche_mask), b.niche_count),
    )


def _explain_niches(
    b: Mapping[str, Any], a: Mapping[str, Any], value: float, settings: Settings
) -> str | None:
    if not b["niche_count"]:
        return None
    shared = niches_of(b["niche_mask"] & a["niche_mask"])
    if not shared:
        return "no niche in common with the brief"
    missing = niches_of(b["niche_mask"] & ~a["niche_mask"])
    if not missing:
        return "covers " + ", ".join(shared)
    return f"covers {', '.join(shared)}, not {', '.join(missing)}"


NICHE_OVERLAP = Part(
    "niche_overlap",
    value=lambda b, a, settings, fee: niche_overlap(b, a),
    best=lambda b, a, settings: 0.0,  # the briefs pruned share no niche with the account
    explain=_explain_niches,
    told=0,
)


# --- audience_country ---------------------------------------------------------------------------


def audience_country(b: Side, a: Side) -> Any:
    """The share of the audience in the brief's target countries, from the
    account's six largest audience countries (unreported shares count as elsewhere)."""

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


def _best_audience_country(b: Side, a: Side, settings: Settings) -> Any:
    """Exact: the part for each distinct target list of the briefs, then looked up."""
    targets = b.target_countries
    every_list = Side({"target_countries": CodeSets(targets.words, np.arange(len(targets.words)))})
    country = np.broadcast_to(audience_country(every_list, a), (len(targets.words),))
    return country[targets.index]


def _explain_audience_country(
    b: Mapping[str, Any], a: Mapping[str, Any], value: float, settings: Settings
) -> str | None:
    if not b["target_countries"]:
        return None
    where = ", ".join(sorted(country_of(c) for c in b["target_countries"]))
    return f"{_only(value)} of the audience in {where}"


AUDIENCE_COUNTRY = Part(
    "audience_country",
    value=lambda b, a, settings, fee: audience_country(b, a),
    best=_best_audience_country,
    explain=_explain_audience_country,
    told=1,
)


# --- audience_gender ----------------------------------------------------------------------------

GENDER_SHIFTS = ((1, 0), (2, 10), (4, 20))


def audience_gender(b: Side, a: Side) -> Any:
    """The share of the audience of the target gender(s)."""

    def share() -> Any:
        terms = [
            when(bit_set(b.gender_mask, bit), band(shr(a.genders, shift), 1023), 0)
            for bit, shift in GENDER_SHIFTS
        ]
        return div(total(terms), 1000)

    return when(eq(b.gender_mask, 0), NEUTRAL, share)


def _best_audience_gender(b: Side, a: Side, settings: Settings) -> Any:
    """Every gender targeted (or none: neutral)."""
    genders = sum(int(a.genders) >> shift & 1023 for _, shift in GENDER_SHIFTS)
    return max(NEUTRAL, genders / 1000)


def _explain_audience_gender(
    b: Mapping[str, Any], a: Mapping[str, Any], value: float, settings: Settings
) -> str | None:
    if not b["gender_mask"]:
        return None
    genders = " or ".join(g for g, bit in GENDER_BITS.items() if b["gender_mask"] & bit)
    return f"{_only(value)} {genders} audience"


AUDIENCE_GENDER = Part(
    "audience_gender",
    value=lambda b, a, settings, fee: audience_gender(b, a),
    best=_best_audience_gender,
    explain=_explain_audience_gender,
    told=2,
)


# --- audience_age -------------------------------------------------------------------------------


def audience_age(b: Side, a: Side) -> Any:
    """The share of the audience in the target age range (each age bucket
    counted by the fraction of its years inside the range, in permille; 65+ spans 65-100)."""

    def share() -> Any:
        terms = []
        for i in range(1, len(AGE_BUCKETS) + 1):
            weight, part = getattr(b, f"age_w{i}"), getattr(a, f"age_{i}")
            if (not is_column(weight) and weight == 0) or (not is_column(part) and part == 0):
                continue
            terms.append(mul(part, weight))
        return div(total(terms), 1_000_000)  # permille of the audience x permille of a bucket

    return when(b.has_age, share, NEUTRAL)


def _best_audience_age(b: Side, a: Side, settings: Settings) -> Any:
    """Every age targeted (or none: neutral)."""
    ages = sum(int(getattr(a, f"age_{i}")) for i in range(1, len(AGE_BUCKETS) + 1))
    return max(NEUTRAL, ages / 1000)


def _explain_audience_age(
    b: Mapping[str, Any], a: Mapping[str, Any], value: float, settings: Settings
) -> str | None:
    if not b["has_age"]:
        return None
    wanted = [
        (low, high) for i, (_, low, high) in enumerate(AGE_BUCKETS, start=1) if b[f"age_w{i}"] > 0
    ]
    if not wanted:
        return None
    span = f"{wanted[0][0]}-{wanted[-1][1]}" if wanted[-1][1] < 100 else f"{wanted[0][0]}+"
    return f"{_only(value)} of the audience aged {span}"


AUDIENCE_AGE = Part(
    "audience_age",
    value=lambda b, a, settings, fee: audience_age(b, a),
    best=_best_audience_age,
    explain=_explain_audience_age,
    told=3,
)


# --- engagement ---------------------------------------------------------------------------------


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
    """The engagement rate against the norm (settings.engagement_norms) for the
    account's platform and tier: 0 at 0, 0.5 at the norm's low end, 1 at its high end and
    above, linear in between. Below the smallest tier the smallest tier's norm applies."""
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


def _explain_engagement(
    b: Mapping[str, Any], a: Mapping[str, Any], value: float, settings: Settings
) -> str | None:
    platform = platform_of(a["platform"])
    tier = tier_for(a["followers"], settings.tiers) or "small"
    verdict = "above" if value >= 1 else "within" if value >= 0.5 else "below"
    return f"engagement {a['er'] * 100:.1f} %, {verdict} the norm for {platform} {tier} accounts"


ENGAGEMENT = Part(
    "engagement",
    value=lambda b, a, settings, fee: engagement(b, a, settings),
    best=lambda b, a, settings: float(engagement(ANYWHERE, a, settings)),
    explain=_explain_engagement,
    told=4,
    account_only=True,
)


# --- price_fit ----------------------------------------------------------------------------------


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
    """The creator's rate card for the brief's deliverables on this account's
    platform against the budget's pro-rata share for them (the budget is the top of the fee
    range; for gifted briefs, and hybrid ones without a fee, the product's retail value):
    1 within budget, budget / quote above it; 0.5 when unknown (no rate card entry for a
    deliverable, another currency, no budget, as for affiliate briefs). At apply time the
    proposed fee stands in for the rate card, against the whole budget."""
    if proposed_fee is not None:
        return when(
            not_null(b.budget),
            lambda: when(le(proposed_fee, b.budget), 1.0, lambda: div(b.budget, proposed_fee)),
            NEUTRAL,
        )
    if is_column(a.platform):
        raise ValueError("prices need the accounts of one platform")
    return _price_on(b, a, a.platform)


def _money(minor: float, currency: str | None) -> str:
    return f"{minor / 100:,.0f} {currency or ''}".strip()


def _currency_of(code: int | None) -> str | None:
    if code is None:
        return None
    return chr(65 + code // 676) + chr(65 + code // 26 % 26) + chr(65 + code % 26)


def _quote(b: Mapping[str, Any], a: Mapping[str, Any]) -> int | None:
    platform, fees = a["platform"], a["fees"]
    quote = 0
    for fmt in range(FORMATS):
        units = b["units"][(platform - 1) * FORMATS + fmt]
        if not units:
            continue
        fee = fees[fmt] if fees else None
        if fee is None:
            return None
        quote += units * fee
    return quote


def _explain_price(
    b: Mapping[str, Any], a: Mapping[str, Any], value: float, settings: Settings
) -> str | None:
    if b["budget"] is None:
        return None
    quote = _quote(b, a)
    if quote is None or a["fee_currency"] != b["currency"] or value == NEUTRAL:
        return "no rate card in the brief's currency for its deliverables"
    currency = _currency_of(b["currency"])
    if value >= 1:
        return f"rate card {_money(quote, currency)} for the deliverables, within budget"
    return f"rate card {_money(quote, currency)} for the deliverables, above budget"


PRICE_FIT = Part(
    "price_fit",
    value=lambda b, a, settings, fee: price_fit(b, a, fee),
    best=lambda b, a, settings: 1.0,
    explain=_explain_price,
    told=5,
)


# --- reliability --------------------------------------------------------------------------------


def reliability(a: Side) -> Any:
    """The creator's track record as one Laplace-smoothed success rate over every
    piece of evidence: each completed deal is a success, each published deliverable a
    success when on time and a failure when late (`deal_deliverables.late`):
    (completed + on_time + 1) / (completed + on_time + late + 2). 0.5 with no history, 0.67
    after one completed deal, 0.75 with one on-time post besides; a late post instead takes
    it back to 0.5. Always in (0, 1); a completed deal or an on-time post raises it, a late
    post lowers it. Counted over all the creator's deals (the match tables keep the three
    counts, migration 0007)."""
    successes = add(a.deals_completed, a.published_on_time)
    return div(add(successes, 1), add(successes, a.published_late, 2))


def _explain_reliability(
    b: Mapping[str, Any], a: Mapping[str, Any], value: float, settings: Settings
) -> str | None:
    done = a["deals_completed"]
    deals = f"{done} completed deal{'s' if done != 1 else ''}" if done else "no completed deals yet"
    on_time, late = a["published_on_time"], a["published_late"]
    if not on_time + late:
        return deals
    return f"{deals}, {on_time} of {on_time + late} posts published on time"


RELIABILITY = Part(
    "reliability",
    value=lambda b, a, settings, fee: reliability(a),
    best=lambda b, a, settings: float(reliability(a)),
    explain=_explain_reliability,
    told=7,
    account_only=True,
)


# --- the score ----------------------------------------------------------------------------------

# In the order the score adds them.
SCORE_PARTS = (
    TIER_FIT,
    NICHE_OVERLAP,
    AUDIENCE_COUNTRY,
    AUDIENCE_GENDER,
    AUDIENCE_AGE,
    ENGAGEMENT,
    PRICE_FIT,
    RELIABILITY,
)
PARTS = tuple(part.name for part in SCORE_PARTS)
ACCOUNT_PARTS = tuple(part.name for part in SCORE_PARTS if part.account_only)


def account_parts(a: Side, settings: Settings) -> dict[str, Any]:
    """The parts that depend on the account alone (and the settings), whatever the brief:
    they may be computed once for many briefs and passed to `parts` as `given`."""
    return {
        part.name: part.value(ANYWHERE, a, settings, None)
        for part in SCORE_PARTS
        if part.account_only
    }


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
        part.name: given[part.name]
        if given and part.account_only
        else part.value(b, a, settings, proposed_fee)
        for part in SCORE_PARTS
    }


def best(b: Side, a: Side, settings: Settings) -> dict[str, Any]:
    """Each part at its most for account `a` (values) on the briefs `b` sharing no niche
    with it (`Part.best`); `score` of them bounds their scores."""
    return {part.name: part.best(b, a, settings) for part in SCORE_PARTS}


def normalized_weights(weights: MatchWeights) -> dict[str, float]:
    raw = weights.model_dump()
    whole = sum(raw.values())
    return {name: raw[name] / whole for name in PARTS}


def score(values: Mapping[str, Any], weights: MatchWeights) -> Any:
    """The weighted mean of the parts, in [0, 1]."""
    share = normalized_weights(weights)
    return add(*[mul(share[name], values[name]) for name in PARTS if share[name] > 0])
