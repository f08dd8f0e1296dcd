"""Campaign results for a brief, from its deals, their deliverables and the newest metrics
reading of each published deliverable."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.models.base import utcnow
from api.models.briefs import Brief
from api.models.creators import Creator
from api.models.deals import Deal, DealStatus, DealTerms
from api.models.deliverables import METRIC_NAMES, DealDeliverable, DeliverableStatus
from api.models.reports import BriefReport, ReportCreator, ReportPerformance, SpendBasis
from api.services.deals import terms_in_force_join
from api.services.deliverables import latest_metrics

_CENT = Decimal("0.01")
_ENGAGEMENTS = ("likes", "comments", "shares", "saves")


def _performance(sums: dict[str, int]) -> ReportPerformance:
    figures = {name: sums.get(name, 0) for name in METRIC_NAMES}
    return ReportPerformance(**figures, engagements=sum(figures[n] for n in _ENGAGEMENTS))


def spend_of(terms: DealTerms) -> int:
    """What a deal's terms commit the brand to pay: the fee and the licensing fee."""
    licensing = (terms.usage_rights or {}).get("licensing_fee_minor") or 0
    return int(terms.fee_minor or 0) + int(licensing)


async def _unit_counts(
    session: AsyncSession, deal_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int, int]]:
    published = col(DealDeliverable.status) == DeliverableStatus.published
    stmt = (
        select(
            col(DealDeliverable.deal_id),
            func.count().filter(col(DealDeliverable.status) != DeliverableStatus.dropped),
            func.count().filter(published),
            func.count().filter(published, col(DealDeliverable.late).is_(False)),
        )
        .where(col(DealDeliverable.deal_id).in_(deal_ids))
        .group_by(col(DealDeliverable.deal_id))
    )
    return {row[0]: (row[1], row[2], row[3]) for row in (await session.execute(stmt)).all()}


async def _metrics(
    session: AsyncSession, deal_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    units = select(col(DealDeliverable.id)).where(
        col(DealDeliverable.deal_id).in_(deal_ids),
        col(DealDeliverable.status) == DeliverableStatus.published,
    )
    latest = latest_metrics(units).subquery()
    stmt = (
        select(
            col(DealDeliverable.deal_id),
            *[func.coalesce(func.sum(latest.c[name]), 0) for name in METRIC_NAMES],
        )
        .join(latest, latest.c.deliverable_id == col(DealDeliverable.id))
        .group_by(col(DealDeliverable.deal_id))
    )
    out: dict[uuid.UUID, dict[str, int]] = {}
    for row in (await session.execute(stmt)).all():
        out[row[0]] = {name: int(value) for name, value in zip(METRIC_NAMES, row[1:], strict=True)}
    return out


def _ratio(numerator: int, denominator: int, scale: int = 1) -> Decimal | None:
    if denominator <= 0:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(_CENT, ROUND_HALF_UP)


def product_value(terms: DealTerms) -> int:
    """The retail value of the product the terms send (0 without one)."""
    gifted: dict[str, Any] = terms.gifted_product or {}
    return int(gifted.get("retail_value_minor") or 0)


async def brief_report(
    session: AsyncSession, brief: Brief, *, include_product_value: bool = False
) -> BriefReport:
    """Totals count deals that are not cancelled; each deal also has a row of its own.
    With `include_product_value`, gifted products count as spend at retail value."""
    rows = (
        await session.execute(
            select(Deal, DealTerms, col(Creator.display_name))
            .join(DealTerms, terms_in_force_join())
            .join(Creator, col(Creator.id) == col(Deal.creator_id))
            .where(col(Deal.brief_id) == brief.id)
            .order_by(col(Deal.created_at), col(Deal.id))
        )
    ).all()
    deal_ids = [row[0].id for row in rows]
    counts = await _unit_counts(session, deal_ids) if deal_ids else {}
    metrics = await _metrics(session, deal_ids) if deal_ids else {}

    by_status: dict[DealStatus, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    sums: dict[str, int] = defaultdict(int)
    report_rows = []
    for deal, terms, display_name in rows:
        status = DealStatus(deal.status)
        by_status[status] += 1
        owed, published, on_time = counts.get(deal.id, (0, 0, 0))
        figures = metrics.get(deal.id, {})
        spend = spend_of(terms) + (product_value(terms) if include_product_value else 0)
        report_rows.append(
            ReportCreator(
                deal_id=deal.id,
                creator_id=deal.creator_id,
                display_name=display_name,
                deal_status=status,
                deliverables=owed,
                published=published,
                on_time=on_time,
                spend_minor=spend,
                performance=_performance(figures),
            )
        )
        if status == DealStatus.cancelled:
            continue
        values = {
            "creators": 1,
            "deliverables": owed,
            "published": published,
            "on_time": on_time,
            "spend": spend,
            "paid": spend_of(terms) if deal.paid_at is not None else 0,
            "gifted": product_value(terms),
        }
        for name, value in values.items():
            totals[name] += value
        for name, value in figures.items():
            sums[name] += value

    performance = _performance(sums)
    engagements = performance.engagements
    if performance.impressions > 0:
        basis: str | None = "impressions"
        rate: float | None = round(engagements / performance.impressions, 6)
    elif performance.reach > 0:
        basis, rate = "reach", round(engagements / performance.reach, 6)
    else:
        basis, rate = None, None
    spend = totals["spend"]
    return BriefReport(
        brief_id=brief.id,
        currency=brief.currency,
        generated_at=utcnow(),
        creators=totals["creators"],
        deals_by_status={s: by_status.get(s, 0) for s in DealStatus},
        deliverables=totals["deliverables"],
        deliverables_published=totals["published"],
        deliverables_on_time=totals["on_time"],
        deliverables_late=totals["published"] - totals["on_time"],
        spend_minor=spend,
        spend_basis=(
            SpendBasis.fees_licensing_and_product_value
            if include_product_value
            else SpendBasis.fees_and_licensing
        ),
        paid_minor=totals["paid"],
        gifted_value_minor=totals["gifted"],
        performance=performance,
        engagement_rate=rate,
        engagement_rate_basis=basis,
        cost_per_engagement_minor=_ratio(spend, engagements),
        cpm_minor=_ratio(spend, performance.impressions, 1000),
        rows=report_rows,
    )
