"""Briefs: drafts, publishing with every rule checked, the lifecycle, and closing at deadline."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Insert,
    Select,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from api.errors import InvalidState, NotFound, Unprocessable
from api.models.base import utcnow
from api.models.briefs import (
    Brief,
    BriefCreate,
    BriefDeliverable,
    BriefRead,
    BriefStatus,
    BriefUpdate,
    CloseReason,
    CompensationType,
    default_disclosure,
    default_usage_rights,
)
from api.models.common import sent_values
from api.models.events import OutboxEvent
from api.models.memberships import BrandRole
from api.models.stored import shaper
from api.models.terms import DeliverableSpec
from api.models.users import Role
from api.services import events, hot_sql, memberships
from api.services.brief_rules import (
    RANGE_FIELDS,
    check_draft_ranges,
    check_open_changes,
    publish_errors,
)
from api.services.tokens import Principal

log = logging.getLogger(__name__)

_TEMPORAL_FIELDS = {"publish_start_date", "publish_end_date", "application_deadline"}
PUBLIC_STATES = frozenset({BriefStatus.open, BriefStatus.closed, BriefStatus.completed})
SWEEP_BATCH = 1000
_UUIDS = ARRAY(UUID(as_uuid=True))


# --- reading --------------------------------------------------------------------------------


def brief_by_id(brief_id: uuid.UUID) -> Select[Brief]:
    return select(Brief).where(col(Brief.id) == brief_id)


# What `BriefRead` shows, as plain columns: hot reads build the schema from Core rows and
# never construct (or track) a `Brief` object.
BRIEF_READ_FIELDS = [name for name in BriefRead.model_fields if name != "deliverables"]
BRIEF_READ_COLUMNS: tuple[Any, ...] = tuple(Brief.__table__.c[name] for name in BRIEF_READ_FIELDS)  # type: ignore[attr-defined]

# A brief's deliverables (as `DeliverableSpec` fields, in order) as one JSON array, read in
# the brief's own statement: one round trip for a brief and its deliverables.
DELIVERABLE_SPECS = (
    select(
        func.coalesce(
            func.jsonb_agg(
                aggregate_order_by(
                    func.jsonb_build_object(
                        literal_column("'platform'"),
                        col(BriefDeliverable.platform),
                        literal_column("'format'"),
                        col(BriefDeliverable.format),
                        literal_column("'quantity'"),
                        col(BriefDeliverable.quantity),
                        literal_column("'alternatives'"),
                        col(BriefDeliverable.alternatives),
                    ),
                    col(BriefDeliverable.position),
                )
            ),
            literal_column("'[]'::jsonb"),
            type_=JSONB,
        )
    )
    .where(col(BriefDeliverable.brief_id) == col(Brief.id))
    .scalar_subquery()
    .label("deliverables")
)
# A brief's columns as a mapping (for its `BriefRead`) that also reads like a `Brief` for
# the rules, without building or tracking an ORM object.
BriefValues = hot_sql.Values


def closed_by_deadline(status: str, deadline: datetime | None, now: datetime) -> bool:
    """An open brief whose application deadline has passed counts as closed."""
    return status == BriefStatus.open and deadline is not None and deadline <= now


def deadline_closure(values: Mapping[str, Any]) -> dict[str, Any]:
    """The columns an expired open brief has once closed at its deadline: what
    `_close_rows_stmt` writes, and what reads present before anything has written it."""
    deadline = values["application_deadline"]
    return {
        "status": BriefStatus.closed,
        "closed_reason": CloseReason.deadline,
        "closed_at": deadline,
        "version": values["version"] + 1,
        "updated_at": max(values["updated_at"], deadline),
    }


# `closed_by_deadline` in SQL: the status reads filter by (statement time, like the sweep).
PRESENTED_STATUS: ColumnElement[str] = case(
    (
        and_(
            col(Brief.status) == BriefStatus.open,
            col(Brief.application_deadline) <= func.now(),
        ),
        literal_column(f"'{BriefStatus.closed.value}'"),
    ),
    else_=col(Brief.status),
)


def presented(values: Mapping[str, Any], now: datetime) -> BriefValues:
    """A brief as reads show it: an open brief past its deadline is closed, whether or
    not the maintenance sweep (or the next write) has persisted that yet. Reads never write."""
    out = BriefValues(values)
    if closed_by_deadline(out["status"], out["application_deadline"], now):
        out.update(deadline_closure(out))
    return out


# The deliverables of a list of briefs, built once: `= ANY(:ids)` takes any number of ids in
# one parameter, so it is also one prepared statement.
DELIVERABLES_OF = (
    select(
        col(BriefDeliverable.brief_id),
        col(BriefDeliverable.platform),
        col(BriefDeliverable.format),
        col(BriefDeliverable.quantity),
        col(BriefDeliverable.alternatives),
    )
    .where(col(BriefDeliverable.brief_id) == any_(bindparam("ids", type_=_UUIDS)))
    .order_by(col(BriefDeliverable.brief_id), col(BriefDeliverable.position))
)


async def deliverables_of(session: AsyncSession, brief_id: uuid.UUID) -> list[BriefDeliverable]:
    """A brief's deliverables, in order, as table rows (for the rules and updates)."""
    rows = await session.scalars(
        select(BriefDeliverable)
        .where(col(BriefDeliverable.brief_id) == brief_id)
        .order_by(col(BriefDeliverable.position))
    )
    return list(rows)


