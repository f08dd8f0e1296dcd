"""Deliverables of a deal: drafts and their review, publishing, performance figures."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import SessionDep
from api.errors import problem_responses
from api.models.deliverables import (
    ApproveDraft,
    DeliverableRead,
    DeliverableStatus,
    MetricsCreate,
    MetricsRead,
    PublishDeliverable,
    RequestChanges,
    SubmissionCreate,
)
from api.pagination import Page, PageDep
from api.routers.deal_access import BrandDeal, CreatorDeal, PartyDeal, ReadableDeal
from api.services import deliverables, publishing, reviews

router = APIRouter(prefix="/v1/deals/{deal_id}/deliverables", tags=["deliverables"])

_READ = problem_responses(401, 403, 404, 422)
_ACTION = problem_responses(401, 403, 404, 409, 422)


@router.get(
    "",
    operation_id="listDeliverables",
    summary="The deal's deliverables, one per piece of content, in order",
    description="Made from the accepted terms: each with its due date, disclosure checklist, "
    "every draft round and the newest metrics reading.",
    responses=_READ,
)
async def list_deliverables(
    access: ReadableDeal,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[
        list[DeliverableStatus], Query(alias="status", max_length=len(DeliverableStatus))
    ] = [],  # noqa: B006
) -> Page[DeliverableRead]:
    items, cursor = await deliverables.list_units(session, access, page, status_)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/{deliverable_id}",
    operation_id="getDeliverable",
    summary="One deliverable",
    responses=_READ,
)
async def get_deliverable(
    deliverable_id: uuid.UUID, access: ReadableDeal, session: SessionDep
) -> DeliverableRead:
    """A deliverable with its disclosure checklist, draft rounds and live post, for either party."""
    unit = await deliverables.get_unit(session, access, deliverable_id)
    return await deliverables.to_read(session, access, unit)


@router.post(
    "/{deliverable_id}/submissions",
    status_code=status.HTTP_201_CREATED,
    operation_id="submitDraft",
    summary="Submit a draft for review (creator)",
    description="For a deliverable awaiting a draft (new, or with changes requested) of an "
    "active deal. A draft not reviewed within the brief's review window is approved "
    "automatically.",
    responses=_ACTION,
)
async def submit_draft(
    deliverable_id: uuid.UUID, data: SubmissionCreate, access: CreatorDeal, session: SessionDep
) -> DeliverableRead:
    unit = await deliverables.get_unit(session, access, deliverable_id, lock=True)
    await reviews.submit(session, access, unit, data)
    return await deliverables.to_read(session, access, unit)


@router.post(
    "/{deliverable_id}/submissions/{submission_id}/approve",
    operation_id="approveDraft",
    summary="Approve a draft (brand)",
    responses=_ACTION,
)
async def approve_draft(
    deliverable_id: uuid.UUID,
    submission_id: uuid.UUID,
    data: ApproveDraft,
    access: BrandDeal,
    session: SessionDep,
) -> DeliverableRead:
    """Approves the creator's latest draft round (optionally with a comment); the creator may then
    publish."""
    unit = await deliverables.get_unit(session, access, deliverable_id, lock=True)
    submission = await reviews.get_submission(session, unit, submission_id)
    await reviews.approve(session, access, unit, submission, data)
    return await deliverables.to_read(session, access, unit)


@router.post(
    "/{deliverable_id}/submissions/{submission_id}/request-changes",
    operation_id="requestDraftChanges",
    summary="Send a draft back with comments (brand)",
    description="At most the brief's `max_revision_rounds` times per deliverable; beyond, 409 "
    "`revision_limit`. A reviewed draft cannot be reviewed again (409 `already_reviewed`).",
    responses=_ACTION,
)
async def request_changes(
    deliverable_id: uuid.UUID,
    submission_id: uuid.UUID,
    data: RequestChanges,
    access: BrandDeal,
    session: SessionDep,
) -> DeliverableRead:
    unit = await deliverables.get_unit(session, access, deliverable_id, lock=True)
    submission = await reviews.get_submission(session, unit, submission_id)
    await reviews.request_changes(session, access, unit, submission, data)
    return await deliverables.to_read(session, access, unit)


@router.post(
    "/{deliverable_id}/publish",
    operation_id="publishDeliverable",
    summary="Record the live post of an approved draft (creator)",
    description="A post after the due date (or, without one, the draft due date) is flagged "
    "`late`. The caption is checked against the disclosure checklist: hashtags and mentions "
    "as whole words, case-insensitive, and the paid-partnership label; what is missing is "
    "reported in `disclosure_check`, not refused. The first publication starts the "
    "usage-rights term.",
    responses=_ACTION,
)
async def publish_deliverable(
    deliverable_id: uuid.UUID, data: PublishDeliverable, access: CreatorDeal, session: SessionDep
) -> DeliverableRead:
    unit = await deliverables.get_unit(session, access, deliverable_id, lock=True)
    return await publishing.publish(session, access, unit, data)


@router.post(
    "/{deliverable_id}/metrics",
    status_code=status.HTTP_201_CREATED,
    operation_id="recordDeliverableMetrics",
    summary="Record performance figures of a published deliverable (either party)",
    description="Each reading is kept with who recorded it (`source`) and when; reports use "
    "the newest reading of each deliverable.",
    responses=_ACTION,
)
async def record_metrics(
    deliverable_id: uuid.UUID, data: MetricsCreate, access: PartyDeal, session: SessionDep
) -> MetricsRead:
    unit = await deliverables.get_unit(session, access, deliverable_id, lock=True)
    metrics = await publishing.record_metrics(session, access, unit, data)
    return MetricsRead.model_validate(metrics)


@router.get(
    "/{deliverable_id}/metrics",
    operation_id="listDeliverableMetrics",
    summary="Every performance reading of a deliverable, newest first",
    responses=_READ,
)
async def list_metrics(
    deliverable_id: uuid.UUID, access: ReadableDeal, session: SessionDep, page: PageDep
) -> Page[MetricsRead]:
    """Each recorded reading of reach, impressions and engagement of the deliverable, newest
    first."""
    unit = await deliverables.get_unit(session, access, deliverable_id)
    items, cursor = await publishing.list_metrics(session, unit, page)
    return Page(items=items, next_cursor=cursor)
