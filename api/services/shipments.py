"""Gifting logistics: the creator's address for the brand of an active deal, and shipments.

The address is private: only the brand of a deal that is active (accepted, not cancelled
or completed) and that sends a product may read it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, FieldError, NotFound, Unprocessable
from api.models.base import utcnow
from api.models.bulk import ShippingListEntry
from api.models.common import sent_values
from api.models.creators import Creator, ShippingAddress, ShippingAddressRead
from api.models.deals import Deal, DealStatus, DealTerms
from api.models.shipments import (
    MAX_SHIPMENTS_PER_DEAL,
    DealShipment,
    ShipmentCreate,
    ShipmentRead,
    ShipmentUpdate,
)
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.services import deals, deliverables, events
from api.services.deal_timeline import moment_errors
from api.services.deals import DealAccess


async def _require_product(session: AsyncSession, access: DealAccess, action: str) -> None:
    deals.require_active(access.deal, action)
    terms = await deals.terms_in_force(session, access.deal)
    if terms is None or terms.gifted_product is None:
        raise Conflict("the terms in force send no product", code="nothing_to_ship")


async def shipping_address(session: AsyncSession, access: DealAccess) -> ShippingAddress:
    """The creator's address, for the brand of an active deal that sends a product."""
    await _require_product(session, access, "reveal the shipping address")
    address = await session.get(ShippingAddress, access.deal.creator_id)
    if address is None:
        raise NotFound("the creator has no shipping address on file", code="no_shipping_address")
    return address


def _time_errors(
    access: DealAccess,
    given: dict[str, datetime | None],
    shipped: datetime | None,
    delivered: datetime | None,
) -> list[FieldError]:
    """Times sent lie between the deal's creation and now; a delivery needs a shipment
    before it."""
    sent: dict[str, datetime | None] = {
        name: given[name] for name in ("shipped_at", "delivered_at") if name in given
    }
    errors = moment_errors(access.deal, sent, utcnow())
    if delivered is not None and shipped is None:
        errors.append(
            FieldError(loc=["body", "shipped_at"], msg="a delivery needs it", type="missing")
        )
    elif delivered is not None and shipped is not None and delivered < shipped:
        errors.append(
            FieldError(loc=["body", "delivered_at"], msg="is before shipped_at", type="range")
        )
    return errors


async def _after_change(
    session: AsyncSession,
    access: DealAccess,
    shipment: DealShipment,
    event_type: str,
    delivered: bool,
) -> None:
    await session.flush()
    deal = access.deal
    payload = ShipmentRead.model_validate(shipment)
    await events.record(
        session, event_type, payload, brand_id=deal.brand_id, creator_id=deal.creator_id
    )
    if delivered:
        await deliverables.on_delivery(session, deal.id)
        await deals.maybe_complete(session, access)


async def create(session: AsyncSession, access: DealAccess, data: ShipmentCreate) -> DealShipment:
    """Record a parcel to the creator; with a delivery time, gifted drafts fall due."""
    await _require_product(session, access, "record shipments")
    count = await session.scalar(
        select(func.count()).where(col(DealShipment.deal_id) == access.deal.id)
    )
    if (count or 0) >= MAX_SHIPMENTS_PER_DEAL:
        raise Conflict(
            f"a deal has at most {MAX_SHIPMENTS_PER_DEAL} shipments", code="too_many_shipments"
        )
    errors = _time_errors(access, data.model_dump(), data.shipped_at, data.delivered_at)
    if errors:
        raise Unprocessable("the shipment is invalid", errors=errors)
    shipment = DealShipment(
        deal_id=access.deal.id, created_by_user_id=access.user_id, **data.model_dump()
    )
    session.add(shipment)
    await _after_change(
        session, access, shipment, "shipment.created", data.delivered_at is not None
    )
    return shipment


async def get(session: AsyncSession, access: DealAccess, shipment_id: uuid.UUID) -> DealShipment:
    shipment = await session.scalar(
        select(DealShipment).where(
            col(DealShipment.id) == shipment_id, col(DealShipment.deal_id) == access.deal.id
        )
    )
    if shipment is None:
        raise NotFound("shipment not found")
    return shipment


