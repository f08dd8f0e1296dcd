"""Demo briefs for `make run`: every collaboration and compensation type, in every state.

Dates are relative to the day the demo is loaded, so open briefs stay valid to publish.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.models.brands import Brand
from api.models.briefs import BriefCreate
from api.services import briefs


def _dates(publish_in_days: int, deadline_in_days: int, window: int = 0) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    start = today + timedelta(days=publish_in_days)
    deadline = datetime.combine(today + timedelta(days=deadline_in_days), time(18), UTC)
    return {
        "publish_start_date": start.isoformat(),
        "publish_end_date": (start + timedelta(days=window)).isoformat() if window else None,
        "application_deadline": deadline.isoformat(),
    }


# (brand, final state, brief) — the state is reached through the real lifecycle.
DEMO_BRIEFS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "Glow Labs",
        "open",
        {
            "title": "Summer glow: vitamin C serum reels",
            "description": "Show your morning routine with our Hydra Glow serum. We love "
            "natural light, bare skin and honest first impressions.",
            "collaboration_type": "sponsored_post",
            "compensation_type": "paid",
            "currency": "EUR",
            "fee_min_minor": 30_000,
            "fee_max_minor": 80_000,
            "product": {"name": "Hydra Glow Serum 30 ml", "retail_value_minor": 3_900},
            "gifted_product": {"name": "Hydra Glow Serum 30 ml", "retail_value_minor": 3_900},
            "platforms": ["instagram", "tiktok"],
            "deliverables": [
                {"platform": "instagram", "format": "reel", "quantity": 1},
                {"platform": "instagram", "format": "story", "quantity": 3},
                {"platform": "tiktok", "format": "short_video", "quantity": 1},
            ],
            "tiers": ["micro", "macro"],
            "niches": ["beauty", "lifestyle"],
            "min_engagement_rate": 0.025,
            "creator_countries": ["DE", "AT", "FR", "ES"],
            "target_audience": {"countries": ["DE", "FR"], "genders": ["female"], "age_min": 18},
            "slots": 6,
            "screening_questions": [{"question": "Which serum do you use today, if any?"}],
            "disclosure": {
                "hashtags": ["#ad", "#glowlabs"],
                "mentions": ["@glowlabs"],
                "paid_partnership_label": True,
            },
            **_dates(30, 14),
        },
    ),
    (
        "Glow Labs",
        "open",
        {
            "title": "Serum seeding: 105 creators wanted",
            "description": "We send you our new serum trio. Post if you love it; no "
            "obligation to post at all.",
            "collaboration_type": "product_seeding",
            "compensation_type": "gifted",
            "currency": "EUR",
            "gifted_product": {"name": "Serum trio", "retail_value_minor": 7_500},
            "posting_required": False,
            "platforms": ["instagram", "tiktok"],
            "deliverables": [{"platform": "instagram", "format": "story", "quantity": 1}],
            "tiers": ["nano", "micro"],
            "niches": ["beauty"],
            "creator_countries": ["DE", "AT", "CH"],
            "slots": 105,
            **_dates(21, 10, window=30),
        },
    ),
    (
        "Glow Labs",
        "open",
        {
            "title": "Honest review: mineral sunscreen SPF 50",
            "description": "A long-form, honest review of our mineral sunscreen after two "
            "weeks of daily use. Fee plus 10 % commission on your code.",
            "collaboration_type": "product_review",
            "compensation_type": "hybrid",
            "currency": "EUR",
            "fee_min_minor": 15_000,
            "fee_max_minor": 30_000,
            "commission_rate_percent": 10,
            "gifted_product": {"name": "Mineral sunscreen SPF 50", "retail_value_minor": 2_400},
            "platforms": ["youtube"],
            "deliverables": [{"platform": "youtube", "format": "long_video", "quantity": 1}],
            "min_followers": 20_000,
            "max_followers": 500_000,
            "niches": ["beauty", "health"],
            "slots": 4,
            **_dates(40, 20),
        },
    ),
    (
        "Glow Labs",
        "draft",
        {
            "title": "UGC: texture shots for the web shop",
            "description": "Close-up texture videos for our product pages; not posted by you.",
            "collaboration_type": "ugc",
            "compensation_type": "paid",
            "currency": "EUR",
            "fee_min_minor": 25_000,
            "fee_max_minor": 25_000,
            "platforms": ["instagram"],
            "deliverables": [{"platform": "instagram", "format": "ugc_video", "quantity": 3}],
            "usage_rights": {
                "channels": ["website", "ecommerce", "paid_social"],
                "duration_days": 730,
                "ad_permission": "allowlisting",
                "raw_footage_included": True,
                "edits_allowed": True,
            },
        },
    ),
    (
        "Glow Labs",
        "closed",
        {
            "title": "Giveaway: a year of skincare",
            "description": "Host a giveaway of our full routine for one of your followers.",
            "collaboration_type": "giveaway",
            "compensation_type": "gifted",
            "currency": "EUR",
            "gifted_product": {"name": "Full routine set (x2)", "retail_value_minor": 19_800},
            "platforms": ["instagram"],
            "deliverables": [{"platform": "instagram", "format": "post", "quantity": 1}],
            "tiers": ["micro"],
            "niches": ["beauty"],
            "slots": 3,
            **_dates(25, 7),
        },
    ),
    (
        "Trail Fuel",
        "open",
        {
            "title": "Trail Fuel ambassadors: six months on the trail",
            "description": "Monthly content about your runs and rides, fuelled by our bars. "
            "Monthly fee plus 8 % commission.",
            "collaboration_type": "brand_ambassador",
            "compensation_type": "hybrid",
            "currency": "GBP",
            "fee_min_minor": 50_000,
            "fee_max_minor": 120_000,
            "commission_rate_percent": 8,
            "platforms": ["instagram", "youtube"],
            "deliverables": [
                {"platform": "instagram", "format": "reel", "quantity": 6},
                {"platform": "youtube", "format": "long_video", "quantity": 2},
            ],
            "tiers": ["micro", "macro"],
            "niches": ["fitness", "sports", "health"],
            "creator_countries": ["GB", "IE"],
            "slots": 3,
            "usage_rights": {
                "channels": ["organic_social", "website", "email", "paid_social"],
                "duration_days": 365,
                "exclusivity_days": 180,
                "exclusivity_categories": ["sports nutrition"],
                "ad_permission": "partnership_ads",
            },
            **_dates(35, 15, window=180),
        },
    ),
    (
        "Trail Fuel",
        "open",
        {
            "title": "Affiliate: 15 % on every box of Trail Fuel",
            "description": "Share your code; earn 15 % on every order. Any niche that moves.",
            "collaboration_type": "affiliate",
            "compensation_type": "affiliate",
            "commission_rate_percent": 15,
            "platforms": ["tiktok"],
            "deliverables": [{"platform": "tiktok", "format": "short_video", "quantity": 2}],
            "niches": ["fitness", "food"],
            "slots": 50,
            **_dates(20, 12, window=60),
        },
    ),
    (
        "Trail Fuel",
        "draft",
        {
            "title": "Launch event: Trail Fuel night run in London",
            "description": "Join our launch night run and cover it live.",
            "collaboration_type": "event",
            "compensation_type": "paid",
            "currency": "GBP",
            "fee_min_minor": 40_000,
            "fee_max_minor": 60_000,
            "platforms": ["instagram"],
            "deliverables": [{"platform": "instagram", "format": "live", "quantity": 1}],
            "creator_countries": ["GB"],
        },
    ),
    (
        "Trail Fuel",
        "open",
        {
            "title": "Story takeover: a day at the ultramarathon",
            "description": "Take over our Instagram stories for race day.",
            "collaboration_type": "takeover",
            "compensation_type": "paid",
            "currency": "GBP",
            "fee_min_minor": 35_000,
            "fee_max_minor": 50_000,
            "platforms": ["instagram"],
            "deliverables": [{"platform": "instagram", "format": "story", "quantity": 10}],
            "tiers": ["macro"],
            "niches": ["sports", "fitness"],
            "slots": 1,
            **_dates(45, 25),
        },
    ),
    (
        "Trail Fuel",
        "completed",
        {
            "title": "Protein bar taste test",
            "description": "Rank our five flavours on camera.",
            "collaboration_type": "sponsored_post",
            "compensation_type": "paid",
            "currency": "GBP",
            "fee_min_minor": 10_000,
            "fee_max_minor": 20_000,
            "platforms": ["tiktok"],
            "deliverables": [{"platform": "tiktok", "format": "short_video", "quantity": 1}],
            "tiers": ["nano", "micro"],
            "niches": ["food"],
            "slots": 10,
            **_dates(15, 5),
        },
    ),
    (
        "Pixel Forge",
        "open",
        {
            "title": "Pixel Forge X2 keyboard: live build stream",
            "description": "Build and test the X2 mechanical keyboard live, then a review "
            "video. Big channels only.",
            "collaboration_type": "sponsored_post",
            "compensation_type": "paid",
            "currency": "USD",
            "fee_min_minor": 250_000,
            "fee_max_minor": 600_000,
            "platforms": ["twitch", "youtube"],
            "deliverables": [
                {"platform": "twitch", "format": "live", "quantity": 1},
                {"platform": "youtube", "format": "long_video", "quantity": 1},
            ],
            "min_followers": 100_000,
            "niches": ["gaming", "tech"],
            "creator_countries": ["US", "CA", "GB"],
            "slots": 2,
            **_dates(50, 21),
        },
    ),
    (
        "Pixel Forge",
        "open",
        {
            "title": "Review the Pixel Forge headset",
            "description": "Keep the headset; tell your viewers what you really think.",
            "collaboration_type": "product_review",
            "compensation_type": "gifted",
            "currency": "USD",
            "gifted_product": {"name": "PF Nova headset", "retail_value_minor": 14_900},
            "platforms": ["youtube"],
            "deliverables": [{"platform": "youtube", "format": "long_video", "quantity": 1}],
            "tiers": ["micro", "macro"],
            "niches": ["gaming", "tech"],
            "slots": 8,
            **_dates(28, 12),
        },
    ),
    (
        "Pixel Forge",
        "closed",
        {
            "title": "Back to school: mouse + code",
            "description": "A short with your desk setup, a fee and 5 % on your code.",
            "collaboration_type": "affiliate",
            "compensation_type": "hybrid",
            "currency": "USD",
            "fee_min_minor": 5_000,
            "fee_max_minor": 10_000,
            "commission_rate_percent": 5,
            "platforms": ["tiktok", "youtube"],
            "deliverables": [{"platform": "youtube", "format": "short_video", "quantity": 1}],
            "niches": ["tech", "education"],
            "slots": 20,
            **_dates(18, 9),
        },
    ),
    (
        "Pixel Forge",
        "draft",
        {
            "title": "Unboxing photos for our store",
            "collaboration_type": "ugc",
            "compensation_type": "gifted",
        },
    ),
]

_STEPS = {
    "draft": [],
    "open": [briefs.publish_brief],
    "closed": [briefs.publish_brief, briefs.close_brief],
    "completed": [briefs.publish_brief, briefs.close_brief, briefs.complete_brief],
}


async def seed_briefs(session: AsyncSession, brand_names: Sequence[str]) -> int:
    """Create the demo briefs of the named demo brands. Returns how many it created."""
    rows = await session.scalars(select(Brand).where(col(Brand.name).in_(brand_names)))
    brand_ids: dict[str, uuid.UUID] = {b.name: b.id for b in rows}
    created = 0
    for brand_name, state, body in DEMO_BRIEFS:
        brand_id = brand_ids.get(brand_name)
        if brand_id is None:
            continue
        brief = await briefs.create_brief(session, brand_id, BriefCreate.model_validate(body))
        for step in _STEPS[state]:
            await step(session, brief)
        created += 1
    return created
