"""A social account's derived figures: its tier and its engagement rate.

Clients never send them; profiles show them and matching ranks by them, so they live
below both (matching imports no service).
"""

from __future__ import annotations

from collections.abc import Sequence

from api.models.common import Tier
from api.settings import TierBand


def tier_for(followers: int, bands: Sequence[TierBand]) -> Tier | None:
    """The configured band that holds `followers`, or None below the smallest."""
    for band in bands:
        if followers >= band.min_followers and (
            band.max_followers is None or followers <= band.max_followers
        ):
            return Tier(band.name)
    return None


def engagement_rate(followers: int, avg_likes: int, avg_comments: int) -> float:
    if followers <= 0:
        return 0.0
    return round((avg_likes + avg_comments) / followers, 6)
