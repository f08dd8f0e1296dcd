"""CSV exports: the one CSV writer, and what each export lists.

Exports are streamed: the route checks who may read (with the request's session), then
the rows are read from a server-side cursor in a session of the export's own, written a
batch at a time, so an export's memory does not grow with its length.

Every cell goes through `cell`: text that a spreadsheet would run as a formula (starting
with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'` (OWASP's advice
for CSV injection); the csv module quotes separators, quotes and line breaks. Numbers,
dates and ids are written as they are: the API made them, nobody typed them.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.models.applications import Application, ApplicationSort, ApplicationStatus
from api.models.creators import Creator
from api.models.deals import Deal, DealStatus, DealTerms
from api.models.deliverables import METRIC_NAMES, DealDeliverable
from api.services import applications, shipments
from api.services.deals import terms_in_force_join
from api.services.deliverables import latest_metrics

CSV_MEDIA_TYPE = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BATCH_ROWS = 200

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "With `?format=csv` or `Accept: text/csv`: the same list as CSV "
        "(RFC 4180, UTF-8, a header row; every item, not one page), streamed.",
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


ExportFormat = Annotated[
    Literal["json", "csv"] | None,
    Query(
        alias="format",
        description="`csv`: the whole list as CSV, streamed (also chosen by `Accept: text/csv`).",
    ),
]


def wants_csv(request: Request, format_: str | None) -> bool:
    """`?format=csv`, or no `format` and an `Accept` header that names text/csv."""
    if format_ is not None:
        return format_ == "csv"
    return CSV_MEDIA_TYPE in request.headers.get("accept", "").lower()


def cell(value: Any) -> str:
    """One value as a CSV cell, never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, int | float | Decimal | uuid.UUID | datetime | date):
        return value.isoformat() if isinstance(value, datetime | date) else str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def csv_lines(
    header: Sequence[str], rows: AsyncIterator[Sequence[Any]]
) -> AsyncIterator[str]:
    """The header and the rows as CSV text, a batch of rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    count = 0
    async for row in rows:
        writer.writerow([cell(value) for value in row])
        count += 1
        if count % _BATCH_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(
    filename: str, header: Sequence[str], rows: AsyncIterator[Sequence[Any]]
) -> StreamingResponse:
    return StreamingResponse(
        csv_lines(header, rows),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _stream(
    sessionmaker: async_sessionmaker[AsyncSession], stmt: Select[*tuple[Any, ...]]
) -> AsyncIterator[Any]:
    async with sessionmaker() as session:
        result = await session.stream(stmt.execution_options(yield_per=_BATCH_ROWS))
        async for row in result:
            yield row


def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return maker


# --- the exports ----------------------------------------------------------------------------

APPLICANT_COLUMNS = (
    "application_id",
    "creator_id",
    "creator_display_name",
    "creator_handle",
    "status",
    "match_score",
    "proposed_fee_minor",
    "currency",
    "available_for_publish_date",
    "pitch",
    "created_at",
    "decided_at",
)


def applicants(
    request: Request,
    brief_id: uuid.UUID,
    statuses: list[ApplicationStatus],
    sort: ApplicationSort,
) -> StreamingResponse:
    """The brief's applicants in the order of the JSON list."""
    columns, _, descending = applications.applicant_order(sort)
    stmt = (
        select(Application, col(Creator.display_name), col(Creator.handle))
        .join(Creator, col(Creator.id) == col(Application.creator_id))
        .where(col(Application.brief_id) == brief_id)
        .order_by(*[c.desc() if d else c.asc() for c, d in zip(columns, descending, strict=True)])
    )
    if statuses:
        stmt = stmt.where(col(Application.status).in_(statuses))

    async def rows() -> AsyncIterator[Sequence[Any]]:
        async for a, name, handle in _stream(_sessionmaker(request), stmt):
            yield (
                a.id,
                a.creator_id,
                name,
                handle,
                a.status,
                a.match_score,
                a.proposed_fee_minor,
                a.currency,
                a.available_for_publish_date,
                a.pitch,
                a.created_at,
                a.decided_at,
            )

    return csv_response(f"applicants-{brief_id}.csv", APPLICANT_COLUMNS, rows())


SHIPPING_COLUMNS = (
    "deal_id",
    "creator_id",
    "creator_display_name",
    "creator_handle",
    "product_name",
    "recipient_name",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "shipments",
    "last_shipped_at",
    "last_delivered_at",
)


