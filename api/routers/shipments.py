"""Gifting logistics of a deal: the creator's address (brand only, active deals only) and
the shipments."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import SessionDep
from api.errors import problem_responses
from api.models.creators import ShippingAddressRead
from api.models.shipments import ShipmentCreate, ShipmentRead, ShipmentUpdate
from api.pagination import Page, PageDep
from api.routers.deal_access import BrandDeal, BrandReadDeal, ReadableDeal
from api.services import shipments

router = APIRouter(prefix="/v1/deals/{deal_id}", tags=["gifting"])


@router.get(
    "/shipping-address",
    operation_id="getDealShippingAddress",
    summary="The creator's shipping address (the deal's brand, while the deal is active)",
    description="Private: only the brand of an active deal whose terms send a product sees "
    "it. Before acceptance, after cancellation or completion: 409 `deal_not_active`; no "
    "product: 409 `nothing_to_ship`; creators 403; anyone else 404.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def get_shipping_address(access: BrandReadDeal, session: SessionDep) -> ShippingAddressRead:
    address = await shipments.shipping_address(session, access)
    return ShippingAddressRead.model_validate(address)


@router.get(
    "/shipments",
    operation_id="listShipments",
    summary="The deal's shipments, newest first (either party)",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_shipments(
    access: ReadableDeal, session: SessionDep, page: PageDep
) -> Page[ShipmentRead]:
    """Shipments recorded for a gifted deal, newest first."""
    items, cursor = await shipments.list_for_deal(session, access, page)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/shipments",
    status_code=status.HTTP_201_CREATED,
    operation_id="createShipment",
    summary="Record a shipment to the creator (brand)",
    description="For active deals that send a product. Once `delivered_at` is known, the "
    "draft of a gifted deliverable is due `due_days_after_delivery` days after the latest "
    "delivery; a gifted brief that does not require posting completes its deal then.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_shipment(
    data: ShipmentCreate, access: BrandDeal, session: SessionDep
) -> ShipmentRead:
    return ShipmentRead.model_validate(await shipments.create(session, access, data))


@router.patch(
    "/shipments/{shipment_id}",
    operation_id="updateShipment",
    summary="Update a shipment: carrier, tracking number, shipped and delivered times (brand)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_shipment(
    shipment_id: uuid.UUID, data: ShipmentUpdate, access: BrandDeal, session: SessionDep
) -> ShipmentRead:
    """Send only the fields to change, for example `delivered_at` once the parcel arrived."""
    shipment = await shipments.get(session, access, shipment_id)
    return ShipmentRead.model_validate(await shipments.update(session, access, shipment, data))
