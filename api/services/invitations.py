"""Brands inviting matched creators to apply; an invitation lasts seven days."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, NotFound
from api.models.applications import (
    Application,
    Invitation,
    InvitationBriefSummary,
    InvitationCreate,
    InvitationRead,
    InvitationStatus,
)
from api.models.base import utcnow
from api.models.brands import Brand
from api.models.briefs import Brief, BriefStatus
from api.models.creators import Creator
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.services import events, hot_sql

INVITATION_LIFETIME = timedelta(days=7)


def status_of(
    invitation: Invitation, *, brief_open: bool, now: datetime | None = None
) -> InvitationStatus:
    if invitation.applied_at is not None:
        return InvitationStatus.applied
    if invitation.expires_at <= (now or utcnow()):
        return InvitationStatus.expired
    return InvitationStatus.pending if brief_open else InvitationStatus.closed


def summary_of(brief: Brief, brand_name: str) -> InvitationBriefSummary:
    return InvitationBriefSummary(
        title=brief.title,
        brand_id=brief.brand_id,
        brand_name=brand_name,
        compensation_type=brief.compensation_type,
        application_deadline=brief.application_deadline,
    )


def to_read(
    invitation: Invitation, summary: InvitationBriefSummary, *, brief_open: bool
) -> InvitationRead:
    return InvitationRead(
        id=invitation.id,
        brief_id=invitation.brief_id,
        brief=summary,
        creator_id=invitation.creator_id,
        message=invitation.message,
        status=status_of(invitation, brief_open=brief_open),
        expires_at=invitation.expires_at,
        applied_at=invitation.applied_at,
        created_at=invitation.created_at,
    )


def _takes_applications(now: datetime) -> ColumnElement[bool]:
    """The brief is open and before its deadline (one past it counts as closed)."""
    deadline = col(Brief.application_deadline)
    return and_(col(Brief.status) == BriefStatus.open, or_(deadline.is_(None), deadline > now))


async def invite(
    session: AsyncSession, brief: Brief, invited_by: uuid.UUID, data: InvitationCreate
) -> InvitationRead:
    """Invite a creator who has not applied to an open brief. One live invitation per
    creator and brief: inviting again while it runs is a 409; once it has expired unused,
    inviting again renews it (same id, new message and seven days)."""
    if brief.status != BriefStatus.open:
        raise Conflict(f"the brief is {brief.status}, not open", code="brief_not_open")
    if await session.get(Creator, data.creator_id) is None:
        raise NotFound("creator not found", code="creator_not_found")
    applied = await session.scalar(
        select(
            exists().where(
                col(Application.brief_id) == brief.id,
                col(Application.creator_id) == data.creator_id,
            )
        )
    )
    if applied:
        raise Conflict("this creator already applied", code="already_applied")
    now = utcnow()
    new = insert(Invitation).values(
        id=uuid.uuid4(),
        brief_id=brief.id,
        creator_id=data.creator_id,
        invited_by_user_id=invited_by,
        message=data.message,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    stmt = new.on_conflict_do_update(
        index_elements=["brief_id", "creator_id"],
        set_={
            "invited_by_user_id": new.excluded.invited_by_user_id,
            "message": new.excluded.message,
            "created_at": new.excluded.created_at,
            "expires_at": new.excluded.expires_at,
        },
        # Only an invitation that lapsed unused is renewed; a live or used one stays.
        where=col(Invitation.applied_at).is_(None) & (col(Invitation.expires_at) <= now),
    ).returning(Invitation)
    invitation = (await session.scalars(stmt)).first()
    if invitation is None:
        raise Conflict("this creator is already invited", code="already_invited")
    brand_name = await session.scalar(
        select(col(Brand.name)).where(col(Brand.id) == brief.brand_id)
    )
    read = to_read(invitation, summary_of(brief, brand_name or ""), brief_open=True)
    await events.record(
        session,
        "invitation.created",
        read,
        brand_id=brief.brand_id,
        creator_id=data.creator_id,
    )
    return read


# Built once (every application runs it).
async def consume(
    session: AsyncSession, brief_id: uuid.UUID, creator_id: uuid.UUID
) -> uuid.UUID | None:
    """Mark the creator's live invitation to this brief as used; return its id, if any."""
    connection = await session.connection()
    row = await hot_sql.fetchrow(
        connection, hot_sql.CONSUME_INVITATION, brief_id, creator_id, utcnow()
    )
    return row["id"] if row is not None else None


async def list_for_creator(
    session: AsyncSession,
    creator_id: uuid.UUID,
    page: PageParams,
    status: InvitationStatus | None,
) -> tuple[list[InvitationRead], str | None]:
    """The creator's invitations, newest first, each with its brief's summary (one query)."""
    now = utcnow()
    brief_open = _takes_applications(now)
    stmt = (
        select(Invitation, Brief, col(Brand.name), brief_open.label("brief_open"))
        .join(Brief, col(Brief.id) == col(Invitation.brief_id))
        .join(Brand, col(Brand.id) == col(Brief.brand_id))
        .where(col(Invitation.creator_id) == creator_id)
    )
    unused = col(Invitation.applied_at).is_(None)
    live = col(Invitation.expires_at) > now
    if status == InvitationStatus.applied:
        stmt = stmt.where(col(Invitation.applied_at).is_not(None))
    elif status == InvitationStatus.expired:
        stmt = stmt.where(unused, col(Invitation.expires_at) <= now)
    elif status == InvitationStatus.closed:
        stmt = stmt.where(unused, live, not_(brief_open))
    elif status == InvitationStatus.pending:
        stmt = stmt.where(unused, live, brief_open)
    stmt = keyset(
        stmt,
        page,
        [col(Invitation.created_at), col(Invitation.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = [
        (invitation, to_read(invitation, summary_of(brief, brand_name), brief_open=bool(is_open)))
        for invitation, brief, brand_name, is_open in await session.execute(stmt)
    ]
    found, cursor = make_page(rows, page, lambda r: (r[0].created_at, r[0].id))
    return [read for _, read in found], cursor


async def notify_expired(session: AsyncSession, *, limit: int) -> int:
    """Record `invitation.expired` once for each invitation past its expiry unanswered.

    Claimed with `SKIP LOCKED` and marked in the same UPDATE, so concurrent workers never
    notify twice. Returns how many it notified.
    """
    now = utcnow()
    due = (
        select(col(Invitation.id))
        .where(
            col(Invitation.applied_at).is_(None),
            col(Invitation.expiry_notified_at).is_(None),
            col(Invitation.expires_at) <= now,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    expired = (
        await session.scalars(
            update(Invitation)
            .where(col(Invitation.id).in_(due.scalar_subquery()))
            .values(expiry_notified_at=now)
            .returning(Invitation)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not expired:
        return 0
    summaries = {
        brief.id: summary_of(brief, brand_name)
        for brief, brand_name in await session.execute(
            select(Brief, col(Brand.name))
            .join(Brand, col(Brand.id) == col(Brief.brand_id))
            .where(col(Brief.id).in_({i.brief_id for i in expired}))
        )
    }
    for invitation in expired:
        summary = summaries[invitation.brief_id]
        await events.record(
            session,
            "invitation.expired",
            to_read(invitation, summary, brief_open=False),
            brand_id=summary.brand_id,
            creator_id=invitation.creator_id,
        )
    return len(expired)
