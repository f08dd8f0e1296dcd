"""What matching does when a creator applies: the stored score of the application.

On the apply path: it reads two feature rows and evaluates the model on values, and
imports none of the in-memory indexes, their sync or the pages (the requirements checked
before it are in `api.matching.requirements`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.matching import model
from api.matching.features import account_features, brief_features
from api.matching.requirements import qualifying_accounts
from api.models.briefs import Brief
from api.models.creators import Creator, SocialAccount
from api.settings import Settings


def evaluate(
    brief: Mapping[str, Any],
    account: Mapping[str, Any],
    settings: Settings,
    *,
    proposed_fee: int | None = None,
) -> tuple[float, dict[str, float]]:
    """The score and parts of one account for one brief, from their loaded features."""
    parts = model.parts(model.Side(brief), model.Side(account), settings, proposed_fee=proposed_fee)
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
    """The match score and its parts for a creator offering `accounts` to `brief`: the
    best offered account on a brief platform, with the proposed fee (when there is one)
    standing in for the rate card."""
    offered = qualifying_accounts(brief, accounts) or list(accounts)
    features = await brief_features(session, brief.id)
    rows = await account_features(
        session, creator_id=creator.id, account_ids=[a.id for a in offered]
    )
    if features is None or not rows:
        return model.NEUTRAL, dict.fromkeys(model.PARTS, model.NEUTRAL)
    b = model.Side(features)
    fitting = [row for row in rows if model.eligible(b, model.Side(row), settings)] or rows
    best = max(
        (evaluate(features, row, settings, proposed_fee=proposed_fee_minor) for row in fitting),
        key=lambda scored: scored[0],
    )
    return round(best[0], 4), rounded_parts(best[1])