async def deliverable_specs_of(
    session: AsyncSession, brief_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each brief's deliverables (as `DeliverableSpec` fields), in order, in one query."""
    out: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in brief_ids}
    if not brief_ids:
        return out
    connection = await session.connection()
    for row in await connection.execute(DELIVERABLES_OF, {"ids": list(brief_ids)}):
        out[row.brief_id].append(
            {
                "platform": row.platform,
                "format": row.format,
                "quantity": row.quantity,
                "alternatives": row.alternatives,
            }
        )
    return out


async def reads_of(session: AsyncSession, rows: Sequence[Mapping[Any, Any]]) -> list[BriefRead]:
    """API views of briefs given as column mappings (Core rows or a `Brief`'s fields)."""
    children = await deliverable_specs_of(session, [r["id"] for r in rows])
    return [BriefRead.model_validate({**r, "deliverables": children[r["id"]]}) for r in rows]


async def to_reads(session: AsyncSession, briefs: Sequence[Brief]) -> list[BriefRead]:
    """API views of briefs, with their deliverables loaded in one query."""
    return await reads_of(session, [{n: getattr(b, n) for n in BRIEF_READ_FIELDS} for b in briefs])


async def to_read(session: AsyncSession, brief: Brief) -> BriefRead:
    return (await to_reads(session, [brief]))[0]


def _visible(principal: Principal, brand_id: uuid.UUID, status: str) -> bool:
    if principal.role == Role.admin or memberships.is_member(principal, brand_id):
        return True
    return status in PUBLIC_STATES


def can_read(principal: Principal, brief: Brief) -> bool:
    """Drafts and cancelled briefs are their brand's (and admins') business alone."""
    return _visible(principal, brief.brand_id, brief.status)


async def get_visible_brief(
    session: AsyncSession, principal: Principal, brief_id: uuid.UUID
) -> Brief:
    """A brief the caller may see; 404 alike for unknown and private ones. An open brief
    past its deadline is presented closed (not written: see `presented`)."""
    brief = await session.scalar(brief_by_id(brief_id).execution_options(populate_existing=True))
    if brief is None or not can_read(principal, brief):
        raise NotFound("brief not found")
    if _expired(brief, utcnow()):
        # As loaded, not as changed: nothing is flushed for it; the sweep writes the same.
        for name, value in deadline_closure(brief.__dict__).items():
            set_committed_value(brief, name, value)
    return brief


async def get_own_brief(
    session: AsyncSession,
    principal: Principal,
    brief_id: uuid.UUID,
    need: BrandRole = BrandRole.viewer,
) -> Brief:
    """A brief of one of the caller's brands (read, not locked), where the caller's role is
    at least `need`; 404 alike for any other brand's, 403 for a role too low."""
    brief = await get_visible_brief(session, principal, brief_id)
    memberships.require_role(principal, brief.brand_id, need, noun="brief")
    return brief


def visible_values(principal: Principal, row: Mapping[str, Any]) -> BriefValues:
    """A row of `hot_sql.BRIEF_BY_ID` (its `id` null when there is no such brief) as reads
    present it, if the caller may see it (404 alike for unknown and private ones): it reads
    like a `Brief` for the rules, and no ORM object is built."""
    if row["id"] is None:
        raise NotFound("brief not found")
    values = {name: row[name] for name in BRIEF_READ_FIELDS}
    deliverables = row["deliverables"]
    values["deliverables"] = (
        json.loads(deliverables) if isinstance(deliverables, str) else deliverables
    )
    brief = presented(values, utcnow())
    if not _visible(principal, brief.brand_id, brief.status):
        raise NotFound("brief not found")
    return brief


