"""Random match rows of briefs and accounts, nulls and empty lists included, for the
tests that check the model on vectors against the model on values.

Every feature of the registry (`api.matching.registry`) is drawn from its type, its
nullability and its typical values (`Feature.values`), so a new feature is in these rows
without a change here. What follows the draw are only the rules that tie features to each
other, as the source views compute them (units and budget shares, the audience slots'
order, age weights, sizes that replace tiers)."""

from __future__ import annotations

import random
from typing import Any

from api.matching import registry
from api.models.matching import FORMATS, country_code


def brief_row(rng: random.Random, pool: list[str]) -> dict[str, Any]:
    """A random match row of a brief, nulls and empty lists included."""
    row = registry.sample(registry.BRIEF, rng, [country_code(c) for c in pool])
    platform = row["platform"]
    # Deliverables: this row's platform, and maybe some on another (they share the budget).
    units = [rng.choice([0, 0, 1, 2]) for _ in range(FORMATS)]
    elsewhere = rng.choice([0, 3])
    whole = [0] * (registry.PLATFORMS * FORMATS + registry.PLATFORMS)
    for f, u in enumerate(units):
        whole[(platform - 1) * FORMATS + f] = u
    whole[registry.PLATFORMS * FORMATS + platform - 1] = sum(units)
    other = 3 - platform
    whole[(other - 1) * FORMATS] = elsewhere
    whole[registry.PLATFORMS * FORMATS + other - 1] = elsewhere
    row["units"] = whole
    row["units_total"] = sum(units) + elsewhere
    row["row_units"] = sum(u << (6 * f) for f, u in enumerate(units))
    row["row_units_total"] = sum(units)
    budget, total = row["budget"], row["units_total"]
    row["row_budget"] = budget * sum(units) / total if budget and total else None
    # Explicit follower bounds replace the tiers; an age weight means an age range.
    if row["size_min"] is not None or row["size_max"] is not None:
        row["tier_mask"] = 0
    ages = [f"age_w{i}" for i in range(1, len(registry.AGE_BUCKETS) + 1)]
    row["has_age"] = any(row[a] for a in ages)
    row["niche_count"] = int(row["niche_mask"]).bit_count()
    return row


def account_row(rng: random.Random, pool: list[str], currency: int) -> dict[str, Any]:
    """A random match row of an account; its rate card, if any, in `currency`."""
    row = registry.sample(registry.ACCOUNT, rng, [country_code(c) for c in pool])
    # Audience slots: distinct countries, largest share first (0: no slot).
    shares = sorted((rng.randint(0, 400) for _ in range(registry.AUDIENCE_SLOTS)), reverse=True)
    slots = rng.sample(pool, registry.AUDIENCE_SLOTS)
    for i, (c, s) in enumerate(zip(slots, shares, strict=True), start=1):
        row[f"aud_{i}"] = country_code(c) << 10 | s if s else 0
    if row["fee_currency"] is not None:
        row["fee_currency"] = currency
    row["niche_count"] = int(row["niche_mask"]).bit_count()
    return row
