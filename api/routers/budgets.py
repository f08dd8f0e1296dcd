"""A brief's campaign budget, for its brand only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Security

from api.deps import SessionDep, require_brand
from api.errors import problem_responses
from api.models.budgets import BudgetRead, BudgetSet
from api.models.memberships import BrandRole
from api.security import Scope
from api.services import briefs, budgets
from api.services.tokens import Principal

router = APIRouter(prefix="/v1/briefs/{brief_id}/budget", tags=["budgets"])

BudgetReader = Annotated[Principal, Security(require_brand, scopes=[Scope.briefs_read])]
BudgetWriter = Annotated[Principal, Security(require_brand, scopes=[Scope.briefs_write])]


@router.get(
    "",
    operation_id="getBriefBudget",
    summary="The campaign's budget and spend: committed, paid, remaining (brand)",
    description="Committed spend is the fee plus the usage-rights licensing fee of each "
    "deal's terms in force (before acceptance, of the proposed terms), over deals that are "
    "not cancelled; paid is its part on deals marked paid. Gifted products are not money "
    "spent: the report counts them when asked (`?include_product_value=true`).",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_budget(
    brief_id: uuid.UUID, principal: BudgetReader, session: SessionDep
) -> BudgetRead:
    brief = await briefs.get_own_brief(session, principal, brief_id)
    return await budgets.read(session, brief)


@router.put(
    "",
    operation_id="setBriefBudget",
    summary="Set or change the campaign's total budget (brand)",
    description="In the brief's currency (else 422 `currency_mismatch`). Once set, accepting "
    "an application whose deal would take committed spend past it needs "
    "`allow_over_budget: true` (else 409 `over_budget`). Lowering it below what is "
    "committed is allowed and shows as `over_budget`.",
    responses=problem_responses(401, 403, 404, 422),
)
async def set_budget(
    brief_id: uuid.UUID, data: BudgetSet, principal: BudgetWriter, session: SessionDep
) -> BudgetRead:
    brief = await briefs.get_own_brief(session, principal, brief_id, BrandRole.manager)
    return await budgets.set_budget(session, brief, principal.user.id, data)