def own_values(
    principal: Principal, row: Mapping[str, Any], need: BrandRole = BrandRole.viewer
) -> BriefValues:
    """`get_own_brief` for a row of `hot_sql.BRIEF_BY_ID`: a brief of one of the caller's
    brands where the caller's role is at least `need`; 404 alike for any other brand's,
    403 for a role too low."""
    brief = visible_values(principal, row)
    memberships.require_role(principal, brief.brand_id, need, noun="brief")
    return brief


# A brief's values (its row, deliverables included) as `BriefRead` serialises them; the
# row was validated when it was written (`api.models.stored`).
read_values = shaper(BriefRead)


def visible_read(principal: Principal, row: Mapping[str, Any]) -> dict[str, Any]:
    """`visible_values` as the brief's API view (`BriefRead`'s JSON values)."""
    return read_values(visible_values(principal, row))


async def lock_owned_brief(
    session: AsyncSession, principal: Principal, brief_id: uuid.UUID
) -> Brief:
    """A brief of one of the caller's brands, locked for the rest of the transaction, for a
    manager or owner of that brand; 404 for any other brand's, 403 for a viewer."""
    brief = await session.scalar(
        select(Brief)
        .where(col(Brief.id) == brief_id, col(Brief.brand_id).in_(list(principal.brands)))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if brief is None:
        raise NotFound("brief not found")
    memberships.require_role(principal, brief.brand_id, BrandRole.manager, noun="brief")
    now = utcnow()
    if _expired(brief, now):
        _close(brief, CloseReason.deadline, closed_at=brief.application_deadline or now)
        await session.flush()
        await record_brief_event(session, "brief.closed", brief)
    return brief


# --- closing at the deadline ----------------------------------------------------------------


def _expired(brief: Brief, now: datetime) -> bool:
    return closed_by_deadline(brief.status, brief.application_deadline, now)


def _expired_rows(*where: ColumnElement[bool]) -> Any:
    return select(col(Brief.id)).where(
        col(Brief.status) == BriefStatus.open,
        col(Brief.application_deadline) <= func.now(),
        *where,
    )


def _close_rows_stmt(ids: Any) -> Insert:
    """Close the briefs and record a `brief.closed` event for each, in one statement (the
    sweep and writes run it; reads only present an expired brief as closed): the payload
    is `BriefRead`'s fields, built in SQL."""
    closed = (
        update(Brief)
        .where(col(Brief.id).in_(ids), col(Brief.status) == BriefStatus.open)
        .values(
            status=BriefStatus.closed,
            closed_reason=CloseReason.deadline,
            closed_at=col(Brief.application_deadline),
            version=col(Brief.version) + 1,
            # As `deadline_closure` presents it: reads before and after this agree.
            updated_at=func.greatest(col(Brief.updated_at), col(Brief.application_deadline)),
        )
        .returning(*BRIEF_READ_COLUMNS)
        .cte("closed")
    )
    specs = (
        select(
            func.coalesce(
                func.jsonb_agg(
                    aggregate_order_by(
                        func.jsonb_build_object(
                            "platform",
                            col(BriefDeliverable.platform),
                            "format",
                            col(BriefDeliverable.format),
                            "quantity",
                            col(BriefDeliverable.quantity),
                            "alternatives",
                            col(BriefDeliverable.alternatives),
                        ),
                        col(BriefDeliverable.position),
                    )
                ),
                literal_column("'[]'::jsonb"),
            )
        )
        .where(col(BriefDeliverable.brief_id) == closed.c.id)
        .scalar_subquery()
    )
    fields = [part for name in BRIEF_READ_FIELDS for part in (literal(name), closed.c[name])]
    payload = func.jsonb_build_object(*fields, literal("deliverables"), specs)
    return (
        # The Core table: an ORM-enabled INSERT .. SELECT is not what this is.
        insert(OutboxEvent.__table__)  # type: ignore[attr-defined]
        .from_select(
            ["id", "type", "brand_id", "payload", "occurred_at"],
            select(
                func.gen_random_uuid(),
                literal("brief.closed"),
                closed.c.brand_id,
                payload,
                func.now(),
            ),
        )
        .execution_options(synchronize_session=False)
    )


def close_expired_stmt(*where: ColumnElement[bool]) -> Insert:
    """Close the matching open briefs past their deadline; rows locked in id order."""
    return _close_rows_stmt(_expired_rows(*where).order_by(col(Brief.id)).with_for_update())


async def _close_rows(session: AsyncSession, stmt: Insert) -> int:
    result = cast(CursorResult[Any], await session.execute(stmt))
    return result.rowcount


async def close_expired(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    """Close the matching open briefs whose deadline has passed, before they are read.

    Rows are locked in id order, so concurrent callers queue rather than deadlock.
    """
    return await _close_rows(session, close_expired_stmt(*where))


async def close_expired_briefs(session: AsyncSession, *, limit: int = SWEEP_BATCH) -> int:
    """Close up to `limit` open briefs whose application deadline has passed.

    One UPDATE, safe to run from every worker at once: rows another transaction holds are
    skipped (`SKIP LOCKED`) and picked up by the next run; a brief already closed no longer
    matches. Returns how many briefs it closed.
    """
    ids = _expired_rows().order_by(col(Brief.id)).limit(limit).with_for_update(skip_locked=True)
    return await _close_rows(session, _close_rows_stmt(ids))


# --- writing --------------------------------------------------------------------------------


def _column_values(data: BaseModel, *, exclude_unset: bool) -> dict[str, Any]:
    if exclude_unset:
        values = sent_values(data, mode="json", exclude={"deliverables"})
    else:
        values = data.model_dump(mode="json", exclude={"deliverables"})
    for name in _TEMPORAL_FIELDS & values.keys():
        values[name] = getattr(data, name)
    deadline = values.get("application_deadline")
    if deadline is not None:
        values["application_deadline"] = deadline.astimezone(UTC)
    return values


async def _replace_deliverables(
    session: AsyncSession, brief_id: uuid.UUID, items: Sequence[DeliverableSpec]
) -> None:
    await session.execute(
        delete(BriefDeliverable).where(col(BriefDeliverable.brief_id) == brief_id)
    )
    for position, item in enumerate(items):
        session.add(
            BriefDeliverable(
                brief_id=brief_id,
                position=position,
                platform=item.platform,
                format=item.format,
                quantity=item.quantity,
                alternatives=[a.model_dump(mode="json") for a in item.alternatives],
            )
        )


def _touch(brief: Brief, now: datetime | None = None) -> None:
    brief.version += 1
    brief.updated_at = now or utcnow()


async def create_brief(session: AsyncSession, brand_id: uuid.UUID, data: BriefCreate) -> Brief:
    """A new draft; disclosure and usage rights default from the compensation type."""
    values = _column_values(data, exclude_unset=False)
    check_draft_ranges(values)
    compensation = data.compensation_type
    if data.disclosure is None:
        values["disclosure"] = default_disclosure(compensation).model_dump(mode="json")
    if data.usage_rights is None:
        values["usage_rights"] = default_usage_rights(compensation).model_dump(mode="json")
    brief = Brief(brand_id=brand_id, **values)
    session.add(brief)
    await session.flush()
    await _replace_deliverables(session, brief.id, data.deliverables)
    await session.flush()
    await record_brief_event(session, "brief.created", brief)
    return brief


def _current(brief: Brief, deliverables: Sequence[BriefDeliverable]) -> dict[str, Any]:
    return {
        **{
            name: getattr(brief, name)
            for name in BriefUpdate.model_fields
            if name != "deliverables"
        },
        "deliverables": [
            {
                "platform": d.platform,
                "format": d.format,
                "quantity": d.quantity,
                "alternatives": d.alternatives,
            }
            for d in deliverables
        ],
    }


def _changes(data: BriefUpdate, current: dict[str, Any]) -> dict[str, Any]:
    """The fields the update really changes (resending a value unchanged is no change)."""
    values = _column_values(data, exclude_unset=True)
    if "deliverables" in data.model_fields_set and data.deliverables is not None:
        values["deliverables"] = [d.model_dump(mode="json") for d in data.deliverables]
    return {k: v for k, v in values.items() if v != current[k]}


def _follow_compensation_defaults(brief: Brief, changes: dict[str, Any]) -> None:
    """A draft switching compensation type keeps defaults in step, unless customised."""
    if "compensation_type" not in changes:
        return
    old = CompensationType(brief.compensation_type)
    new = CompensationType(changes["compensation_type"])
    if "usage_rights" not in changes and (
        brief.usage_rights == default_usage_rights(old).model_dump(mode="json")
    ):
        changes["usage_rights"] = default_usage_rights(new).model_dump(mode="json")
    if "disclosure" not in changes and (
        brief.disclosure == default_disclosure(old).model_dump(mode="json")
    ):
        changes["disclosure"] = default_disclosure(new).model_dump(mode="json")


async def update_brief(session: AsyncSession, brief: Brief, data: BriefUpdate) -> Brief:
    """Apply an update: anything to a draft, only harmless changes to an open brief."""
    if brief.status not in (BriefStatus.draft, BriefStatus.open):
        raise InvalidState(f"a {brief.status} brief cannot be changed")
    children = await deliverables_of(session, brief.id)
    changes = _changes(data, _current(brief, children))
    if not changes:
        return brief
    if brief.status == BriefStatus.open:
        check_open_changes(brief, changes)
    else:
        merged = {name: changes.get(name, getattr(brief, name)) for name in RANGE_FIELDS}
        check_draft_ranges(merged, changed=changes.keys())
        _follow_compensation_defaults(brief, changes)
    new_deliverables = changes.pop("deliverables", None)
    brief.sqlmodel_update(changes)
    if new_deliverables is not None and data.deliverables is not None:
        await _replace_deliverables(session, brief.id, data.deliverables)
    _touch(brief)
    session.add(brief)
    await session.flush()
    await record_brief_event(session, "brief.updated", brief)
    return brief


# --- the lifecycle --------------------------------------------------------------------------


def _require_status(brief: Brief, allowed: Iterable[BriefStatus], action: str) -> None:
    if brief.status not in set(allowed):
        raise InvalidState(f"a {brief.status} brief cannot be {action}")


def _close(brief: Brief, reason: CloseReason, *, closed_at: datetime) -> None:
    brief.status = BriefStatus.closed
    brief.closed_reason = reason
    brief.closed_at = closed_at
    _touch(brief)


async def publish_brief(session: AsyncSession, brief: Brief) -> Brief:
    """Open a draft to applications, after checking every rule; 422 lists each failure."""
    _require_status(brief, [BriefStatus.draft], "published")
    now = utcnow()
    children = await deliverables_of(session, brief.id)
    errors = publish_errors(brief, children, now)
    if errors:
        raise Unprocessable(
            f"the brief cannot be published: {len(errors)} problem(s)",
            code="brief_invalid",
            errors=errors,
        )
    brief.status = BriefStatus.open
    brief.published_at = now
    _touch(brief, now)
    session.add(brief)
    await session.flush()
    await record_brief_event(session, "brief.published", brief)
    return brief


async def close_brief(session: AsyncSession, brief: Brief) -> Brief:
    """The brand stops taking applications; pending applications stay readable."""
    _require_status(brief, [BriefStatus.open], "closed")
    _close(brief, CloseReason.brand, closed_at=utcnow())
    session.add(brief)
    await session.flush()
    await record_brief_event(session, "brief.closed", brief)
    return brief


async def cancel_brief(session: AsyncSession, brief: Brief) -> Brief:
    _require_status(brief, [BriefStatus.draft, BriefStatus.open], "cancelled")
    brief.status = BriefStatus.cancelled
    brief.cancelled_at = utcnow()
    _touch(brief, brief.cancelled_at)
    session.add(brief)
    await session.flush()
    await record_brief_event(session, "brief.cancelled", brief)
    return brief


async def complete_brief(session: AsyncSession, brief: Brief) -> Brief:
    _require_status(brief, [BriefStatus.closed], "completed")
    brief.status = BriefStatus.completed
    brief.completed_at = utcnow()
    _touch(brief, brief.completed_at)
    session.add(brief)
    await session.flush()
    await record_brief_event(session, "brief.completed", brief)
    return brief


async def record_brief_event(session: AsyncSession, event_type: str, brief: Brief) -> None:
    """A brief event for its brand, with the brief as the API returns it."""
    await events.record(session, event_type, await to_read(session, brief), brand_id=brief.brand_id)
