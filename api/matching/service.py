"""The matching pages: creators ranked for a brief, open briefs ranked for a creator.

The model is `api.matching.model` (documented there); ranking runs in each worker's
memory (`api.matching.creator_index`, `api.matching.brief_index`, loaded through
`api.matching.ranking`); this module builds what a page shows and explains it
(`api.matching.explain`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import NotFound
from api.matching import features as match_features
from api.matching import ranking
from api.matching.apply import rounded_parts
from api.matching.brief_index import BriefIndex
from api.matching.creator_index import CreatorIndex
from api.matching.explain import reasons
from api.models.account_figures import tier_for
from api.models.briefs import Brief
from api.models.creators import Creator
from api.models.matching import (
    BriefMatch,
    BriefSummary,
    CreatorMatch,
    CreatorMatchFilters,
    CreatorSummary,
    MatchedAccount,
    MatchParts,
    platform_of,
)
from api.pagination import PageParams
from api.settings import Settings


def _account(row: Mapping[str, Any], settings: Settings) -> MatchedAccount:
    return MatchedAccount(
        id=row["account_id"],
        platform=platform_of(row["platform"]),
        handle=row["handle"],
        followers=row["followers"],
        tier=tier_for(row["followers"], settings.tiers),
        engagement_rate=float(row["er"]),
    )


async def creators_for_brief(
    session: AsyncSession,
    settings: Settings,
    index: CreatorIndex,
    brief: Brief,
    filters: CreatorMatchFilters,
    page: PageParams,
) -> tuple[list[CreatorMatch], str | None]:
    """A page of creators ranked for `brief` (see `ranking.rank_creators`)."""
    features = await match_features.brief_features(session, brief.id)
    if features is None:
        raise NotFound("brief not found")
    ranked, cursor = await ranking.rank_creators(
        session, settings, index, brief.id, features, filters, page
    )
    items = []
    for r in ranked:
        row = r.row
        parts = row["parts"]
        items.append(
            CreatorMatch(
                creator=CreatorSummary(
                    id=row["creator_id"],
                    display_name=row["display_name"],
                    handle=row["creator_handle"],
                    country=row["creator_country"],
                    niches=row["creator_niches"],
                    accepts_gifting=row["accepts_gifting"],
                ),
                account=_account(row, settings),
                score=round(float(r.key), 4),
                parts=MatchParts(**rounded_parts(parts)),
                reasons=reasons(features, row, parts, settings),
                invited=row["invited"],
            )
        )
    return items, cursor


async def briefs_for_creator(
    session: AsyncSession,
    settings: Settings,
    index: BriefIndex,
    creator: Creator,
    page: PageParams,
) -> tuple[list[BriefMatch], str | None]:
    """A page of open briefs ranked for `creator` (see `ranking.rank_briefs`)."""
    accounts = await match_features.account_features(session, creator_id=creator.id)
    ranked, cursor = await ranking.rank_briefs(session, settings, index, creator.id, accounts, page)
    items = []
    for r in ranked:
        row = r.row
        account = accounts[row["account"]]
        parts = row["parts"]
        items.append(
            BriefMatch(
                brief=BriefSummary(
                    id=row["brief_id"],
                    brand_id=row["brand_id"],
                    title=row["title"],
                    collaboration_type=row["collaboration_type"],
                    compensation_type=row["compensation_type"],
                    platforms=row["platforms"],
                    niches=row["niches"],
                    currency=row["brief_currency"],
                    fee_min_minor=row["fee_min_minor"],
                    fee_max_minor=row["fee_max_minor"],
                    application_deadline=row["application_deadline"],
                    publish_start_date=row["publish_start_date"],
                ),
                account=_account(account, settings),
                score=round(float(r.key), 4),
                parts=MatchParts(**rounded_parts(parts)),
                reasons=reasons(row, account, parts, settings),
            )
        )
    return items, cursor
