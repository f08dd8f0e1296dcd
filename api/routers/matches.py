"""Matching: creators ranked for a brand's brief, open briefs ranked for a creator."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Security

from api.deps import (
    BriefIndexDep,
    CreatorIndexDep,
    SessionDep,
    SettingsDep,
    current_creator,
    require_brand,
)
from api.errors import problem_responses
from api.matching import service as matching
from api.models.creators import Creator
from api.models.matching import BriefMatch, CreatorMatch, CreatorMatchFilters
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import briefs
from api.services.tokens import Principal

router = APIRouter(prefix="/v1", tags=["matching"])

BrandReader = Annotated[Principal, Security(require_brand, scopes=[Scope.briefs_read])]
CreatorReader = Annotated[Creator, Security(current_creator, scopes=[Scope.briefs_read])]

_SCORING = (
    "The score (0-1) is the weighted mean of its parts, each in [0, 1], 0.5 meaning neutral "
    "(not asked for, or unknown): tier fit, niche overlap, audience country, gender and age "
    "fit, engagement against the tier's platform norm, price fit of the rate card against "
    "the budget, and reliability (completed deals and on-time publishing). `reasons` names "
    "the most telling ones."
)


@router.get(
    "/briefs/{brief_id}/matches",
    operation_id="listBriefMatches",
    summary="Creators ranked for your brief (its brand)",
    description=(
        "Creators who meet every hard requirement of the brief (platform, tier or follower "
        "bounds, creator country, minimum engagement rate, gifting for gifted briefs), best "
        "first, without those who already applied (whatever became of it). Each comes with "
        "the account the score is based on. " + _SCORING + " The optional filters narrow the "
        "list further. Any state of the brief may be matched, drafts included."
    ),
    responses=problem_responses(401, 403, 404, 422),
)
async def list_brief_matches(
    brief_id: uuid.UUID,
    principal: BrandReader,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    filters: Annotated[CreatorMatchFilters, Query()],
    index: CreatorIndexDep,
) -> Page[CreatorMatch]:
    brief = await briefs.get_own_brief(session, principal, brief_id)
    items, cursor = await matching.creators_for_brief(
        session, settings, index, brief, filters, page
    )
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/me/matches",
    operation_id="listMyMatches",
    summary="Open briefs ranked for you (creators)",
    description=(
        "Open briefs, deadline ahead, that you are eligible for through one of your social "
        "accounts, best first, without those you applied to. Each names your account that "
        "fits best. " + _SCORING
    ),
    responses=problem_responses(401, 403, 422),
)
async def list_my_matches(
    creator: CreatorReader,
    session: SessionDep,
    settings: SettingsDep,
    index: BriefIndexDep,
    page: PageDep,
) -> Page[BriefMatch]:
    items, cursor = await matching.briefs_for_creator(session, settings, index, creator, page)
    return Page(items=items, next_cursor=cursor)
