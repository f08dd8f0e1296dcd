"""What the brand may do with a deal's content on a given date, and expiry notices sent."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import Date
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import timestamp_field
from api.models.terms import AdPermission, UsageChannel, UsageRights

EXPIRY_NOTICE_DAYS = 14


class UsageRightsNotice(SQLModel, table=True):
    """That both parties were told a terms version's rights expire soon: at most once per
    accepted version (the primary key makes a second notice impossible)."""

    __tablename__ = "usage_rights_notices"

    deal_terms_id: uuid.UUID = SQLField(
        foreign_key="deal_terms.id", primary_key=True, ondelete="CASCADE"
    )
    expires_on: date = SQLField(sa_type=Date)
    sent_at: datetime = timestamp_field()


class RightsStatus(StrEnum):
    not_agreed = "not_agreed"
    not_started = "not_started"
    in_force = "in_force"
    expired = "expired"
    cancelled = "cancelled"


class UsageRightsOnDate(BaseModel):
    """The rights the brand holds on `on`. Only `in_force` grants anything."""

    deal_id: uuid.UUID
    on: date
    status: RightsStatus = Field(
        description="`not_agreed`: no terms version was accepted by then; `not_started`: "
        "nothing was published by then (the term starts at the first publication); "
        "`in_force`; `expired`: the term ended before that date; `cancelled`: the deal was "
        "cancelled on or before that date."
    )
    in_force: bool
    terms_version: int | None = Field(
        description="The accepted version that governs that date (the newest accepted by then)."
    )
    starts_on: date | None = Field(description="First publication of the deal's content.")
    expires_on: date | None = Field(
        description="The first day without rights (starts_on + duration_days); null if perpetual."
    )
    perpetual: bool
    days_left: int | None = Field(
        description="Days of rights from `on` (inclusive) to expiry; null if perpetual or not "
        "in force. The last day in force has 1 day left."
    )
    channels: list[UsageChannel] = Field(
        description="Channels the brand may use that day; `paid_social` only inside the ad window."
    )
    paid_ads_allowed: bool = Field(
        description="Paid social (boosting, partnership ads, allowlisting, Spark codes) is "
        "allowed that day: granted, and inside the ad window."
    )
    ad_permission: AdPermission
    ad_starts_on: date | None = Field(description="The ad window; defaults to the term.")
    ad_ends_on: date | None
    worldwide: bool | None
    countries: list[str]
    exclusivity_in_force: bool = Field(
        description="The creator may not promote the competitor categories that day; "
        "exclusivity runs for exclusivity_days from the first publication."
    )
    exclusivity_categories: list[str]
    exclusivity_ends_on: date | None = Field(description="The first day without exclusivity.")
    grant: UsageRights | None = Field(
        description="The full grant of the governing version (impressions cap, raw footage, "
        "edits, credit, portfolio and AI/likeness clauses, licensing fee)."
    )
