"""Random match rows of briefs and accounts, nulls and empty lists included, for the
tests that check the model on vectors against the model on values."""

from __future__ import annotations

import random
import uuid
from typing import Any

from api.models.matching import FORMATS, country_code


def _countries(rng: random.Random, pool: list[str], most: int) -> list[int]:
    return sorted(country_code(c) for c in rng.sample(pool, rng.randint(0, most)))


def brief_row(rng: random.Random, pool: list[str]) -> dict[str, Any]:
    """A random match row of a brief, nulls and empty lists included."""
    creators, targets = _countries(rng, pool, 3), _countries(rng, pool, 4)
    bounded = rng.random() < 0.3
    size_min = rng.choice([None, 1_000, 20_000]) if bounded else None
    size_max = rng.choice([None, 100_000, 2_000_000]) if bounded else None
    platform = rng.choice([1, 2])
    units = [rng.choice([0, 0, 1, 2]) for _ in range(FORMATS)]
    elsewhere = rng.choice([0, 3])  # units on another platform share the budget
    budget = rng.choice([None, 60_000.0, 900_000.0])
    whole = [0] * 110
    for f, u in enumerate(units):
        whole[(platform - 1) * FORMATS + f] = u
    whole[100 + platform - 1] = sum(units)
    whole[(3 - platform - 1) * FORMATS] = elsewhere
    whole[100 + 3 - platform - 1] = elsewhere
    units_total = sum(units) + elsewhere
    ages = [rng.choice([0, 0, 500, 1000]) for _ in range(7)]
    return {
        "brief_id": uuid.uuid4(),
        "platform": platform,
        "tier": 0,
        "deadline": 1e12,
        "platform_mask": rng.choice([0, 1, 2, 3]),
        "tier_mask": 0 if bounded else rng.choice([0, 1, 2, 6, 15]),
        "requires_gifting": rng.random() < 0.2,
        "niche_mask": rng.choice([0, 1, 3, 6, 1 << 19]),
        "niche_count": 0,
        "gender_mask": rng.choice([0, 1, 2, 3, 7]),
        "has_age": any(ages),
        **{f"age_w{i}": w for i, w in enumerate(ages, start=1)},
        "min_er": rng.choice([0.0, 0.01, 0.03]),
        "currency": rng.choice([country_code("EU") * 26 + 20, -1]),
        "row_units": sum(u << (6 * f) for f, u in enumerate(units)),
        "row_units_total": sum(units),
        "units": whole,
        "units_total": units_total,
        "budget": budget,
        "row_budget": budget * sum(units) / units_total if budget and units_total else None,
        "creator_countries": creators,
        "target_countries": targets,
        "size_min": size_min,
        "size_max": size_max,
    }


def account_row(rng: random.Random, pool: list[str], currency: int) -> dict[str, Any]:
    followers = int(rng.lognormvariate(10, 1.5))
    slots = rng.sample(pool, 6)
    shares = sorted((rng.randint(0, 400) for _ in range(6)), reverse=True)
    fees = [rng.choice([None, 20_000, 150_000]) for _ in range(10)]
    return {
        "platform": rng.choice([1, 2]),
        "country": rng.choice([None, *(country_code(c) for c in pool)]),
        "followers": followers,
        "er": rng.uniform(0, 0.1),
        "accepts_gifting": rng.random() < 0.6,
        "niche_mask": rng.choice([0, 1, 2, 5]),
        "genders": rng.randint(0, 500) | rng.randint(0, 500) << 10 | rng.randint(0, 40) << 20,
        **{f"age_{i}": rng.randint(0, 300) for i in range(1, 8)},
        **{
            f"aud_{i}": country_code(c) << 10 | s if s else 0
            for i, (c, s) in enumerate(zip(slots, shares, strict=True), start=1)
        },
        "fee_currency": rng.choice([currency, None]),
        "fees": rng.choice([None, fees]),
        "deals_completed": rng.randint(0, 3),
        "published_on_time": rng.randint(0, 3),
        "published_late": rng.randint(0, 2),
    }