async def update(
    session: AsyncSession, access: DealAccess, shipment: DealShipment, data: ShipmentUpdate
) -> DealShipment:
    """Change carrier, tracking number, shipped or delivered time (none can be cleared)."""
    await _require_product(session, access, "record shipments")
    changes = sent_values(data)
    shipped = changes.get("shipped_at", shipment.shipped_at)
    delivered = changes.get("delivered_at", shipment.delivered_at)
    errors = _time_errors(access, changes, shipped, delivered)
    if errors:
        raise Unprocessable("the shipment is invalid", errors=errors)
    delivery_changed = (
        "delivered_at" in changes and changes["delivered_at"] != shipment.delivered_at
    )
    shipment.sqlmodel_update(changes)
    shipment.updated_at = utcnow()
    session.add(shipment)
    await _after_change(session, access, shipment, "shipment.updated", delivery_changed)
    return shipment


async def list_for_deal(
    session: AsyncSession, access: DealAccess, page: PageParams
) -> tuple[list[ShipmentRead], str | None]:
    stmt = select(DealShipment).where(col(DealShipment.deal_id) == access.deal.id)
    stmt = keyset(
        stmt,
        page,
        [col(DealShipment.created_at), col(DealShipment.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.scalars(stmt)).all()
    items, cursor = make_page(rows, page, lambda s: (s.created_at, s.id))
    return [ShipmentRead.model_validate(s) for s in items], cursor


# --- a brief's shipping list ----------------------------------------------------------------

_SHIPPED = (
    select(
        col(DealShipment.deal_id),
        func.count().label("shipments"),
        func.max(DealShipment.shipped_at).label("last_shipped_at"),
        func.max(DealShipment.delivered_at).label("last_delivered_at"),
    )
    .group_by(col(DealShipment.deal_id))
    .subquery()
)


def shipping_list_query(brief_id: uuid.UUID) -> Select[Any]:
    """The brief's active deals whose terms in force send a product, with the creator's
    address (the same rule as one deal's address: active, with a product) and shipments."""
    return (
        select(
            Deal,
            Creator,
            col(DealTerms.gifted_product),
            ShippingAddress,
            _SHIPPED.c.shipments,
            _SHIPPED.c.last_shipped_at,
            _SHIPPED.c.last_delivered_at,
        )
        .join(Creator, col(Creator.id) == col(Deal.creator_id))
        .join(
            DealTerms,
            (col(DealTerms.deal_id) == col(Deal.id))
            & (col(DealTerms.version) == col(Deal.accepted_version)),
        )
        .outerjoin(ShippingAddress, col(ShippingAddress.creator_id) == col(Deal.creator_id))
        .outerjoin(_SHIPPED, _SHIPPED.c.deal_id == col(Deal.id))
        .where(
            col(Deal.brief_id) == brief_id,
            col(Deal.status) == DealStatus.active,
            # A JSON column keeps "no product" as JSON null, which IS NOT NULL lets through.
            func.jsonb_typeof(col(DealTerms.gifted_product)) == "object",
        )
    )


def shipping_entry(row: Any) -> ShippingListEntry:
    deal, creator, product, address, count, shipped, delivered = row
    return ShippingListEntry(
        deal_id=deal.id,
        creator_id=creator.id,
        creator_display_name=creator.display_name,
        creator_handle=creator.handle,
        gifted_product=product,
        address=ShippingAddressRead.model_validate(address) if address else None,
        shipments=count or 0,
        last_shipped_at=shipped,
        last_delivered_at=delivered,
    )


async def shipping_list(
    session: AsyncSession, brief_id: uuid.UUID, page: PageParams
) -> tuple[list[ShippingListEntry], str | None]:
    """One page of the brief's shipping list, oldest deal first."""
    stmt = keyset(
        shipping_list_query(brief_id),
        page,
        [col(Deal.created_at), col(Deal.id)],
        [parse_datetime, uuid.UUID],
        [False, False],
    )
    rows = (await session.execute(stmt)).all()
    items, cursor = make_page(rows, page, lambda r: (r[0].created_at, r[0].id))
    return [shipping_entry(r) for r in items], cursor
