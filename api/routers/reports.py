"""Campaign results per brief, for the brand that owns it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, Security

from api.deps import SessionDep, require_brand
from api.errors import problem_responses
from api.models.reports import BriefReport
from api.security import Scope
from api.services import briefs, exports, reports
from api.services.exports import ExportFormat
from api.services.tokens import Principal

router = APIRouter(prefix="/v1/briefs", tags=["reports"])

BrandReader = Annotated[Principal, Security(require_brand, scopes=[Scope.deals_read])]

REPORT_FORMULAS = """
Totals count deals that are not cancelled; `rows` has one line per deal. As CSV
(`?format=csv` or `Accept: text/csv`) the report has one line per deliverable, with its deal,
creator and newest metrics reading.

* `deliverables`: units owed (dropped ones excluded); `deliverables_on_time`: published on
  or before their due date (or draft due date); `deliverables_late` = published - on time.
* `spend_minor` = Σ (fee_minor + usage_rights.licensing_fee_minor) of the terms in force of
  each deal (before any acceptance: its proposed terms), in the brief's currency.
  `paid_minor`: the part on deals marked paid. Gifted products count separately in
  `gifted_value_minor` (retail value); with `?include_product_value=true` they count as
  spend too (`spend_basis` says which basis was used), so a gifted campaign has a cost per
  engagement and a CPM.
* Performance sums the newest metrics reading of each published deliverable:
  `engagements` = likes + comments + shares + saves.
* `engagement_rate` = engagements / impressions; when no impressions were recorded,
  engagements / reach (`engagement_rate_basis` says which); null when neither.
* `cost_per_engagement_minor` = spend_minor / engagements; `cpm_minor` = spend_minor /
  impressions * 1000; both in minor units as decimal strings (2 places), null when the
  denominator is 0.
"""


@router.get(
    "/{brief_id}/report",
    operation_id="getBriefReport",
    summary="Campaign results of a brief (its brand)",
    description=REPORT_FORMULAS,
    response_model=BriefReport,
    responses={**exports.CSV_RESPONSE, **problem_responses(401, 403, 404, 422)},
)
async def get_report(
    brief_id: uuid.UUID,
    principal: BrandReader,
    session: SessionDep,
    request: Request,
    format_: ExportFormat = None,
    include_product_value: Annotated[
        bool,
        Query(description="Count gifted products at retail value as spend (`spend_basis`)."),
    ] = False,
) -> BriefReport | Response:
    brief = await briefs.get_own_brief(session, principal, brief_id)
    if exports.wants_csv(request, format_):
        return exports.report(request, brief.id)
    return await reports.brief_report(session, brief, include_product_value=include_product_value)
