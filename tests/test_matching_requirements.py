"""Each hard requirement is written once (`api.matching.requirements`): the ranking's
`eligible` and the apply-time 422 agree on every brief and account."""

from __future__ import annotations

import random

from api.matching.expressions import Side
from api.matching.requirements import REQUIREMENTS, eligible, unmet_requirements
from api.settings import get_settings
from tests.match_rows import account_row, brief_row

POOL = ["DE", "AT", "ES", "PT", "US", "GB", "FR", "IT"]


def test_ranking_and_apply_time_refuse_the_same_accounts() -> None:
    rng = random.Random(17)
    settings = get_settings()
    refused = set()
    for _ in range(400):
        b = Side(brief_row(rng, POOL))
        row = account_row(rng, POOL, 0)
        a = Side(row)
        creator = Side({"country": row["country"], "accepts_gifting": row["accepts_gifting"]})
        unmet = unmet_requirements(b, [a], creator, settings)
        assert bool(eligible(b, a, settings)) == (not unmet), (b.__dict__, row, unmet)
        refused |= {error.loc[1] for error in unmet}
    # Every requirement was missed at least once, so each took part in the comparison.
    assert refused == {r.name for r in REQUIREMENTS}


def test_account_requirements_are_judged_on_the_accounts_meeting_those_before() -> None:
    rng = random.Random(3)
    settings = get_settings()
    brief = brief_row(rng, POOL) | {
        "platform_mask": 1,  # the first platform only
        "size_min": 10_000,
        "size_max": 50_000,
        "min_er": 0.03,
        "creator_countries": [],
        "requires_gifting": False,
    }
    b = Side(brief)

    def account(platform: int, followers: int, er: float) -> Side:
        return Side(
            account_row(rng, POOL, 0) | {"platform": platform, "followers": followers, "er": er}
        )

    creator = Side({"country": None, "accepts_gifting": True})

    def unmet(*offered: Side) -> list[str]:
        return [e.loc[1] for e in unmet_requirements(b, list(offered), creator, settings)]

    # Off the brief's platforms, size and engagement are not judged at all.
    assert unmet(account(2, 500, 0.0)) == ["platform"]
    # A big account with little engagement and a small one with much do not add up.
    assert unmet(account(1, 20_000, 0.01), account(1, 500, 0.09)) == ["engagement_rate"]
    # Without an account of the wanted size, engagement is judged on the platform's ones.
    assert unmet(account(1, 500, 0.09)) == ["followers"]
    assert unmet(account(1, 500, 0.01)) == ["followers", "engagement_rate"]
    assert unmet(account(1, 20_000, 0.05)) == []
