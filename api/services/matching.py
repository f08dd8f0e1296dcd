"""How well a creator fits a brief: a score in [0, 1] made of named parts.

Interim model (the matching issue replaces it behind `score_application`): the mean of
- `niche_overlap`: share of the brief's niches the creator covers (1 when the brief names none);
- `engagement`: the best offered account's engagement rate against the high end of the
  norm for its tier and platform, capped at 1;
- `price_fit`: for paid and hybrid briefs, 1 when the proposed fee is within the brief's
  range and falling as it exceeds the maximum (max / fee); 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.models.briefs import Brief, CompensationType
from api.models.creators import Creator, SocialAccount
from api.services.creators import engagement_rate, tier_for
from api.settings import Settings


def _engagement_part(accounts: Sequence[SocialAccount], settings: Settings) -> float:
    best = 0.0
    for account in accounts:
        tier = tier_for(account.followers, settings.tiers)
        if tier is None:
            continue
        norms = settings.engagement_norms.get(account.platform) or settings.engagement_norms.get(
            "default", {}
        )
        norm = norms.get(tier)
        if norm is None or norm.high <= 0:
            continue
        rate = engagement_rate(account.followers, account.avg_likes, account.avg_comments)
        best = max(best, min(1.0, rate / norm.high))
    return best


def _price_part(brief: Brief, proposed_fee_minor: int | None) -> float:
    if brief.compensation_type not in (CompensationType.paid, CompensationType.hybrid):
        return 1.0
    if proposed_fee_minor is None or brief.fee_max_minor is None:
        return 0.5
    if proposed_fee_minor <= brief.fee_max_minor:
        return 1.0
    return brief.fee_max_minor / proposed_fee_minor


def score_application(
    brief: Brief,
    creator: Creator,
    accounts: Sequence[SocialAccount],
    proposed_fee_minor: int | None,
    settings: Settings,
) -> tuple[float, dict[str, float]]:
    """The score and its parts for a creator offering `accounts` to `brief`."""
    wanted = set(brief.niches)
    niche = len(wanted & set(creator.niches)) / len(wanted) if wanted else 1.0
    parts = {
        "niche_overlap": round(niche, 4),
        "engagement": round(_engagement_part(accounts, settings), 4),
        "price_fit": round(_price_part(brief, proposed_fee_minor), 4),
    }
    return round(sum(parts.values()) / len(parts), 4), parts