def shipping_list(request: Request, brief_id: uuid.UUID) -> StreamingResponse:
    """The shipping list (the same rows as the JSON list), one line per deal."""
    stmt = shipments.shipping_list_query(brief_id).order_by(col(Deal.created_at), col(Deal.id))

    async def rows() -> AsyncIterator[Sequence[Any]]:
        async for row in _stream(_sessionmaker(request), stmt):
            entry = shipments.shipping_entry(row)
            address = entry.address
            yield (
                entry.deal_id,
                entry.creator_id,
                entry.creator_display_name,
                entry.creator_handle,
                entry.gifted_product.name,
                *(
                    (
                        address.recipient_name,
                        address.line1,
                        address.line2,
                        address.city,
                        address.region,
                        address.postal_code,
                        address.country,
                        address.phone,
                    )
                    if address
                    else (None,) * 8
                ),
                entry.shipments,
                entry.last_shipped_at,
                entry.last_delivered_at,
            )

    return csv_response(f"shipping-list-{brief_id}.csv", SHIPPING_COLUMNS, rows())


DEAL_COLUMNS = (
    "deal_id",
    "creator_id",
    "creator_display_name",
    "creator_handle",
    "status",
    "accepted_version",
    "pending_amendment_version",
    "currency",
    "fee_minor",
    "gifted_product",
    "created_at",
    "activated_at",
    "paid_at",
    "completed_at",
    "cancelled_at",
    "cancel_reason",
)


def deals(request: Request, brief_id: uuid.UUID, statuses: list[DealStatus]) -> StreamingResponse:
    """The brief's deals with their status and the terms in force, newest first (as the
    JSON list)."""
    stmt = (
        select(Deal, DealTerms, col(Creator.display_name), col(Creator.handle))
        .join(DealTerms, terms_in_force_join())
        .join(Creator, col(Creator.id) == col(Deal.creator_id))
        .where(col(Deal.brief_id) == brief_id)
        .order_by(col(Deal.created_at).desc(), col(Deal.id).desc())
    )
    if statuses:
        stmt = stmt.where(col(Deal.status).in_(statuses))

    async def rows() -> AsyncIterator[Sequence[Any]]:
        async for deal, terms, name, handle in _stream(_sessionmaker(request), stmt):
            pending = (
                deal.current_version
                if deal.accepted_version is not None
                and deal.current_version != deal.accepted_version
                else None
            )
            yield (
                deal.id,
                deal.creator_id,
                name,
                handle,
                deal.status,
                deal.accepted_version,
                pending,
                terms.currency,
                terms.fee_minor,
                (terms.gifted_product or {}).get("name"),
                deal.created_at,
                deal.activated_at,
                deal.paid_at,
                deal.completed_at,
                deal.cancelled_at,
                deal.cancel_reason,
            )

    return csv_response(f"deals-{brief_id}.csv", DEAL_COLUMNS, rows())


REPORT_COLUMNS = (
    "deal_id",
    "creator_id",
    "creator_display_name",
    "deal_status",
    "deliverable_id",
    "platform",
    "format",
    "unit",
    "deliverable_status",
    "due_date",
    "published_at",
    "published_url",
    "late",
    *METRIC_NAMES,
    "engagements",
    "metrics_as_of",
    "metrics_recorded_at",
)
_ENGAGEMENTS = ("likes", "comments", "shares", "saves")


def report(request: Request, brief_id: uuid.UUID) -> StreamingResponse:
    """The report, one line per deliverable with its newest metrics reading."""
    units = (
        select(col(DealDeliverable.id))
        .join(Deal, col(Deal.id) == col(DealDeliverable.deal_id))
        .where(col(Deal.brief_id) == brief_id)
    )
    latest = latest_metrics(units).subquery()
    stmt = (
        select(Deal, DealDeliverable, col(Creator.display_name), latest)
        .join(DealDeliverable, col(DealDeliverable.deal_id) == col(Deal.id))
        .join(Creator, col(Creator.id) == col(Deal.creator_id))
        .outerjoin(latest, latest.c.deliverable_id == col(DealDeliverable.id))
        .where(col(Deal.brief_id) == brief_id)
        .order_by(col(Deal.created_at), col(Deal.id), col(DealDeliverable.position))
    )

    async def rows() -> AsyncIterator[Sequence[Any]]:
        async for row in _stream(_sessionmaker(request), stmt):
            deal, unit, name = row[0], row[1], row[2]
            figures = row._mapping
            measured = figures.get("recorded_at") is not None
            values = [figures.get(n) if measured else None for n in METRIC_NAMES]
            engagements = sum(int(figures.get(n) or 0) for n in _ENGAGEMENTS) if measured else None
            yield (
                deal.id,
                deal.creator_id,
                name,
                deal.status,
                unit.id,
                unit.platform,
                unit.format,
                unit.unit,
                unit.status,
                unit.due_date or unit.draft_due_date,
                unit.published_at,
                unit.published_url,
                unit.late,
                *values,
                engagements,
                figures.get("as_of"),
                figures.get("recorded_at"),
            )

    return csv_response(f"report-{brief_id}.csv", REPORT_COLUMNS, rows())
