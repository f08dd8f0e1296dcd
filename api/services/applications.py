"""Applying to briefs, and the brand's decisions: shortlist, decline, accept."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from api.errors import Conflict, FieldError, InvalidState, NotFound, Unprocessable
from api.matching.apply import score_application
from api.models.applications import (
    PENDING_STATES,
    Application,
    ApplicationCreate,
    ApplicationRead,
    ApplicationSort,
    ApplicationStatus,
    DeliverableChoice,
)
from api.models.base import utcnow
from api.models.briefs import Brief, BriefStatus, CloseReason, CompensationType
from api.models.creators import Creator, SocialAccount
from api.models.deals import Deal
from api.models.memberships import BrandRole
from api.models.users import Role
from api.pagination import PageParams, keyset, make_page, parse_datetime, parse_float, parse_int
from api.services import (
    briefs,
    budgets,
    creators,
    deals,
    deliverable_options,
    events,
    hot_sql,
    invitations,
    memberships,
)
from api.services.tokens import HotCaller, Principal
from api.settings import Settings

_UUIDS = ARRAY(UUID(as_uuid=True))


def pays_a_fee(brief: Brief) -> bool:
    """Paid briefs, and hybrid ones with a fee range (a hybrid may instead give a product)."""
    if brief.compensation_type == CompensationType.paid:
        return True
    return brief.compensation_type == CompensationType.hybrid and brief.fee_max_minor is not None


def to_read(application: Application) -> ApplicationRead:
    return ApplicationRead.model_validate(application, from_attributes=True)


def _input_errors(brief: Brief, data: ApplicationCreate) -> list[FieldError]:
    errors: list[FieldError] = []
    if pays_a_fee(brief) and data.proposed_fee_minor is None:
        errors.append(
            FieldError(
                loc=["body", "proposed_fee_minor"],
                msg=f"this {brief.compensation_type} brief needs your proposed fee",
                type="missing",
            )
        )
    if not pays_a_fee(brief) and data.proposed_fee_minor is not None:
        errors.append(
            FieldError(
                loc=["body", "proposed_fee_minor"],
                msg=f"this {brief.compensation_type} brief pays no fee",
                type="not_allowed",
            )
        )
    questions = brief.screening_questions
    answered: set[int] = set()
    for i, answer in enumerate(data.answers):
        if answer.question_index >= len(questions) or answer.question_index in answered:
            errors.append(
                FieldError(
                    loc=["body", "answers", i, "question_index"],
                    msg="no such question, or answered twice",
                    type="value_error",
                )
            )
        answered.add(answer.question_index)
    for index, question in enumerate(questions):
        if question.get("required", True) and index not in answered:
            errors.append(
                FieldError(
                    loc=["body", "answers"],
                    msg=f"answer question {index}: {question['question']}",
                    type="missing",
                )
            )
    return errors


async def offered_accounts(
    session: AsyncSession, creator_id: uuid.UUID, account_ids: list[uuid.UUID]
) -> Sequence[SocialAccount]:
    """The offered accounts that are the creator's, as values that read like the model."""
    connection = await session.connection()
    rows = await hot_sql.fetch(
        connection, hot_sql.OFFERED_ACCOUNTS, sorted(set(account_ids)), creator_id
    )
    return cast(Sequence[SocialAccount], [hot_sql.values(row) for row in rows])


def require_offered(rows: Sequence[Any], account_ids: list[uuid.UUID]) -> None:
    """Every account offered must be the creator's own."""
    if len(rows) != len(set(account_ids)):
        raise Unprocessable(
            "offer your own social accounts",
            code="unknown_account",
            errors=[
                FieldError(
                    loc=["body", "account_ids"],
                    msg="one or more accounts are not yours or do not exist",
                    type="value_error",
                )
            ],
        )


def check_application(brief: Brief, data: ApplicationCreate) -> None:
    """The brief takes applications and the answers fit it; else 409 or 422."""
    if brief.status != BriefStatus.open:
        raise Conflict(f"the brief is {brief.status}, not open", code="brief_not_open")
    errors = _input_errors(brief, data)
    if errors:
        raise Unprocessable("the application is invalid", errors=errors)


