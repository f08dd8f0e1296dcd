"""Why a creator and a brief match: short sentences from the score's parts.

Both directions are told: every part below neutral (0.5) gets a sentence saying what
lowered the score, whatever its weight; the parts that raised it most fill the list up to
`MAX_REASONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.matching import model
from api.models.account_figures import tier_for
from api.models.matching import (
    AGE_BUCKETS,
    FORMATS,
    GENDER_BITS,
    country_of,
    niches_of,
    platform_of,
)
from api.settings import Settings

MAX_REASONS = 5


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def _money(minor: float, currency: str | None) -> str:
    return f"{minor / 100:,.0f} {currency or ''}".strip()


def _currency_of(code: int | None) -> str | None:
    if code is None:
        return None
    return chr(65 + code // 676) + chr(65 + code // 26 % 26) + chr(65 + code % 26)


def _quote(b: Mapping[str, Any], a: Mapping[str, Any]) -> int | None:
    platform, fees = a["platform"], a["fees"]
    total = 0
    for fmt in range(FORMATS):
        units = b["units"][(platform - 1) * FORMATS + fmt]
        if not units:
            continue
        fee = fees[fmt] if fees else None
        if fee is None:
            return None
        total += units * fee
    return total


def _tier(b: Mapping[str, Any], a: Mapping[str, Any], settings: Settings) -> str | None:
    followers = a["followers"]
    if b["size_min"] is not None or b["size_max"] is not None:
        low = f"{b['size_min']:,}" if b["size_min"] is not None else "0"
        high = f"{b['size_max']:,}" if b["size_max"] is not None else "any"
        return f"{followers:,} followers, within {low}-{high}"
    if b["tier_mask"]:
        tier = tier_for(followers, settings.tiers)
        return f"{tier} account, a tier the brief asks for" if tier else None
    return None


def _niches(b: Mapping[str, Any], a: Mapping[str, Any]) -> str | None:
    if not b["niche_count"]:
        return None
    shared = niches_of(b["niche_mask"] & a["niche_mask"])
    if not shared:
        return "no niche in common with the brief"
    missing = niches_of(b["niche_mask"] & ~a["niche_mask"])
    if not missing:
        return "covers " + ", ".join(shared)
    return f"covers {', '.join(shared)}, not {', '.join(missing)}"


def _only(value: float) -> str:
    """A share that lowered its part says so."""
    return f"only {_percent(value)}" if value < model.NEUTRAL else _percent(value)


def _audience(b: Mapping[str, Any], parts: Mapping[str, float]) -> list[tuple[str, str]]:
    out = []
    if b["target_countries"]:
        where = ", ".join(sorted(country_of(c) for c in b["target_countries"]))
        out.append(
            (
                "audience_country",
                f"{_only(parts['audience_country'])} of the audience in {where}",
            )
        )
    if b["gender_mask"]:
        genders = " or ".join(g for g, bit in GENDER_BITS.items() if b["gender_mask"] & bit)
        out.append(("audience_gender", f"{_only(parts['audience_gender'])} {genders} audience"))
    if b["has_age"]:
        wanted = [
            (low, high)
            for i, (_, low, high) in enumerate(AGE_BUCKETS, start=1)
            if b[f"age_w{i}"] > 0
        ]
        if wanted:
            span = f"{wanted[0][0]}-{wanted[-1][1]}" if wanted[-1][1] < 100 else f"{wanted[0][0]}+"
            out.append(
                ("audience_age", f"{_only(parts['audience_age'])} of the audience aged {span}")
            )
    return out


def _engagement(a: Mapping[str, Any], parts: Mapping[str, float], settings: Settings) -> str:
    platform = platform_of(a["platform"])
    tier = tier_for(a["followers"], settings.tiers) or "small"
    level = parts["engagement"]
    verdict = "above" if level >= 1 else "within" if level >= 0.5 else "below"
    return f"engagement {a['er'] * 100:.1f} %, {verdict} the norm for {platform} {tier} accounts"


def _price(b: Mapping[str, Any], a: Mapping[str, Any], parts: Mapping[str, float]) -> str | None:
    if b["budget"] is None:
        return None
    quote = _quote(b, a)
    if quote is None or a["fee_currency"] != b["currency"] or parts["price_fit"] == model.NEUTRAL:
        return "no rate card in the brief's currency for its deliverables"
    currency = _currency_of(b["currency"])
    if parts["price_fit"] >= 1:
        return f"rate card {_money(quote, currency)} for the deliverables, within budget"
    return f"rate card {_money(quote, currency)} for the deliverables, above budget"


def _reliability(a: Mapping[str, Any]) -> str:
    done = a["deals_completed"]
    deals = f"{done} completed deal{'s' if done != 1 else ''}" if done else "no completed deals yet"
    on_time, late = a["published_on_time"], a["published_late"]
    if not on_time + late:
        return deals
    return f"{deals}, {on_time} of {on_time + late} posts published on time"


def reasons(
    b: Mapping[str, Any], a: Mapping[str, Any], parts: Mapping[str, float], settings: Settings
) -> list[str]:
    """The strongest and weakest points of a match, most telling first."""
    weights = model.normalized_weights(settings.match_weights)
    candidates: list[tuple[str, str | None]] = [
        ("niche_overlap", _niches(b, a)),
        *_audience(b, parts),
        ("engagement", _engagement(a, parts, settings)),
        ("price_fit", _price(b, a, parts)),
        ("tier_fit", _tier(b, a, settings)),
        ("reliability", _reliability(a)),
    ]

    def weight(entry: tuple[str, str | None]) -> float:
        # How far the part moves the score away from neutral, either way.
        part = entry[0]
        return weights[part] * abs(parts[part] - model.NEUTRAL)

    told = [entry for entry in candidates if entry[1] is not None and weights[entry[0]] > 0]
    told.sort(key=weight, reverse=True)
    lowered = {part for part, _ in told if parts[part] < model.NEUTRAL}
    room = max(MAX_REASONS - len(lowered), 0)
    raised = {part for part, _ in [e for e in told if e[0] not in lowered][:room]}
    return [sentence for part, sentence in told if sentence and (part in lowered or part in raised)]
