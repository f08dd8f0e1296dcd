"""Usage rights on a date, and the expiry notice both parties get 14 days ahead.

The term of every grant runs from the first publication of the deal's content
(`deals.rights_start_date`): before anything is published the brand holds no rights
(`not_started`), since there is no content to use yet. A date is governed by the newest
terms version accepted on or before it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.models.deals import Deal, DealStatus, DealTerms
from api.models.terms import AdPermission, UsageChannel, UsageRights
from api.models.usage_rights import (
    EXPIRY_NOTICE_DAYS,
    RightsStatus,
    UsageRightsNotice,
    UsageRightsOnDate,
)
from api.services import events


async def _governing(session: AsyncSession, deal: Deal, on: date) -> DealTerms | None:
    """The newest version accepted by the end of `on` (UTC)."""
    end_of_day = datetime.combine(on + timedelta(days=1), datetime.min.time(), UTC)
    return await session.scalar(
        select(DealTerms)
        .where(
            col(DealTerms.deal_id) == deal.id,
            col(DealTerms.accepted_at).is_not(None),
            col(DealTerms.accepted_at) < end_of_day,
        )
        .order_by(col(DealTerms.version).desc())
        .limit(1)
    )


def _nothing(deal: Deal, on: date, status: RightsStatus, **values: Any) -> UsageRightsOnDate:
    base: dict[str, Any] = {
        "deal_id": deal.id,
        "on": on,
        "status": status,
        "in_force": False,
        "terms_version": None,
        "starts_on": deal.rights_start_date,
        "expires_on": None,
        "perpetual": False,
        "days_left": None,
        "channels": [],
        "paid_ads_allowed": False,
        "ad_permission": AdPermission.none,
        "ad_starts_on": None,
        "ad_ends_on": None,
        "worldwide": None,
        "countries": [],
        "exclusivity_in_force": False,
        "exclusivity_categories": [],
        "exclusivity_ends_on": None,
        "grant": None,
    }
    base.update(values)
    return UsageRightsOnDate.model_validate(base)


async def rights_on(session: AsyncSession, deal: Deal, on: date) -> UsageRightsOnDate:
    """What the brand may do with the deal's content on `on`."""
    if deal.cancelled_at is not None and deal.cancelled_at.date() <= on:
        return _nothing(deal, on, RightsStatus.cancelled)
    terms = await _governing(session, deal, on)
    if terms is None:
        return _nothing(deal, on, RightsStatus.not_agreed)
    grant = UsageRights.model_validate(terms.usage_rights)
    start = deal.rights_start_date
    described: dict[str, Any] = {
        "terms_version": terms.version,
        "perpetual": grant.perpetual,
        "grant": grant,
    }
    if start is None or on < start:
        return _nothing(deal, on, RightsStatus.not_started, **described)
    expires = None if grant.duration_days is None else start + timedelta(days=grant.duration_days)
    exclusivity_ends = start + timedelta(days=grant.exclusivity_days)
    exclusive = on < exclusivity_ends
    ad_starts = grant.ad_start_date or start
    ad_ends = grant.ad_end_date or (expires - timedelta(days=1) if expires else None)
    described |= {
        "expires_on": expires,
        "ad_permission": grant.ad_permission,
        "ad_starts_on": ad_starts,
        "ad_ends_on": ad_ends,
        "exclusivity_in_force": exclusive,
        "exclusivity_categories": grant.exclusivity_categories if exclusive else [],
        "exclusivity_ends_on": exclusivity_ends if grant.exclusivity_days else None,
    }
    if expires is not None and on >= expires:
        return _nothing(deal, on, RightsStatus.expired, **described)
    paid_ads = (
        UsageChannel.paid_social in grant.channels
        and ad_starts <= on
        and (ad_ends is None or on <= ad_ends)
    )
    channels = [c for c in grant.channels if c != UsageChannel.paid_social or paid_ads]
    return UsageRightsOnDate(
        deal_id=deal.id,
        on=on,
        status=RightsStatus.in_force,
        in_force=True,
        starts_on=start,
        days_left=(expires - on).days if expires else None,
        channels=channels,
        paid_ads_allowed=paid_ads,
        worldwide=grant.worldwide,
        countries=grant.countries,
        **described,
    )


# A grant's expiry: the term's start plus its duration (perpetual grants never expire).
_EXPIRING = text(
    """
    SELECT t.id AS terms_id, t.version, d.id AS deal_id, d.brand_id, d.creator_id,
           d.rights_start_date,
           d.rights_start_date + (t.usage_rights->>'duration_days')::int AS expires_on
    FROM deal_terms t
    JOIN deals d ON d.id = t.deal_id AND d.accepted_version = t.version
    WHERE d.status <> CAST(:cancelled AS varchar)
      AND d.rights_start_date IS NOT NULL
      AND jsonb_typeof(t.usage_rights->'duration_days') = 'number'
      AND d.rights_start_date + (t.usage_rights->>'duration_days')::int
          - CAST(:notice AS integer) <= CAST(:today AS date)
      AND d.rights_start_date + (t.usage_rights->>'duration_days')::int > CAST(:today AS date)
      AND NOT EXISTS (SELECT 1 FROM usage_rights_notices n WHERE n.deal_terms_id = t.id)
    ORDER BY t.id
    LIMIT CAST(:batch AS integer)
    FOR UPDATE OF t SKIP LOCKED
    """
)


async def warn_expiring(session: AsyncSession, *, limit: int, today: date | None = None) -> int:
    """Tell both parties (one `usage_rights.expiring` event for the brand and the creator)
    when the rights in force expire within 14 days; once per deal and terms version.

    Rows are claimed with `SKIP LOCKED` and the notice's primary key makes a second event
    impossible even if two workers race. Returns how many notices it sent.
    """
    today = today or datetime.now(UTC).date()
    rows = (
        await session.execute(
            _EXPIRING,
            {
                "cancelled": DealStatus.cancelled.value,
                "notice": EXPIRY_NOTICE_DAYS,
                "today": today,
                "batch": limit,
            },
        )
    ).all()
    sent = 0
    for row in rows:
        claimed = await session.scalar(
            insert(UsageRightsNotice)
            .values(deal_terms_id=row.terms_id, expires_on=row.expires_on)
            .on_conflict_do_nothing()
            .returning(col(UsageRightsNotice.deal_terms_id))
        )
        if claimed is None:
            continue
        await events.record(
            session,
            "usage_rights.expiring",
            {
                "deal_id": str(row.deal_id),
                "terms_version": row.version,
                "rights_start_date": row.rights_start_date.isoformat(),
                "expires_on": row.expires_on.isoformat(),
                "days_left": (row.expires_on - today).days,
            },
            brand_id=row.brand_id,
            creator_id=row.creator_id,
        )
        sent += 1
    return sent
