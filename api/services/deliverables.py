"""Deliverables: the units of content a deal owes, made from the accepted terms, and how
they are read. Draft reviews are in `reviews`; publishing and metrics in `publishing`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import InvalidState, NotFound
from api.models.base import utcnow
from api.models.deals import DealStatus, DealTerms, TermsDeliverable
from api.models.deliverables import (
    DealDeliverable,
    DeliverableMetrics,
    DeliverableRead,
    DeliverableStatus,
    DeliverableSubmission,
    MetricsRead,
    SubmissionRead,
)
from api.models.shipments import DealShipment
from api.pagination import PageParams, keyset, make_page, parse_int
from api.services import deals
from api.services.deals import DealAccess

# Which units an amendment keeps when it lowers a quantity: the furthest along.
_PROGRESS = {
    DeliverableStatus.published: 0,
    DeliverableStatus.approved: 1,
    DeliverableStatus.in_review: 2,
    DeliverableStatus.changes_requested: 3,
    DeliverableStatus.pending: 4,
}


# --- made from the terms --------------------------------------------------------------------


async def delivery_date(session: AsyncSession, deal_id: uuid.UUID) -> date | None:
    """When the product arrived: the latest delivery of the deal's shipments."""
    delivered = await session.scalar(
        select(func.max(col(DealShipment.delivered_at))).where(col(DealShipment.deal_id) == deal_id)
    )
    return delivered.date() if delivered is not None else None


def _schedule(
    unit: DealDeliverable,
    spec: TermsDeliverable,
    disclosure: dict[str, Any],
    delivered: date | None,
) -> None:
    if unit.status == DeliverableStatus.published:
        return  # what was published stays as it was agreed then
    unit.due_date = spec.due_date
    unit.due_days_after_delivery = spec.due_days_after_delivery
    unit.draft_due_date = (
        delivered + timedelta(days=spec.due_days_after_delivery)
        if delivered is not None and spec.due_days_after_delivery is not None
        else None
    )
    unit.disclosure = disclosure


async def apply_terms(session: AsyncSession, access: DealAccess, terms: DealTerms) -> None:
    """Make the deal's units match accepted terms: one unit per piece of content. The first
    acceptance creates them; an amendment adds units, reschedules the unpublished ones and
    marks surplus ones `dropped` (never a published one)."""
    deal = access.deal
    units = list(
        (
            await session.scalars(
                select(DealDeliverable)
                .where(col(DealDeliverable.deal_id) == deal.id)
                .order_by(col(DealDeliverable.position))
            )
        ).all()
    )
    next_position = max((u.position for u in units), default=0) + 1
    last_unit: dict[tuple[str, str], int] = defaultdict(int)
    live: dict[tuple[str, str], list[DealDeliverable]] = defaultdict(list)
    for u in units:
        key = (u.platform, u.format)
        last_unit[key] = max(last_unit[key], u.unit)
        if u.status != DeliverableStatus.dropped:
            live[key].append(u)
    delivered = await delivery_date(session, deal.id)
    optional = deals.posting_optional(access.brief)
    now = utcnow()
    for raw in terms.deliverables:
        spec = TermsDeliverable.model_validate(raw)
        key = (spec.platform.value, spec.format.value)
        have = sorted(
            live.pop(key, []), key=lambda u: (_PROGRESS[DeliverableStatus(u.status)], u.unit)
        )
        keep, surplus = have[: spec.quantity], have[spec.quantity :]
        for unit in keep:
            _schedule(unit, spec, terms.disclosure, delivered)
        for _ in range(spec.quantity - len(keep)):
            last_unit[key] += 1
            unit = DealDeliverable(
                deal_id=deal.id,
                position=next_position,
                platform=spec.platform,
                format=spec.format,
                unit=last_unit[key],
                disclosure=terms.disclosure,
            )
            next_position += 1
            _schedule(unit, spec, terms.disclosure, delivered)
            keep.append(unit)
        for unit in keep:
            unit.optional = optional
            unit.updated_at = now
            session.add(unit)
        _drop(session, surplus)
    for leftover in live.values():
        _drop(session, leftover)
    await session.flush()


def _drop(session: AsyncSession, units: Sequence[DealDeliverable]) -> None:
    for unit in units:
        if unit.status != DeliverableStatus.published:
            unit.status = DeliverableStatus.dropped
            unit.updated_at = utcnow()
            session.add(unit)


async def published_counts(session: AsyncSession, deal_id: uuid.UUID) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(col(DealDeliverable.platform), col(DealDeliverable.format), func.count())
        .where(
            col(DealDeliverable.deal_id) == deal_id,
            col(DealDeliverable.status) == DeliverableStatus.published,
        )
        .group_by(col(DealDeliverable.platform), col(DealDeliverable.format))
    )
    return {(platform, format_): count for platform, format_, count in rows.all()}


