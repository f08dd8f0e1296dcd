"""Deals: read by their two parties."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Security

from api.deps import SessionDep, get_principal
from api.errors import problem_responses
from api.models.deals import DealRead, DealStatus
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import deals
from api.services.tokens import Principal

router = APIRouter(prefix="/v1/deals", tags=["deals"])

DealReader = Annotated[Principal, Security(get_principal, scopes=[Scope.deals_read])]


@router.get(
    "",
    operation_id="listDeals",
    summary="Your deals, as brand or creator, newest first",
    responses=problem_responses(401, 403, 422),
)
async def list_deals(
    principal: DealReader,
    session: SessionDep,
    page: PageDep,
    status: Annotated[list[DealStatus], Query(max_length=len(DealStatus))] = [],  # noqa: B006
) -> Page[DealRead]:
    items, cursor = await deals.list_for_party(session, principal, page, status)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/{deal_id}",
    operation_id="getDeal",
    summary="One deal (its two parties only) with its current terms",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_deal(deal_id: uuid.UUID, principal: DealReader, session: SessionDep) -> DealRead:
    deal = await deals.get_for_party(session, principal, deal_id)
    return deals.to_read(deal, await deals.current_terms(session, deal))
