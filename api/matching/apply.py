"""What matching does when a creator applies: the stored score of the application.

On the apply path: it reads the feature rows of the brief and of the offered accounts,
checks the hard requirements on them (`api.matching.requirements`, the same predicates the
indexes rank with) and evaluates the model on values. It imports none of the in-memory
indexes, their sync or the pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Ineligible, NotFound
from api.matching import model
from api.matching.expressions import Side
from api.matching.features import account_features, brief_features
from api.matching.requirements import eligible, unmet_requirements
from api.models.briefs import Brief
from api.models.creators import Creator, SocialAccount
from api.models.matching import country_code
from api.settings import Settings


def evaluate(
    brief: Mapping[str, Any],
    account: Mapping[str, Any],
    settings: Settings,
    *,
    proposed_fee: int | None = None,
) -> tuple[float, dict[str, float]]:
    """The score and parts of one account for one brief, from their loaded features."""
    parts = model.parts(Side(brief), Side(account), settings, proposed_fee=proposed_fee)
    return float(model.score(parts, settings.match_weights)), {
        k: float(v) for k, v in parts.items()
    }


def rounded_parts(parts: Mapping[str, float]) -> dict[str, float]:
    return {name: round(value, 4) for name, value in parts.items()}


async def score_application(
    session: AsyncSession,
    brief: Brief,
    creator: Creator,
    accounts: Sequence[SocialAccount],
    proposed_fee_minor: int | None,
    settings: Settings,
) -> tuple[float, dict[str, float]]:
    """The match score and its parts for a creator offering `accounts` to `brief`, after
    the hard requirements (422 `ineligible` listing each one unmet): the best offered
    account meeting them, with the proposed fee (when there is one) standing in for the
    rate card."""
    features = await brief_features(session, brief.id)
    if features is None:
        raise NotFound("brief not found")
    rows = await account_features(
        session, creator_id=creator.id, account_ids=[a.id for a in accounts]
    )
    b = Side(features)
    offered = [Side(row) for row in rows]
    you = Side(
        {
            "country": country_code(creator.country) if creator.country else None,
            "accepts_gifting": creator.accepts_gifting,
        }
    )
    unmet = unmet_requirements(b, offered, you, settings)
    if unmet:
        raise Ineligible(f"you miss {len(unmet)} requirement(s) of this brief", errors=unmet)
    fitting = [row for row, a in zip(rows, offered, strict=True) if eligible(b, a, settings)]
    best = max(
        (evaluate(features, row, settings, proposed_fee=proposed_fee_minor) for row in fitting),
        key=lambda scored: scored[0],
    )
    return round(best[0], 4), rounded_parts(best[1])