async def application_values(
    session: AsyncSession,
    settings: Settings,
    brief: Brief,
    creator: Creator,
    accounts: Sequence[SocialAccount],
    data: ApplicationCreate,
) -> dict[str, Any]:
    """The new application's row, after the hard requirements (422 `ineligible` if unmet,
    checked by `score_application`)."""
    score, parts = await score_application(
        session, brief, creator, accounts, data.proposed_fee_minor, settings
    )
    return {
        "id": uuid.uuid4(),
        "brief_id": brief.id,
        "creator_id": creator.id,
        "invitation_id": None,
        "status": ApplicationStatus.submitted,
        "pitch": data.pitch,
        "account_ids": sorted(set(data.account_ids)),
        "proposed_fee_minor": data.proposed_fee_minor,
        "currency": brief.currency if data.proposed_fee_minor is not None else None,
        "answers": [a.model_dump() for a in data.answers],
        "deliverable_choices": [c.model_dump(mode="json") for c in data.deliverable_choices],
        "available_for_publish_date": data.available_for_publish_date,
        "match_score": score,
        "match_parts": parts,
    }


async def add_application(session: AsyncSession, values: dict[str, Any]) -> hot_sql.Values | None:
    """Insert the application row (`hot_sql.INSERT_APPLICATION`); None if the creator has
    applied already."""
    now = utcnow()
    row = {"decided_at": None, "created_at": now, "updated_at": now, **values}
    args = [
        json.dumps(row[name]) if name in _JSON_COLUMNS else row[name]
        for name in hot_sql.APPLICATION_COLUMNS
    ]
    connection = await session.connection()
    added = await hot_sql.fetchrow(connection, hot_sql.INSERT_APPLICATION, *args)
    return hot_sql.values(added) if added is not None else None


_JSON_COLUMNS = frozenset({"answers", "deliverable_choices", "match_parts"})


async def apply(
    session: AsyncSession,
    settings: Settings,
    caller: HotCaller,
    brief_id: uuid.UUID,
    data: ApplicationCreate,
) -> ApplicationRead:
    """Apply to an open brief before its deadline, once; hard requirements are checked.

    The hot write path: the brief, the creator, the accounts and the new row are fixed
    statements on the driver (`api.services.hot_sql`) read as plain values (each reads like
    its model for the rules), so no ORM object is built. The caller may come from this
    worker's cache: the brief's statement confirms it (`HotCaller.confirm`).
    """
    connection = await session.connection()
    row = await hot_sql.fetchrow(connection, hot_sql.BRIEF_BY_ID, brief_id)
    assert row is not None  # the one-row access_state, joined
    principal = await caller.confirm(connection, row["access_version"])
    creator = cast(Creator, await creators.creator_row_of(session, principal.user.id))
    brief = cast(Brief, briefs.visible_values(principal, row))
    check_application(brief, data)
    accounts = await offered_accounts(session, creator.id, data.account_ids)
    require_offered(accounts, data.account_ids)
    if data.deliverable_choices:
        rows = await briefs.deliverables_of(session, brief.id)
        deliverable_options.check_choices(
            rows, data.deliverable_choices, {a.platform for a in accounts}
        )
    values = await application_values(session, settings, brief, creator, accounts, data)
    values["invitation_id"] = await invitations.consume(session, brief.id, creator.id)
    added = await add_application(session, values)
    if added is None:
        raise Conflict("you already applied to this brief", code="already_applied")
    read = ApplicationRead.model_validate(added)
    await events.record(
        session, "application.created", read, brand_id=brief.brand_id, creator_id=creator.id
    )
    return read