async def on_delivery(session: AsyncSession, deal_id: uuid.UUID) -> None:
    """The product arrived (or its delivery time was corrected): gifted drafts fall due
    `due_days_after_delivery` days after the latest delivery."""
    delivered = await delivery_date(session, deal_id)
    units = await session.scalars(
        select(DealDeliverable).where(
            col(DealDeliverable.deal_id) == deal_id,
            col(DealDeliverable.due_days_after_delivery).is_not(None),
            col(DealDeliverable.status).not_in(
                [DeliverableStatus.published, DeliverableStatus.dropped]
            ),
        )
    )
    for unit in units:
        assert unit.due_days_after_delivery is not None
        unit.draft_due_date = (
            delivered + timedelta(days=unit.due_days_after_delivery) if delivered else None
        )
        unit.updated_at = utcnow()
        session.add(unit)
    await session.flush()


# --- reading --------------------------------------------------------------------------------


async def to_reads(
    session: AsyncSession, access: DealAccess, units: Sequence[DealDeliverable]
) -> list[DeliverableRead]:
    """API views with every draft round and the newest metrics, in two queries."""
    ids = [u.id for u in units]
    rounds: dict[uuid.UUID, list[SubmissionRead]] = defaultdict(list)
    latest: dict[uuid.UUID, MetricsRead] = {}
    if ids:
        submissions = await session.scalars(
            select(DeliverableSubmission)
            .where(col(DeliverableSubmission.deliverable_id).in_(ids))
            .order_by(col(DeliverableSubmission.deliverable_id), col(DeliverableSubmission.round))
        )
        for s in submissions:
            rounds[s.deliverable_id].append(SubmissionRead.model_validate(s))
        for m in await session.scalars(latest_metrics(ids)):
            latest[m.deliverable_id] = MetricsRead.model_validate(m)
    max_rounds = access.brief.max_revision_rounds
    return [
        DeliverableRead(
            **{
                name: getattr(u, name)
                for name in DeliverableRead.model_fields
                if hasattr(DealDeliverable, name)
            },
            revision_rounds_left=max(0, max_rounds - u.change_requests),
            submissions=rounds[u.id],
            latest_metrics=latest.get(u.id),
        )
        for u in units
    ]


async def to_read(
    session: AsyncSession, access: DealAccess, unit: DealDeliverable
) -> DeliverableRead:
    return (await to_reads(session, access, [unit]))[0]


def latest_metrics(deliverable_ids: Any) -> Any:
    """The newest metrics reading of each deliverable: the newest `as_of`."""
    ranked = (
        select(
            col(DeliverableMetrics.id),
            func.row_number()
            .over(
                partition_by=col(DeliverableMetrics.deliverable_id),
                # The figures true most recently; of one day, the last entered.
                order_by=(
                    col(DeliverableMetrics.as_of).desc(),
                    col(DeliverableMetrics.recorded_at).desc(),
                    col(DeliverableMetrics.id).desc(),
                ),
            )
            .label("rank"),
        )
        .where(col(DeliverableMetrics.deliverable_id).in_(deliverable_ids))
        .subquery()
    )
    return select(DeliverableMetrics).join(
        ranked, and_(ranked.c.id == col(DeliverableMetrics.id), ranked.c.rank == 1)
    )


async def list_units(
    session: AsyncSession,
    access: DealAccess,
    page: PageParams,
    statuses: list[DeliverableStatus],
) -> tuple[list[DeliverableRead], str | None]:
    stmt = select(DealDeliverable).where(col(DealDeliverable.deal_id) == access.deal.id)
    if statuses:
        stmt = stmt.where(col(DealDeliverable.status).in_(statuses))
    stmt = keyset(stmt, page, [col(DealDeliverable.position)], [parse_int], [False])
    rows = (await session.scalars(stmt)).all()
    items, cursor = make_page(rows, page, lambda u: (u.position,))
    return await to_reads(session, access, items), cursor


async def get_unit(
    session: AsyncSession, access: DealAccess, deliverable_id: uuid.UUID, *, lock: bool = False
) -> DealDeliverable:
    stmt = select(DealDeliverable).where(
        col(DealDeliverable.id) == deliverable_id,
        col(DealDeliverable.deal_id) == access.deal.id,
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    unit = await session.scalar(stmt)
    if unit is None:
        raise NotFound("deliverable not found")
    return unit


def require_work_open(access: DealAccess, unit: DealDeliverable) -> None:
    """Drafts and publishing need an active deal; optional posts of a gifted deal may still
    follow after it completed."""
    status = access.deal.status
    if status == DealStatus.active or (status == DealStatus.completed and unit.optional):
        return
    raise InvalidState(
        f"a {status} deal takes no work on its deliverables: the deal must be active",
        code="deal_not_active",
    )
