"""Deals: created when a brand accepts an application; read by their two parties; the
lifecycle after the terms (cancel, mark paid, complete)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import etags
from api.errors import Conflict, InvalidState, NotFound
from api.models.applications import Application
from api.models.base import utcnow
from api.models.briefs import Brief, BriefDeliverable, CompensationType
from api.models.creators import Creator
from api.models.deals import (
    OPEN_DEAL_STATES,
    Deal,
    DealRead,
    DealStatus,
    DealTerms,
    DealTermsRead,
    Party,
    TermsDeliverable,
    TermsStatus,
)
from api.models.deliverables import DealDeliverable, DeliverableStatus
from api.models.memberships import BrandRole
from api.models.shipments import DealShipment
from api.models.users import Role
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.services import events, memberships
from api.services.briefs import deliverables_of
from api.services.tokens import Principal
from api.settings import Settings

# Gifted deals have no fixed date: the draft is due this many days after the product
# arrives (the shipment records the delivery).
GIFTED_DRAFT_DUE_DAYS = 14
_WITH_PRODUCT = (CompensationType.gifted, CompensationType.hybrid)
_WITH_FEE = (CompensationType.paid, CompensationType.hybrid)


def other(party: Party) -> Party:
    return Party.creator if party == Party.brand else Party.brand


def terms_status(terms: DealTerms, current_version: int) -> TermsStatus:
    if terms.accepted_at is not None:
        return TermsStatus.accepted
    if terms.withdrawn_at is not None:
        return TermsStatus.withdrawn
    return TermsStatus.superseded if terms.version < current_version else TermsStatus.proposed


def terms_read(terms: DealTerms, current_version: int | None = None) -> DealTermsRead:
    accepted = terms.accepted_at is not None
    return DealTermsRead(
        version=terms.version,
        status=terms_status(terms, current_version or terms.version),
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
        proposed_by_user_id=terms.proposed_by_user_id,
        proposed_at=terms.proposed_at,
        accepted_by=other(Party(terms.proposed_by)) if accepted else None,
        accepted_by_user_id=terms.accepted_by_user_id,
        accepted_at=terms.accepted_at,
        accepted=accepted,
        withdrawn_at=terms.withdrawn_at,
    )


def has_pending_amendment(deal: Deal) -> bool:
    """An active deal with a newer proposal than the terms in force."""
    return deal.status == DealStatus.active and deal.current_version != deal.accepted_version


def to_read(deal: Deal, terms: DealTerms) -> DealRead:
    """`terms` is the deal's current version."""
    current = terms_read(terms, deal.current_version)
    return DealRead(
        id=deal.id,
        brief_id=deal.brief_id,
        application_id=deal.application_id,
        brand_id=deal.brand_id,
        creator_id=deal.creator_id,
        status=DealStatus(deal.status),
        current_version=deal.current_version,
        accepted_version=deal.accepted_version,
        current_terms=current,
        pending_amendment=current if has_pending_amendment(deal) else None,
        activated_at=deal.activated_at,
        paid_at=deal.paid_at,
        rights_start_date=deal.rights_start_date,
        cancel_reason=deal.cancel_reason,
        cancelled_by=Party(deal.cancelled_by) if deal.cancelled_by else None,
        cancelled_at=deal.cancelled_at,
        completed_at=deal.completed_at,
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


def etag(deal: Deal) -> str:
    """`"<current version>.<accepted version or 0>"`: changes whenever a version is proposed
    and whenever one is accepted, so a proposal can never be based on stale terms."""
    return etags.quoted(f"{deal.current_version}.{deal.accepted_version or 0}")


def _deliverables(
    brief: Brief, rows: Sequence[BriefDeliverable], pinned: Mapping[int, tuple[str, str]]
) -> list[TermsDeliverable]:
    """The brief's deliverables as terms, each either-or one pinned to its option."""
    gifted = brief.compensation_type == CompensationType.gifted
    due = brief.publish_end_date or brief.publish_start_date
    out = []
    for i, row in enumerate(rows):
        platform, format_ = pinned.get(i, (row.platform, row.format))
        out.append(
            TermsDeliverable(
                platform=platform,
                format=format_,
                quantity=row.quantity,
                due_date=None if gifted else due,
                due_days_after_delivery=GIFTED_DRAFT_DUE_DAYS if gifted else None,
            )
        )
    return out


async def create_from_application(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    brief: Brief,
    application: Application,
    *,
    rows: Sequence[BriefDeliverable] | None = None,
    pinned: Mapping[int, tuple[str, str]] | None = None,
) -> Deal:
    """The deal and its first terms, drawn from the brief and the application (either-or
    deliverables pinned to the option in `pinned`).

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
    if rows is None:
        rows = await deliverables_of(session, brief.id)
    compensation = CompensationType(brief.compensation_type)
    terms = DealTerms(
        deal_id=deal.id,
        version=1,
        currency=brief.currency,
        fee_minor=application.proposed_fee_minor if compensation in _WITH_FEE else None,
        commission_rate_percent=brief.commission_rate_percent,
        gifted_product=brief.gifted_product if compensation in _WITH_PRODUCT else None,
        deliverables=[d.model_dump(mode="json") for d in _deliverables(brief, rows, pinned or {})],
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


# --- reading --------------------------------------------------------------------------------


async def terms_version(session: AsyncSession, deal: Deal, version: int) -> DealTerms | None:
    return await session.scalar(
        select(DealTerms).where(
            col(DealTerms.deal_id) == deal.id, col(DealTerms.version) == version
        )
    )


async def current_terms(session: AsyncSession, deal: Deal) -> DealTerms:
    terms = await terms_version(session, deal, deal.current_version)
    assert terms is not None  # every deal is created with its first version
    return terms


def terms_in_force_join() -> ColumnElement[bool]:
    """Join condition for each deal's terms in force (before the first acceptance: its
    proposed terms), as the report, the budget and the exports count them."""
    return (col(DealTerms.deal_id) == col(Deal.id)) & (
        col(DealTerms.version)
        == func.coalesce(col(Deal.accepted_version), col(Deal.current_version))
    )


async def terms_in_force(session: AsyncSession, deal: Deal) -> DealTerms | None:
    """The newest version both parties accepted; None before the first acceptance."""
    if deal.accepted_version is None:
        return None
    return await terms_version(session, deal, deal.accepted_version)


async def read(session: AsyncSession, deal: Deal) -> DealRead:
    return to_read(deal, await current_terms(session, deal))


def party_of(principal: Principal) -> Party | None:
    if principal.role == Role.brand:
        return Party.brand
    if principal.role == Role.creator:
        return Party.creator
    return None


def _party_filter(
    principal: Principal, brand_id: uuid.UUID | None = None
) -> list[ColumnElement[bool]]:
    if principal.role == Role.brand:
        return [col(Deal.brand_id).in_(memberships.brand_scope(principal, brand_id))]
    if principal.role == Role.creator:
        mine = select(col(Creator.id)).where(col(Creator.user_id) == principal.user.id)
        return [col(Deal.creator_id).in_(mine.scalar_subquery())]
    return []  # admins read everything


@dataclass
class DealAccess:
    """A deal as one of its parties (or an admin, `party` None) reaches it, with its brief
    (which holds the review window, revision rounds and whether posting is required)."""

    deal: Deal
    brief: Brief
    party: Party | None
    user_id: uuid.UUID


async def load(
    session: AsyncSession,
    principal: Principal,
    deal_id: uuid.UUID,
    *,
    lock: bool = False,
    need: BrandRole = BrandRole.viewer,
) -> DealAccess:
    """The deal and its brief if the caller is a party (or an admin); 404 for anyone else.
    A brand party is any member of the deal's brand whose role is at least `need` (403 for
    a role too low). With `lock`, the deal row is locked: every change to a deal and its
    deliverables, shipments and terms queues on it."""
    stmt = (
        select(Deal, Brief)
        .join(Brief, col(Brief.id) == col(Deal.brief_id))
        .where(col(Deal.id) == deal_id, *_party_filter(principal))
    )
    if lock:
        stmt = stmt.with_for_update(of=Deal).execution_options(populate_existing=True)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("deal not found")
    if principal.role == Role.brand:
        memberships.require_role(principal, row[0].brand_id, need, noun="deal")
    return DealAccess(
        deal=row[0], brief=row[1], party=party_of(principal), user_id=principal.user.id
    )


async def list_for_party(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    statuses: list[DealStatus],
    brand_id: uuid.UUID | None = None,
    *,
    brief_id: uuid.UUID | None = None,
) -> tuple[list[DealRead], str | None]:
    stmt = select(Deal, DealTerms).join(
        DealTerms,
        (col(DealTerms.deal_id) == col(Deal.id))
        & (col(DealTerms.version) == col(Deal.current_version)),
    )
    stmt = stmt.where(*_party_filter(principal, brand_id))
    if brand_id is not None and principal.role != Role.brand:
        stmt = stmt.where(col(Deal.brand_id) == brand_id)
    if brief_id is not None:
        stmt = stmt.where(col(Deal.brief_id) == brief_id)
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


# --- the lifecycle after the terms ----------------------------------------------------------


def require_active(deal: Deal, action: str) -> None:
    if deal.status != DealStatus.active:
        raise InvalidState(
            f"a {deal.status} deal cannot {action}: the deal must be active", code="deal_not_active"
        )


def has_fee(terms: DealTerms | None) -> bool:
    return terms is not None and bool(terms.fee_minor)


def posting_optional(brief: Brief) -> bool:
    return brief.compensation_type == CompensationType.gifted and not brief.posting_required


async def _record(session: AsyncSession, event_type: str, deal: Deal) -> None:
    await events.record(
        session,
        event_type,
        await read(session, deal),
        brand_id=deal.brand_id,
        creator_id=deal.creator_id,
    )


async def cancel(session: AsyncSession, access: DealAccess, reason: str) -> Deal:
    """Either party ends the deal before it completes; the reason is kept, and the brief's
    slot is given back, so the brand may accept another applicant in its place (the
    brief's status does not change: one closed when its slots filled stays closed to new
    applications, as accepting still works on closed briefs)."""
    deal = access.deal
    if deal.status not in OPEN_DEAL_STATES:
        raise InvalidState(f"a {deal.status} deal cannot be cancelled")
    assert access.party is not None
    now = utcnow()
    deal.status = DealStatus.cancelled
    deal.cancel_reason = reason
    deal.cancelled_by = access.party
    deal.cancelled_at = now
    deal.updated_at = now
    session.add(deal)
    await session.flush()
    await session.execute(
        update(Brief)
        .where(col(Brief.id) == deal.brief_id, col(Brief.accepted_count) > 0)
        .values(
            accepted_count=col(Brief.accepted_count) - 1,
            version=col(Brief.version) + 1,
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    await _record(session, "deal.cancelled", deal)
    return deal


async def mark_paid(session: AsyncSession, access: DealAccess) -> Deal:
    """The brand records that it paid the fee; the deal may complete."""
    deal = access.deal
    if access.brief.compensation_type not in _WITH_FEE:
        raise Conflict(
            f"a {access.brief.compensation_type} deal has no fee to pay", code="not_paid_deal"
        )
    require_active(deal, "be marked paid")
    if not has_fee(await terms_in_force(session, deal)):
        raise Conflict("the terms in force carry no fee", code="not_paid_deal")
    if deal.paid_at is not None:
        raise Conflict("the deal is already marked paid", code="already_paid")
    deal.paid_at = deal.updated_at = utcnow()
    session.add(deal)
    await session.flush()
    await _record(session, "deal.paid", deal)
    await maybe_complete(session, access)
    return deal


async def maybe_complete(session: AsyncSession, access: DealAccess) -> bool:
    """Complete an active deal once all is done: every owed deliverable published and, with
    a fee, the deal marked paid. Gifted briefs that do not require posting complete when
    the product has been delivered."""
    deal, brief = access.deal, access.brief
    if deal.status != DealStatus.active:
        return False
    if has_fee(await terms_in_force(session, deal)) and deal.paid_at is None:
        return False
    if posting_optional(brief):
        delivered = await session.scalar(
            select(
                exists().where(
                    col(DealShipment.deal_id) == deal.id,
                    col(DealShipment.delivered_at).is_not(None),
                )
            )
        )
        if not delivered:
            return False
    else:
        outstanding = await session.scalar(
            select(func.count()).where(
                col(DealDeliverable.deal_id) == deal.id,
                col(DealDeliverable.status).not_in(
                    [DeliverableStatus.published, DeliverableStatus.dropped]
                ),
                col(DealDeliverable.optional).is_(False),
            )
        )
        if outstanding:
            return False
    deal.status = DealStatus.completed
    deal.completed_at = deal.updated_at = utcnow()
    session.add(deal)
    await session.flush()
    await _record(session, "deal.completed", deal)
    return True