def applicant_order(sort: ApplicationSort) -> tuple[list[Any], list[Any], list[bool]]:
    """The sort columns of a brief's applicants (with the id last), their cursor parsers
    and directions: one order for the pages and the CSV export."""
    if sort == ApplicationSort.match_score:
        return (
            [col(Application.match_score), col(Application.id)],
            [parse_float, uuid.UUID],
            [True, True],
        )
    if sort == ApplicationSort.proposed_fee:
        # Cheapest first; applications without a fee (gifted briefs) sort as 0.
        return (
            [func.coalesce(col(Application.proposed_fee_minor), 0), col(Application.id)],
            [parse_int, uuid.UUID],
            [False, False],
        )
    return (
        [col(Application.created_at), col(Application.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )


async def list_for_brief(
    connection: AsyncConnection,
    brief_id: uuid.UUID,
    page: PageParams,
    *,
    statuses: list[ApplicationStatus],
    sort: ApplicationSort,
) -> tuple[list[ApplicationRead], str | None]:
    """A page of the brief's applicants: a hot read, its statement compiled once per shape
    and sent to the driver (`hot_sql.compiled`), its records read into `ApplicationRead`."""
    stmt = select(Application).where(col(Application.brief_id) == brief_id)
    if statuses:
        stmt = stmt.where(col(Application.status).in_(statuses))
    columns, parsers, descending = applicant_order(sort)
    sql, args = hot_sql.compiled(connection, keyset(stmt, page, columns, parsers, descending))
    rows = [hot_sql.values(row) for row in await hot_sql.fetch(connection, sql, *args)]

    def key(a: Any) -> tuple[Any, ...]:
        if sort == ApplicationSort.match_score:
            return (a.match_score, a.id)
        if sort == ApplicationSort.proposed_fee:
            return (a.proposed_fee_minor or 0, a.id)
        return (a.created_at, a.id)

    kept, cursor = make_page(rows, page, key)
    return [ApplicationRead.model_validate(row) for row in kept], cursor


async def list_for_creator(
    session: AsyncSession,
    creator_id: uuid.UUID,
    page: PageParams,
    statuses: list[ApplicationStatus],
) -> tuple[list[Application], str | None]:
    stmt = select(Application).where(col(Application.creator_id) == creator_id)
    if statuses:
        stmt = stmt.where(col(Application.status).in_(statuses))
    stmt = keyset(
        stmt,
        page,
        [col(Application.created_at), col(Application.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.scalars(stmt)).all()
    return make_page(rows, page, lambda a: (a.created_at, a.id))


async def get_for_party(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    lock: bool = False,
    need: BrandRole = BrandRole.viewer,
) -> tuple[Application, Brief]:
    """The application and its brief, if the caller is its creator or a member of the
    brief's brand with at least the role `need` (or an admin, read-only); 404 alike for
    unknown and other people's applications, 403 for a brand role too low."""
    stmt = (
        select(Application, Brief)
        .join(Brief, col(Brief.id) == col(Application.brief_id))
        .join(Creator, col(Creator.id) == col(Application.creator_id))
        .where(col(Application.id) == application_id)
    )
    if principal.role == Role.brand:
        stmt = stmt.where(col(Brief.brand_id).in_(list(principal.brands)))
    elif principal.role == Role.creator:
        stmt = stmt.where(col(Creator.user_id) == principal.user.id)
    if lock:
        stmt = stmt.with_for_update(of=Application).execution_options(populate_existing=True)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("application not found")
    if principal.role == Role.brand:
        memberships.require_role(principal, row[1].brand_id, need, noun="application")
    return row[0], row[1]


def _require_pending(application: Application, action: str) -> None:
    if application.status not in PENDING_STATES:
        raise InvalidState(f"a {application.status} application cannot be {action}")


async def _decide(
    session: AsyncSession, application: Application, brief: Brief, status: ApplicationStatus
) -> Application:
    application.status = status
    application.updated_at = utcnow()
    if status != ApplicationStatus.shortlisted:
        application.decided_at = application.updated_at
    session.add(application)
    await session.flush()
    await events.record(
        session,
        "application.updated",
        to_read(application),
        brand_id=brief.brand_id,
        creator_id=application.creator_id,
    )
    return application


async def shortlist(session: AsyncSession, application: Application, brief: Brief) -> Application:
    if application.status != ApplicationStatus.submitted:
        raise InvalidState(f"a {application.status} application cannot be shortlisted")
    return await _decide(session, application, brief, ApplicationStatus.shortlisted)


async def decline(session: AsyncSession, application: Application, brief: Brief) -> Application:
    _require_pending(application, "declined")
    return await _decide(session, application, brief, ApplicationStatus.declined)


async def withdraw(session: AsyncSession, application: Application, brief: Brief) -> Application:
    _require_pending(application, "withdrawn")
    return await _decide(session, application, brief, ApplicationStatus.withdrawn)


async def _take_slot(session: AsyncSession, brief: Brief) -> str:
    """Count one more accepted creator, closing the brief on its last slot.

    One guarded UPDATE: concurrent accepts queue on the brief's row and each re-checks
    `accepted_count < slots`, so the slots are never exceeded.
    """
    fills = col(Brief.accepted_count) + 1 >= col(Brief.slots)
    stmt = (
        update(Brief)
        .where(
            col(Brief.id) == brief.id,
            col(Brief.status).in_([BriefStatus.open, BriefStatus.closed]),
            col(Brief.accepted_count) < col(Brief.slots),
        )
        .values(
            accepted_count=col(Brief.accepted_count) + 1,
            status=case((fills, BriefStatus.closed), else_=col(Brief.status)),
            closed_reason=case((fills, CloseReason.slots_filled), else_=col(Brief.closed_reason)),
            closed_at=case((fills, func.now()), else_=col(Brief.closed_at)),
            version=col(Brief.version) + 1,
            updated_at=func.now(),
        )
        .returning(col(Brief.status))
        .execution_options(synchronize_session=False)
    )
    taken = (await session.execute(stmt)).first()
    if taken is None:
        current = await session.scalar(select(col(Brief.status)).where(col(Brief.id) == brief.id))
        if current not in (BriefStatus.open, BriefStatus.closed):
            raise InvalidState(f"the brief is {current}", code="brief_not_open")
        raise Conflict("every slot of this brief is taken", code="slots_filled")
    status: str = taken[0]
    return status


async def accept(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    application: Application,
    brief: Brief,
    *,
    allow_over_budget: bool = False,
    choices: Sequence[DeliverableChoice] = (),
) -> Deal:
    """Accept the application and create its deal, atomically; never beyond the slots, nor
    past the campaign's budget unless `allow_over_budget`. Either-or deliverables are
    pinned to the brand's `choices`, else the creator's, else the first offered option."""
    _require_pending(application, "accepted")
    rows = await briefs.deliverables_of(session, brief.id)
    platforms = set(
        await session.scalars(
            select(col(SocialAccount.platform)).where(
                col(SocialAccount.id).in_(application.account_ids)
            )
        )
    )
    creators_choice = [DeliverableChoice.model_validate(c) for c in application.deliverable_choices]
    chosen = {
        # The creator's choices were checked at apply; an account deleted since may leave
        # one on a platform no longer offered, which the fallback then replaces.
        c.deliverable: (str(c.platform), str(c.format))
        for c in creators_choice
        if c.deliverable < len(rows) and c.platform in platforms
    }
    chosen.update(deliverable_options.check_choices(rows, choices, platforms))
    pinned = deliverable_options.pin(rows, chosen, platforms)
    was_open = brief.status == BriefStatus.open
    if await _take_slot(session, brief) == BriefStatus.closed and was_open:
        # The last slot: the brief closed with this acceptance.
        await session.refresh(brief)
        await briefs.record_brief_event(session, "brief.closed", brief)
    await _decide(session, application, brief, ApplicationStatus.accepted)
    deal = await deals.create_from_application(
        session, settings, principal, brief, application, rows=rows, pinned=pinned
    )
    await budgets.check_commitment(session, brief, allow_over=allow_over_budget)
    return deal
