"""Draft reviews: the creator submits, the brand approves or asks for changes (at most the
brief's revision rounds), and a draft left unreviewed past the review window is approved
by the maintenance timer."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, FieldError, InvalidState, NotFound, Unprocessable
from api.models.base import utcnow
from api.models.briefs import Brief
from api.models.deals import Deal, DealStatus
from api.models.deliverables import (
    ApproveDraft,
    DealDeliverable,
    DeliverableStatus,
    DeliverableSubmission,
    DisclosureCheck,
    RequestChanges,
    SubmissionCreate,
    SubmissionRead,
    SubmissionStatus,
)
from api.models.terms import Disclosure
from api.services import deliverables, events
from api.services.deals import DealAccess
from api.services.publishing import check_disclosure

_OPEN_FOR_DRAFT = (DeliverableStatus.pending, DeliverableStatus.changes_requested)


async def _record(
    session: AsyncSession,
    event_type: str,
    deal: Deal,
    unit: DealDeliverable,
    submission: DeliverableSubmission,
    **extra: object,
) -> None:
    payload = {
        "deal_id": str(deal.id),
        "deliverable_id": str(unit.id),
        "deliverable_status": unit.status,
        "submission": SubmissionRead.model_validate(submission).model_dump(mode="json"),
        **extra,
    }
    await events.record(
        session, event_type, payload, brand_id=deal.brand_id, creator_id=deal.creator_id
    )


async def get_submission(
    session: AsyncSession, unit: DealDeliverable, submission_id: uuid.UUID
) -> DeliverableSubmission:
    submission = await session.scalar(
        select(DeliverableSubmission).where(
            col(DeliverableSubmission.id) == submission_id,
            col(DeliverableSubmission.deliverable_id) == unit.id,
        )
    )
    if submission is None:
        raise NotFound("submission not found")
    return submission


async def submit(
    session: AsyncSession, access: DealAccess, unit: DealDeliverable, data: SubmissionCreate
) -> DeliverableSubmission:
    """A new draft round for a deliverable that awaits one (new, or sent back)."""
    deliverables.require_work_open(access, unit)
    if unit.status not in _OPEN_FOR_DRAFT:
        raise InvalidState(f"a {unit.status} deliverable takes no new draft")
    rounds = await session.scalar(
        select(func.count()).where(col(DeliverableSubmission.deliverable_id) == unit.id)
    )
    now = utcnow()
    # The same check as at publication, while the brand can still have it fixed.
    check = check_disclosure(
        data.caption, Disclosure.model_validate(unit.disclosure), data.paid_partnership_label
    )
    submission = DeliverableSubmission(
        deliverable_id=unit.id,
        round=(rounds or 0) + 1,
        draft_url=data.draft_url,
        caption=data.caption,
        paid_partnership_label=data.paid_partnership_label,
        disclosure_check=check.model_dump(mode="json"),
        late=unit.draft_due_date is not None and now.date() > unit.draft_due_date,
        submitted_by_user_id=access.user_id,
        submitted_at=now,
    )
    session.add(submission)
    unit.status = DeliverableStatus.in_review
    unit.updated_at = now
    session.add(unit)
    await session.flush()
    await _record(session, "deliverable.submitted", access.deal, unit, submission)
    return submission


def _require_pending(unit: DealDeliverable, submission: DeliverableSubmission) -> None:
    if submission.status != SubmissionStatus.pending_review:
        raise Conflict(f"this draft was already {submission.status}", code="already_reviewed")
    if unit.status != DeliverableStatus.in_review:  # dropped by an amendment meanwhile
        raise InvalidState(f"a {unit.status} deliverable takes no review")


def _disclosure_gaps(submission: DeliverableSubmission) -> str:
    """What the draft's disclosure check found missing, in words; empty when it passed (or
    the draft predates the check)."""
    if not submission.disclosure_check:
        return ""
    check = DisclosureCheck.model_validate(submission.disclosure_check)
    missing = [*check.missing_hashtags, *check.missing_mentions]
    if check.paid_partnership_label_missing:
        missing.append("the paid-partnership label")
    return ", ".join(missing)


def _approve(
    unit: DealDeliverable,
    submission: DeliverableSubmission,
    reviewer: uuid.UUID | None,
    comments: list[str],
) -> None:
    now = utcnow()
    submission.status = SubmissionStatus.approved
    submission.reviewed_at = now
    submission.reviewed_by_user_id = reviewer
    submission.auto_approved = reviewer is None
    submission.comments = comments
    unit.status = DeliverableStatus.approved
    unit.approved_at = unit.updated_at = now


async def approve(
    session: AsyncSession,
    access: DealAccess,
    unit: DealDeliverable,
    submission: DeliverableSubmission,
    data: ApproveDraft,
) -> DeliverableSubmission:
    deliverables.require_work_open(access, unit)
    _require_pending(unit, submission)
    gaps = _disclosure_gaps(submission)
    if gaps and not data.acknowledge_disclosure_gaps:
        raise Unprocessable(
            f"the draft fails its disclosure check ({gaps}): ask for changes, or approve "
            "with acknowledge_disclosure_gaps: true",
            code="disclosure_gaps",
            errors=[
                FieldError(
                    loc=["body", "acknowledge_disclosure_gaps"],
                    msg=f"the draft lacks {gaps}",
                    type="missing",
                )
            ],
        )
    submission.disclosure_gaps_acknowledged = bool(gaps)
    _approve(unit, submission, access.user_id, [data.comment] if data.comment else [])
    session.add_all([unit, submission])
    await session.flush()
    await _record(
        session,
        "deliverable.reviewed",
        access.deal,
        unit,
        submission,
        decision="approved",
        automatic=False,
    )
    return submission


async def request_changes(
    session: AsyncSession,
    access: DealAccess,
    unit: DealDeliverable,
    submission: DeliverableSubmission,
    data: RequestChanges,
) -> DeliverableSubmission:
    """Send the draft back with comments; the brief caps how often (`max_revision_rounds`)."""
    deliverables.require_work_open(access, unit)
    _require_pending(unit, submission)
    limit = access.brief.max_revision_rounds
    if unit.change_requests >= limit:
        raise Conflict(
            f"the brief allows {limit} revision round(s) and all were used: approve the draft "
            "or cancel the deal",
            code="revision_limit",
        )
    now = utcnow()
    submission.status = SubmissionStatus.changes_requested
    submission.reviewed_at = now
    submission.reviewed_by_user_id = access.user_id
    submission.comments = list(data.comments)
    unit.status = DeliverableStatus.changes_requested
    unit.change_requests += 1
    unit.updated_at = now
    session.add_all([unit, submission])
    await session.flush()
    await _record(
        session,
        "deliverable.reviewed",
        access.deal,
        unit,
        submission,
        decision="changes_requested",
        automatic=False,
    )
    return submission


async def approve_overdue(session: AsyncSession, *, limit: int) -> int:
    """Approve drafts left unreviewed past their brief's review window, up to `limit`.

    Claims deliverables with `FOR UPDATE SKIP LOCKED`, the rows a brand's review locks too
    (after the deal's): workers never approve a draft twice, a review in flight is simply
    skipped, and the re-check after the lock drops a draft reviewed meanwhile. Returns how
    many drafts it approved.
    """
    window = func.make_interval(0, 0, 0, col(Brief.review_window_days))
    stmt = (
        select(DealDeliverable, DeliverableSubmission, Deal)
        .join(
            DeliverableSubmission,
            and_(
                col(DeliverableSubmission.deliverable_id) == col(DealDeliverable.id),
                col(DeliverableSubmission.status) == SubmissionStatus.pending_review,
            ),
        )
        .join(Deal, col(Deal.id) == col(DealDeliverable.deal_id))
        .join(Brief, col(Brief.id) == col(Deal.brief_id))
        .where(
            col(DealDeliverable.status) == DeliverableStatus.in_review,
            or_(
                col(Deal.status) == DealStatus.active,
                and_(col(Deal.status) == DealStatus.completed, col(DealDeliverable.optional)),
            ),
            col(DeliverableSubmission.submitted_at) <= func.now() - window,
        )
        .order_by(col(DealDeliverable.id))
        .limit(limit)
        .with_for_update(of=DealDeliverable, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    rows = (await session.execute(stmt)).all()
    for unit, submission, deal in rows:
        _approve(unit, submission, None, [])
        session.add_all([unit, submission])
        await session.flush()
        await _record(
            session,
            "deliverable.reviewed",
            deal,
            unit,
            submission,
            decision="approved",
            automatic=True,
        )
    return len(rows)
