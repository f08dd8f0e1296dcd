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
