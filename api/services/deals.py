"""Deals: created when a brand accepts an application; read by their two parties."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import NotFound
from api.models.applications import Application
from api.models.briefs import Brief, BriefDeliverable, CompensationType
from api.models.creators import Creator
from api.models.deals import (
    Deal,
    DealRead,
    DealStatus,
    DealTerms,
    DealTermsRead,
    Party,
    TermsDeliverable,
)
from api.models.users import Role
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.services import events
from api.services.tokens import Principal
from api.settings import Settings

# Gifted deals have no fixed date: the draft is due this many days after the product
# arrives (the shipment records the delivery).
GIFTED_DRAFT_DUE_DAYS = 14
_WITH_PRODUCT = (CompensationType.gifted, CompensationType.hybrid)
_WITH_FEE = (CompensationType.paid, CompensationType.hybrid)


def terms_read(terms: DealTerms) -> DealTermsRead:
    return DealTermsRead(
        version=terms.version,
        currency=terms.currency,
        fee_minor=terms.fee_minor,
        commission_rate_percent=(
            float(terms.commission_rate_percent)
            if terms.commission_rate_percent is not None
            else None
        ),
        gifted_product=terms.gifted_product,
        deliverables=terms.deliverables,
        publish_start_date=terms.publish_start_date,
        publish_end_date=terms.publish_end_date,
        usage_rights=terms.usage_rights,
        disclosure=terms.disclosure,
        proposed_by=Party(terms.proposed_by),
        proposed_at=terms.proposed_at,
        accepted_at=terms.accepted_at,
        accepted=terms.accepted_at is not None,
    )


def to_read(deal: Deal, terms: DealTerms) -> DealRead:
    return DealRead(
        id=deal.id,
        brief_id=deal.brief_id,
        application_id=deal.application_id,
        brand_id=deal.brand_id,
        creator_id=deal.creator_id,
        status=DealStatus(deal.status),
        current_version=deal.current_version,
        current_terms=terms_read(terms),
        cancel_reason=deal.cancel_reason,
        cancelled_at=deal.cancelled_at,
        completed_at=deal.completed_at,
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


def _deliverables(brief: Brief, rows: Sequence[BriefDeliverable]) -> list[TermsDeliverable]:
    gifted = brief.compensation_type == CompensationType.gifted
    due = brief.publish_end_date or brief.publish_start_date
    return [
        TermsDeliverable(
            platform=row.platform,
            format=row.format,
            quantity=row.quantity,
            due_date=None if gifted else due,
            due_days_after_delivery=GIFTED_DRAFT_DUE_DAYS if gifted else None,
        )
        for row in rows
    ]


async def create_from_application(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    brief: Brief,
    application: Application,
) -> Deal:
    """The deal and its first terms, drawn from the brief and the application.

    The brand proposes version 1 by accepting; the deal stays `pending_terms` until the
    creator accepts it too.
    """
    deal = Deal(
        brief_id=brief.id,
        application_id=application.id,
        brand_id=brief.brand_id,
        creator_id=application.creator_id,
    )
    session.add(deal)
    await session.flush()
    rows = (
        await session.scalars(
            select(BriefDeliverable)
            .where(col(BriefDeliverable.brief_id) == brief.id)
            .order_by(col(BriefDeliverable.position))
        )
    ).all()
    compensation = CompensationType(brief.compensation_type)
    terms = DealTerms(
        deal_id=deal.id,
        version=1,
        currency=brief.currency,
        fee_minor=application.proposed_fee_minor if compensation in _WITH_FEE else None,
        commission_rate_percent=brief.commission_rate_percent,
        gifted_product=brief.gifted_product if compensation in _WITH_PRODUCT else None,
        deliverables=[d.model_dump(mode="json") for d in _deliverables(brief, rows)],
        publish_start_date=brief.publish_start_date,
        publish_end_date=brief.publish_end_date,
        usage_rights=brief.usage_rights,
        disclosure=brief.disclosure,
        proposed_by=Party.brand,
        proposed_by_user_id=principal.user.id,
    )
    session.add(terms)
    await session.flush()
    await events.record(
        session,
        "deal.created",
        to_read(deal, terms),
        brand_id=deal.brand_id,
        creator_id=deal.creator_id,
    )
    return deal


async def current_terms(session: AsyncSession, deal: Deal) -> DealTerms:
    terms = await session.scalar(
        select(DealTerms).where(
            col(DealTerms.deal_id) == deal.id, col(DealTerms.version) == deal.current_version
        )
    )
    assert terms is not None  # every deal is created with its first version
    return terms


def _party_filter(principal: Principal) -> list[ColumnElement[bool]]:
    if principal.role == Role.brand:
        return [col(Deal.brand_id) == principal.user.brand_id]
    if principal.role == Role.creator:
        mine = select(col(Creator.id)).where(col(Creator.user_id) == principal.user.id)
        return [col(Deal.creator_id).in_(mine.scalar_subquery())]
    return []  # admins read everything


async def get_for_party(session: AsyncSession, principal: Principal, deal_id: uuid.UUID) -> Deal:
    """The deal if the caller is one of its parties (or an admin); 404 for anyone else."""
    deal = await session.scalar(
        select(Deal).where(col(Deal.id) == deal_id, *_party_filter(principal))
    )
    if deal is None:
        raise NotFound("deal not found")
    return deal


async def list_for_party(
    session: AsyncSession, principal: Principal, page: PageParams, statuses: list[DealStatus]
) -> tuple[list[DealRead], str | None]:
    stmt = select(Deal, DealTerms).join(
        DealTerms,
        (col(DealTerms.deal_id) == col(Deal.id))
        & (col(DealTerms.version) == col(Deal.current_version)),
    )
    stmt = stmt.where(*_party_filter(principal))
    if statuses:
        stmt = stmt.where(col(Deal.status).in_(statuses))
    stmt = keyset(
        stmt,
        page,
        [col(Deal.created_at), col(Deal.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.execute(stmt)).all()
    items, cursor = make_page(rows, page, lambda r: (r[0].created_at, r[0].id))
    return [to_read(deal, terms) for deal, terms in items], cursor
