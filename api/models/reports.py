"""Campaign results per brief: what was agreed, published and achieved."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from api.models.deals import DealStatus


class SpendBasis(StrEnum):
    """What `spend_minor` counts."""

    fees_and_licensing = "fees_and_licensing"
    fees_licensing_and_product_value = "fees_licensing_and_product_value"


class ReportPerformance(BaseModel):
    """Sums over the newest metrics reading of each published deliverable."""

    reach: int
    impressions: int
    likes: int
    comments: int
    shares: int
    saves: int
    clicks: int
    conversions: int
    engagements: int = Field(description="likes + comments + shares + saves")


class ReportCreator(BaseModel):
    deal_id: uuid.UUID
    creator_id: uuid.UUID
    display_name: str
    deal_status: DealStatus
    deliverables: int = Field(description="Owed (dropped units excluded).")
    published: int
    on_time: int
    spend_minor: int
    performance: ReportPerformance


class BriefReport(BaseModel):
    brief_id: uuid.UUID
    currency: str | None = Field(description="The brief's currency; every amount is in it.")
    generated_at: datetime
    creators: int = Field(description="Creators with a deal that is not cancelled.")
    deals_by_status: dict[DealStatus, int]
    deliverables: int = Field(description="Owed by deals that are not cancelled.")
    deliverables_published: int
    deliverables_on_time: int = Field(description="Published on or before their due date.")
    deliverables_late: int
    spend_minor: int = Field(
        description="Sum over deals not cancelled of the fee and the usage-rights licensing "
        "fee of the terms in force (or, before any acceptance, of the proposed terms)."
    )
    spend_basis: SpendBasis = Field(
        description="`fees_and_licensing`, or with `?include_product_value=true` "
        "`fees_licensing_and_product_value`: gifted products counted at retail value (then "
        "also in each row's spend and in the cost per engagement and CPM)."
    )
    paid_minor: int = Field(description="The part of spend on deals marked paid.")
    gifted_value_minor: int = Field(
        description="Retail value of the gifted products of deals not cancelled."
    )
    performance: ReportPerformance
    engagement_rate: float | None = Field(
        description="engagements / impressions; engagements / reach when no impressions were "
        "recorded; null when neither was."
    )
    engagement_rate_basis: str | None = Field(
        description="`impressions` or `reach`: the denominator used."
    )
    cost_per_engagement_minor: Decimal | None = Field(
        description="spend_minor / engagements, in minor units (2 decimals); null without "
        "engagements."
    )
    cpm_minor: Decimal | None = Field(
        description="spend_minor / impressions * 1000, in minor units (2 decimals); null "
        "without impressions."
    )
    rows: list[ReportCreator] = Field(
        description="One row per deal (at most the brief's slots), cancelled ones included."
    )
