"""The activity trail of a brief and of a deal."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Security

from api.deps import SessionDep, get_principal, require_brand
from api.errors import problem_responses
from api.models.activity import ActivityRead
from api.models.memberships import BrandRole
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import activity, briefs, deals
from api.services.tokens import Principal

router = APIRouter(prefix="/v1", tags=["activity"])

BriefTrailReader = Annotated[Principal, Security(require_brand, scopes=[Scope.briefs_read])]
DealTrailReader = Annotated[Principal, Security(get_principal, scopes=[Scope.deals_read])]


@router.get(
    "/briefs/{brief_id}/activity",
    operation_id="getBriefActivity",
    summary="Who did what on the brief, its applications and invitations (owners, managers)",
    description="Newest first: action, acting user (null: the platform), brand, time and "
    "request id. Viewers get 403; anyone outside the brand 404.",
    responses=problem_responses(401, 403, 404, 422),
)
async def brief_activity(
    brief_id: uuid.UUID, principal: BriefTrailReader, session: SessionDep, page: PageDep
) -> Page[ActivityRead]:
    brief = await briefs.get_own_brief(session, principal, brief_id, BrandRole.manager)
    items, cursor = await activity.trail(session, page, brief_id=brief.id)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/deals/{deal_id}/activity",
    operation_id="getDealActivity",
    summary="Who did what on the deal (its creator, the brand's owners and managers)",
    description="Newest first: terms, deliverables, shipments, messages; the acting user "
    "(null: the platform), brand, time and request id.",
    responses=problem_responses(401, 403, 404, 422),
)
async def deal_activity(
    deal_id: uuid.UUID, principal: DealTrailReader, session: SessionDep, page: PageDep
) -> Page[ActivityRead]:
    access = await deals.load(session, principal, deal_id, need=BrandRole.manager)
    items, cursor = await activity.trail(session, page, deal_id=access.deal.id)
    return Page(items=items, next_cursor=cursor)
