"""Bulk actions over one brief: many applications decided, many shipments recorded, in one
request with one result per item (each its own success or problem)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.errors import Problem
from api.models.applications import ApplicationRead
from api.models.common import StrictBool
from api.models.creators import ShippingAddressRead
from api.models.deals import DealRead
from api.models.shipments import ShipmentCreate, ShipmentRead
from api.models.terms import Product

MAX_BULK_ITEMS = 100


def _distinct(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(ids) != len(set(ids)):
        raise ValueError("list each id once")
    return ids


class ApplicationAction(StrEnum):
    shortlist = "shortlist"
    decline = "decline"
    accept = "accept"


class BulkApplicationDecision(BaseModel):
    """One decision for up to 100 applications of the brief."""

    model_config = ConfigDict(extra="forbid")
    action: ApplicationAction
    application_ids: Annotated[
        list[uuid.UUID],
        # _distinct is the rule; uniqueItems says it in the schema.
        Field(min_length=1, max_length=MAX_BULK_ITEMS, json_schema_extra={"uniqueItems": True}),
        AfterValidator(_distinct),
    ] = Field(description="Applications of this brief, handled in this order.")
    allow_over_budget: StrictBool = Field(
        default=False,
        description="Accept: go past the campaign's budget (else those items fail 409 "
        "`over_budget`).",
    )


class ApplicationResult(BaseModel):
    """One application's outcome: `status` is what the single request would have answered."""

    application_id: uuid.UUID
    status: int = Field(examples=[201])
    application: ApplicationRead | None = Field(
        default=None, description="Shortlisted or declined: the application."
    )
    deal: DealRead | None = Field(default=None, description="Accepted: the new deal.")
    problem: Problem | None = Field(default=None, description="Why this item failed.")


class BulkApplicationResults(BaseModel):
    succeeded: int
    failed: int
    results: list[ApplicationResult]


class BulkShipmentItem(ShipmentCreate):
    deal_id: uuid.UUID


class BulkShipmentCreate(BaseModel):
    """Shipments for up to 100 deals of the brief (a deal may appear more than once)."""

    model_config = ConfigDict(extra="forbid")
    shipments: list[BulkShipmentItem] = Field(min_length=1, max_length=MAX_BULK_ITEMS)


class ShipmentResult(BaseModel):
    deal_id: uuid.UUID
    status: int = Field(examples=[201])
    shipment: ShipmentRead | None = None
    problem: Problem | None = None


class BulkShipmentResults(BaseModel):
    succeeded: int
    failed: int
    results: list[ShipmentResult]


class ShippingListEntry(BaseModel):
    """One active deal of the brief whose terms in force send a product."""

    deal_id: uuid.UUID
    creator_id: uuid.UUID
    creator_display_name: str
    creator_handle: str | None
    gifted_product: Product
    address: ShippingAddressRead | None = Field(
        description="Null when the creator has not given one yet."
    )
    shipments: int = Field(description="Shipments recorded for the deal.")
    last_shipped_at: datetime | None
    last_delivered_at: datetime | None
