"""Bulk actions: each item runs in a savepoint of the request's transaction, so one item's
failure undoes only that item and is reported in its place; the others stand."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import AppError, NotFound, Problem, problem_of
from api.models.applications import Application, ApplicationRead
from api.models.briefs import Brief
from api.models.bulk import (
    ApplicationAction,
    ApplicationResult,
    BulkApplicationDecision,
    BulkApplicationResults,
    BulkShipmentCreate,
    BulkShipmentResults,
    ShipmentResult,
)
from api.models.deals import DealRead
from api.models.memberships import BrandRole
from api.models.shipments import ShipmentCreate, ShipmentRead
from api.services import applications, deals, shipments
from api.services.tokens import Principal
from api.settings import Settings

T = TypeVar("T")


async def attempt(
    session: AsyncSession, action: Callable[[], Awaitable[T]]
) -> tuple[T | None, Problem | None]:
    """Run one item in a savepoint: its result, or the problem that undid it."""
    try:
        async with session.begin_nested():
            return await action(), None
    except AppError as exc:
        return None, problem_of(exc)


async def decide_applications(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    brief: Brief,
    data: BulkApplicationDecision,
) -> BulkApplicationResults:
    """Shortlist, decline or accept many applications of one brief. Accepting honours the
    slots exactly as one accept does: once they are taken, the rest fail `slots_filled`."""
    # Locked in id order, so two bulk requests over the same applications cannot deadlock.
    found = {
        a.id: a
        for a in await session.scalars(
            select(Application)
            .where(
                col(Application.id).in_(data.application_ids),
                col(Application.brief_id) == brief.id,
            )
            .order_by(col(Application.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }

    async def act(application_id: uuid.UUID) -> ApplicationRead | DealRead:
        application = found.get(application_id)
        if application is None:
            raise NotFound("application not found")
        if data.action == ApplicationAction.shortlist:
            return applications.to_read(await applications.shortlist(session, application, brief))
        if data.action == ApplicationAction.decline:
            return applications.to_read(await applications.decline(session, application, brief))
        deal = await applications.accept(
            session,
            settings,
            principal,
            application,
            brief,
            allow_over_budget=data.allow_over_budget,
        )
        return await deals.read(session, deal)

    results = []
    for application_id in data.application_ids:
        done, problem = await attempt(session, partial(act, application_id))
        result = ApplicationResult(application_id=application_id, status=200, problem=problem)
        if problem is not None:
            result.status = problem.status
        elif isinstance(done, DealRead):
            result.status, result.deal = 201, done
        else:
            result.application = done
        results.append(result)
    failed = sum(1 for r in results if r.problem is not None)
    return BulkApplicationResults(succeeded=len(results) - failed, failed=failed, results=results)


async def create_shipments(
    session: AsyncSession, principal: Principal, brief: Brief, data: BulkShipmentCreate
) -> BulkShipmentResults:
    """Record shipments for many deals of one brief, each checked like a single one."""

    async def ship(item_index: int) -> ShipmentRead:
        item = data.shipments[item_index]
        access = await deals.load(
            session, principal, item.deal_id, lock=True, need=BrandRole.manager
        )
        if access.deal.brief_id != brief.id:
            raise NotFound("deal not found")
        fields = ShipmentCreate.model_validate(item.model_dump(exclude={"deal_id"}))
        return ShipmentRead.model_validate(await shipments.create(session, access, fields))

    results = []
    for index, item in enumerate(data.shipments):
        done, problem = await attempt(session, partial(ship, index))
        results.append(
            ShipmentResult(
                deal_id=item.deal_id,
                status=problem.status if problem else 201,
                shipment=done,
                problem=problem,
            )
        )
    failed = sum(1 for r in results if r.problem is not None)
    return BulkShipmentResults(succeeded=len(results) - failed, failed=failed, results=results)
