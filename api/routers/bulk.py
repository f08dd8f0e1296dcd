"""Campaign operations at scale, per brief: decide many applications, record many
shipments, and read the shipping list. Each bulk answer is a 200 with one result per item
(its own status, and its own problem when it failed); the brief's ownership is checked once,
as for every brief route."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, Security

from api.deps import SessionDep, SettingsDep, require_brand
from api.errors import problem_responses
from api.models.bulk import (
    BulkApplicationDecision,
    BulkApplicationResults,
    BulkShipmentCreate,
    BulkShipmentResults,
    ShippingListEntry,
)
from api.models.deals import DealRead, DealStatus
from api.models.memberships import BrandRole
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import briefs, bulk, deals, exports, shipments
from api.services.exports import ExportFormat
from api.services.tokens import Principal

router = APIRouter(prefix="/v1/briefs/{brief_id}", tags=["campaign operations"])

ApplicationsWriter = Annotated[
    Principal, Security(require_brand, scopes=[Scope.applications_write])
]
DealsWriter = Annotated[Principal, Security(require_brand, scopes=[Scope.deals_write])]
DealsReader = Annotated[Principal, Security(require_brand, scopes=[Scope.deals_read])]

_BULK = (
    "One transaction, one savepoint per item: an item that fails is undone alone and "
    "answered in its place with its own `status` and `problem` (what the single request "
    "would have answered); the others stand. The answer is 200 whenever the request itself "
    "is valid, with `succeeded` and `failed` counts. `Idempotency-Key` is honoured: a retry "
    "replays the first answer."
)


@router.post(
    "/applications/bulk",
    operation_id="decideApplicationsInBulk",
    summary="Shortlist, decline or accept up to 100 applications of the brief (brand)",
    description=_BULK + " Accepting honours the slots as single accepts do: once they are "
    "taken, the remaining items fail with 409 `slots_filled`. Applications of other briefs "
    "answer 404.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def decide_applications(
    brief_id: uuid.UUID,
    data: BulkApplicationDecision,
    principal: ApplicationsWriter,
    session: SessionDep,
    settings: SettingsDep,
) -> BulkApplicationResults:
    brief = await briefs.get_own_brief(session, principal, brief_id, BrandRole.manager)
    return await bulk.decide_applications(session, settings, principal, brief, data)


@router.post(
    "/shipments",
    operation_id="createShipmentsInBulk",
    summary="Record shipments for up to 100 deals of the brief (brand)",
    description=_BULK + " Each item is checked as `POST /v1/deals/{id}/shipments` checks "
    "it (active deal, a product to ship); deals of other briefs answer 404.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_shipments(
    brief_id: uuid.UUID,
    data: BulkShipmentCreate,
    principal: DealsWriter,
    session: SessionDep,
) -> BulkShipmentResults:
    brief = await briefs.get_own_brief(session, principal, brief_id, BrandRole.manager)
    return await bulk.create_shipments(session, principal, brief, data)


@router.get(
    "/shipping-list",
    operation_id="getShippingList",
    summary="Where to send the product: the brief's active gifting deals (brand)",
    description="Every active deal of the brief whose terms in force send a product, oldest "
    "first, with the creator's shipping address (null until given) and the shipments so "
    "far. Deals not yet agreed, cancelled or completed are not listed: their addresses stay "
    "private. CSV with `?format=csv` (one line per deal, the address in columns).",
    response_model=Page[ShippingListEntry],
    responses={**exports.CSV_RESPONSE, **problem_responses(401, 403, 404, 422)},
)
async def shipping_list(
    brief_id: uuid.UUID,
    principal: DealsReader,
    session: SessionDep,
    page: PageDep,
    request: Request,
    format_: ExportFormat = None,
) -> Page[ShippingListEntry] | Response:
    brief = await briefs.get_own_brief(session, principal, brief_id, BrandRole.manager)
    if exports.wants_csv(request, format_):
        return exports.shipping_list(request, brief.id)
    items, cursor = await shipments.shipping_list(session, brief.id, page)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/deals",
    operation_id="listBriefDeals",
    summary="The brief's deals with their status, newest first (brand)",
    description="Each deal with its current terms; `?status=` filters. CSV with "
    "`?format=csv`: one line per deal with its status and the terms in force.",
    response_model=Page[DealRead],
    responses={**exports.CSV_RESPONSE, **problem_responses(401, 403, 404, 422)},
)
async def list_brief_deals(
    brief_id: uuid.UUID,
    principal: DealsReader,
    session: SessionDep,
    page: PageDep,
    request: Request,
    status: Annotated[list[DealStatus], Query(max_length=len(DealStatus))] = [],  # noqa: B006
    format_: ExportFormat = None,
) -> Page[DealRead] | Response:
    brief = await briefs.get_own_brief(session, principal, brief_id)
    if exports.wants_csv(request, format_):
        return exports.deals(request, brief.id, status)
    items, cursor = await deals.list_for_party(session, principal, page, status, brief_id=brief.id)
    return Page(items=items, next_cursor=cursor)
