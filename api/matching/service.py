"""Matching: score an application, rank creators for a brief and briefs for a creator.

The model is `api.matching.model` (documented there); ranking runs in each worker's
memory (`api.matching.creator_index`, `api.matching.brief_index`, loaded through
`api.matching.ranking`); this module builds what a page shows and explains it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import NotFound
from api.matching import model
from api.matching import ranking as match_search
from api.matching.brief_index import BriefIndex
from api.matching.creator_index import CreatorIndex
from api.matching.explain import reasons
from api.matching.requirements import qualifying_accounts
from api.models.briefs import Brief
from api.models.creators import Creator, SocialAccount
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
from api.services.creators import tier_for
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


def _rounded(parts: Mapping[str, float]) -> dict[str, float]:
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
    features = await match_search.brief_features(session, brief.id)
    rows = await match_search.account_features(
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
    return round(best[0], 4), _rounded(best[1])


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
    """A page of creators ranked for `brief` (see `match_search.rank_creators`)."""
    features = await match_search.brief_features(session, brief.id)
    if features is None:
        raise NotFound("brief not found")
    ranked, cursor = await match_search.rank_creators(
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
                parts=MatchParts(**_rounded(parts)),
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
    """A page of open briefs ranked for `creator` (see `match_search.rank_briefs`)."""
    accounts = await match_search.account_features(session, creator_id=creator.id)
    ranked, cursor = await match_search.rank_briefs(
        session, settings, index, creator.id, accounts, page
    )
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
                parts=MatchParts(**_rounded(parts)),
                reasons=reasons(row, account, parts, settings),
            )
        )
    return items, cursor
