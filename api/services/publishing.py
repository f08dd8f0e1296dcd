"""Publishing a deliverable (late flag, disclosure check) and its performance figures."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, FieldError, InvalidState, Unprocessable
from api.models.base import utcnow
from api.models.deals import DealStatus
from api.models.deliverables import (
    DealDeliverable,
    DeliverableMetrics,
    DeliverableRead,
    DeliverableStatus,
    DisclosureCheck,
    MetricsCreate,
    MetricsRead,
    PublishDeliverable,
)
from api.models.terms import Disclosure
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.services import deals, events
from api.services.deal_timeline import moment_errors
from api.services.deals import DealAccess
from api.services.deliverables import require_work_open, to_read
from api.urls import PLATFORM_DOMAINS, on_platform

_HASHTAG = re.compile(r"#\w+")
_MENTION = re.compile(r"@[A-Za-z0-9_.\-]+")


def check_disclosure(caption: str, checklist: Disclosure, label_on: bool) -> DisclosureCheck:
    """Each hashtag and mention must appear as a whole word (case-insensitive: `#ad` is not
    found in `#adventure`); the paid-partnership label must be on if the checklist asks."""
    hashtags = {t.lower() for t in _HASHTAG.findall(caption)}
    mentions = {m.rstrip(".-").lower() for m in _MENTION.findall(caption)}
    missing_hashtags = [h for h in checklist.hashtags if h.lower() not in hashtags]
    missing_mentions = [m for m in checklist.mentions if m.lower() not in mentions]
    label_missing = checklist.paid_partnership_label and not label_on
    return DisclosureCheck(
        compliant=not (missing_hashtags or missing_mentions or label_missing),
        missing_hashtags=missing_hashtags,
        missing_mentions=missing_mentions,
        paid_partnership_label_missing=label_missing,
    )


async def publish(
    session: AsyncSession, access: DealAccess, unit: DealDeliverable, data: PublishDeliverable
) -> DeliverableRead:
    """The creator records the live post of an approved draft. Late posts are flagged and the
    caption's disclosure is checked; a missing item is reported, not refused."""
    require_work_open(access, unit)
    if unit.status == DeliverableStatus.published:
        raise Conflict("this deliverable is already published", code="already_published")
    if unit.status != DeliverableStatus.approved:
        raise InvalidState(
            f"a {unit.status} deliverable cannot be published: the draft needs approval first",
            code="not_approved",
        )
    now = utcnow()
    published_at = data.published_at or now
    errors = moment_errors(access.deal, {"published_at": published_at}, now)
    if not on_platform(data.live_url, unit.platform):
        domains = " or ".join(PLATFORM_DOMAINS[unit.platform])
        errors.append(
            FieldError(
                loc=["body", "live_url"],
                msg=f"a {unit.platform} post's link is on {domains}",
                type="not_on_platform",
            )
        )
    if errors:
        raise Unprocessable("the publication is invalid", errors=errors)
    check = check_disclosure(
        data.caption, Disclosure.model_validate(unit.disclosure), data.paid_partnership_label
    )
    reference = unit.due_date or unit.draft_due_date
    unit.status = DeliverableStatus.published
    unit.published_url = data.live_url
    unit.published_at = published_at
    unit.published_caption = data.caption
    unit.paid_partnership_label = data.paid_partnership_label
    unit.late = reference is not None and published_at.date() > reference
    unit.disclosure_check = check.model_dump(mode="json")
    unit.updated_at = now
    session.add(unit)
    deal = access.deal
    day = published_at.date()
    if deal.rights_start_date is None or day < deal.rights_start_date:
        deal.rights_start_date = day
        deal.updated_at = now
        session.add(deal)
    await session.flush()
    read = await to_read(session, access, unit)
    await events.record(
        session, "deliverable.published", read, brand_id=deal.brand_id, creator_id=deal.creator_id
    )
    await deals.maybe_complete(session, access)
    return read


async def record_metrics(
    session: AsyncSession, access: DealAccess, unit: DealDeliverable, data: MetricsCreate
) -> DeliverableMetrics:
    """A reading of a published deliverable's figures, by either party; readings are kept."""
    assert access.party is not None
    if access.deal.status == DealStatus.cancelled:
        raise InvalidState("a cancelled deal takes no metrics", code="deal_cancelled")
    if unit.status != DeliverableStatus.published:
        raise InvalidState("only published deliverables have metrics", code="not_published")
    today = utcnow().date()
    as_of = data.as_of or today
    assert unit.published_at is not None  # published
    if not unit.published_at.date() <= as_of <= today:
        raise Unprocessable(
            "as_of must lie between the publication and today",
            errors=[
                FieldError(
                    loc=["body", "as_of"], msg="not between publication and today", type="range"
                )
            ],
        )
    metrics = DeliverableMetrics(
        deliverable_id=unit.id,
        source=access.party,
        recorded_by_user_id=access.user_id,
        **data.model_dump(exclude={"as_of"}),
        as_of=as_of,
    )
    session.add(metrics)
    await session.flush()
    deal = access.deal
    await events.record(
        session,
        "deliverable.metrics_recorded",
        MetricsRead.model_validate(metrics),
        brand_id=deal.brand_id,
        creator_id=deal.creator_id,
    )
    return metrics


async def list_metrics(
    session: AsyncSession, unit: DealDeliverable, page: PageParams
) -> tuple[list[MetricsRead], str | None]:
    """Every reading of the deliverable, newest first."""
    stmt = select(DeliverableMetrics).where(col(DeliverableMetrics.deliverable_id) == unit.id)
    stmt = keyset(
        stmt,
        page,
        [col(DeliverableMetrics.recorded_at), col(DeliverableMetrics.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.scalars(stmt)).all()
    items, cursor = make_page(rows, page, lambda m: (m.recorded_at, m.id))
    return [MetricsRead.model_validate(m) for m in items], cursor
