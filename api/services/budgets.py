"""Campaign budgets: the brand's total for a brief, the spend its deals commit and pay, and
the guard that keeps accepting from passing the budget unless the brand says so."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, FieldError, Unprocessable
from api.models.base import utcnow
from api.models.briefs import Brief
from api.models.budgets import BriefBudget, BudgetRead, BudgetSet
from api.models.deals import Deal, DealStatus, DealTerms
from api.services.deals import terms_in_force_join
from api.services.reports import spend_of


async def spend(session: AsyncSession, brief_id: uuid.UUID) -> tuple[int, int]:
    """Committed and paid spend of the brief's deals that are not cancelled (the report's
    rule: fee and licensing fee of the terms in force)."""
    rows = await session.execute(
        select(col(Deal.paid_at), DealTerms)
        .select_from(Deal)
        .join(DealTerms, terms_in_force_join())
        .where(col(Deal.brief_id) == brief_id, col(Deal.status) != DealStatus.cancelled)
    )
    committed = paid = 0
    for paid_at, terms in rows.all():
        amount = spend_of(terms)
        committed += amount
        paid += amount if paid_at is not None else 0
    return committed, paid


async def read(session: AsyncSession, brief: Brief) -> BudgetRead:
    budget = await session.get(BriefBudget, brief.id)
    committed, paid = await spend(session, brief.id)
    amount = budget.amount_minor if budget else None
    return BudgetRead(
        brief_id=brief.id,
        amount_minor=amount,
        currency=budget.currency if budget else brief.currency,
        committed_minor=committed,
        paid_minor=paid,
        remaining_minor=amount - committed if amount is not None else None,
        over_budget=amount is not None and committed > amount,
        updated_at=budget.updated_at if budget else None,
    )


async def set_budget(
    session: AsyncSession, brief: Brief, user_id: uuid.UUID, data: BudgetSet
) -> BudgetRead:
    """Set or change the budget; it is in the brief's currency, as every amount of its deals."""
    if brief.currency is not None and data.currency != brief.currency:
        raise Unprocessable(
            f"the brief's amounts are in {brief.currency}",
            code="currency_mismatch",
            errors=[
                FieldError(loc=["body", "currency"], msg=f"use {brief.currency}", type="mismatch")
            ],
        )
    budget = await session.get(BriefBudget, brief.id, with_for_update=True)
    if budget is None:
        budget = BriefBudget(brief_id=brief.id, amount_minor=0, currency=data.currency)
    budget.amount_minor = data.amount_minor
    budget.currency = data.currency
    budget.updated_by_user_id = user_id
    budget.updated_at = utcnow()
    session.add(budget)
    await session.flush()
    return await read(session, brief)


async def check_commitment(session: AsyncSession, brief: Brief, *, allow_over: bool) -> None:
    """After a new deal: refuse (409 `over_budget`) when the committed spend now passes the
    budget, unless the brand allowed it. Accepts on one brief queue on the brief's row
    (taking the slot locks it), so each sees the spend of those before it."""
    budget = await session.get(BriefBudget, brief.id)
    if budget is None or allow_over:
        return
    committed, _ = await spend(session, brief.id)
    if committed > budget.amount_minor:
        raise Conflict(
            f"accepting commits {committed} {budget.currency} against a budget of "
            f"{budget.amount_minor}: over by {committed - budget.amount_minor}; accept with "
            "allow_over_budget: true to go past it",
            code="over_budget",
        )
