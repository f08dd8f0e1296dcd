"""Deals: read by their two parties; versioned terms, usage rights, cancel and mark paid."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from api import etags
from api.deps import SessionDep
from api.errors import problem_responses
from api.models.common import ApiDate
from api.models.deals import DealCancel, DealRead, DealStatus, DealTermsRead, TermsProposal
from api.models.usage_rights import UsageRightsOnDate
from api.pagination import Page, PageDep
from api.routers.deal_access import (
    BrandDeal,
    DealReader,
    IfMatch,
    PartyDeal,
    ReadableDeal,
    with_etag,
)
from api.services import deals, terms, usage_rights
from api.services.deals import DealAccess

router = APIRouter(prefix="/v1/deals", tags=["deals"])

Version = Annotated[int, Path(ge=1, le=1_000_000)]


async def _answer(response: Response, session: AsyncSession, access: DealAccess) -> DealRead:
    response.headers["ETag"] = deals.etag(access.deal)
    return await deals.read(session, access.deal)


@router.get(
    "",
    operation_id="listDeals",
    summary="Your deals, as brand or creator, newest first",
    responses=problem_responses(401, 403, 422),
)
async def list_deals(
    principal: DealReader,
    session: SessionDep,
    page: PageDep,
    status: Annotated[list[DealStatus], Query(max_length=len(DealStatus))] = [],  # noqa: B006
    brand_id: Annotated[
        uuid.UUID | None,
        Query(description="Only this brand's deals (for a brand member: one of your brands)."),
    ] = None,
) -> Page[DealRead]:
    """Deals where you are the brand (any of your brands, or `brand_id`) or the creator,
    newest first, optionally filtered by status."""
    items, cursor = await deals.list_for_party(session, principal, page, status, brand_id)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/{deal_id}",
    operation_id="getDeal",
    summary="One deal (its two parties only) with its current terms",
    responses=with_etag(401, 403, 404, 422),
)
async def get_deal(access: ReadableDeal, session: SessionDep, response: Response) -> DealRead:
    """The deal with its current (last accepted) terms and any pending proposal. Its `ETag` guards
    term proposals and acceptances."""
    return await _answer(response, session, access)


# --- terms ----------------------------------------------------------------------------------


@router.get(
    "/{deal_id}/terms",
    operation_id="listDealTerms",
    summary="Every terms version of the deal, newest first",
    description="Who proposed each version and when, who accepted it and when. Accepted "
    "versions never change; versions replaced before acceptance are `superseded`.",
    responses=with_etag(401, 403, 404, 422),
)
async def list_terms(
    access: ReadableDeal, session: SessionDep, page: PageDep, response: Response
) -> Page[DealTermsRead]:
    items, cursor = await terms.history(session, access, page)
    response.headers["ETag"] = deals.etag(access.deal)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/{deal_id}/terms/{version}",
    operation_id="getDealTerms",
    summary="One terms version",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_terms(version: Version, access: ReadableDeal, session: SessionDep) -> DealTermsRead:
    """One version of the deal's terms, accepted or not: compensation, deliverables, publish dates
    and usage rights."""
    found = await terms.get_version(session, access, version)
    return deals.terms_read(found, access.deal.current_version)


@router.post(
    "/{deal_id}/terms",
    status_code=status.HTTP_201_CREATED,
    operation_id="proposeDealTerms",
    summary="Propose a new terms version (needs `If-Match`)",
    description="Either party proposes; the fields sent replace those of the current version, "
    "the rest carry over. Send the deal's `ETag` in `If-Match`: without it 428, stale 412. "
    'The ETag is `"<current version>.<accepted version or 0>"` and changes with every '
    "proposal, acceptance and withdrawal. A proposal on an active deal (an amendment) "
    "leaves it `active` under the version in force and shows as its `pending_amendment` "
    "until the other party accepts it or the proposer withdraws it; an earlier unaccepted "
    "version is `superseded`. Rules by compensation type are checked (422 `terms_invalid` "
    "names each field); a quantity may not drop below what is already published.",
    responses=with_etag(401, 403, 404, 409, 412, 422, 428, success=201),
)
async def propose_terms(
    data: TermsProposal,
    access: PartyDeal,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> DealTermsRead:
    etags.check_if_match(if_match, deals.etag(access.deal), required=True, noun="deal")
    proposed = await terms.propose(session, access, data)
    response.headers["ETag"] = deals.etag(access.deal)
    response.headers["Location"] = f"/v1/deals/{access.deal.id}/terms/{proposed.version}"
    return deals.terms_read(proposed, access.deal.current_version)


@router.post(
    "/{deal_id}/terms/{version}/accept",
    operation_id="acceptDealTerms",
    summary="Accept the current terms version (the party that did not propose it)",
    description="The proposer gets 403 `own_proposal`. Only the current version can be "
    "accepted (409 `superseded`), once (409 `already_accepted`). Acceptance makes the deal "
    "`active` and creates (or, for an amendment, adjusts) its deliverables. `If-Match` is "
    "optional and honoured.",
    responses=with_etag(401, 403, 404, 409, 412, 422),
)
async def accept_terms(
    version: Version,
    access: PartyDeal,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> DealRead:
    etags.check_if_match(if_match, deals.etag(access.deal), required=False, noun="deal")
    await terms.accept(session, access, version)
    return await _answer(response, session, access)


@router.post(
    "/{deal_id}/terms/{version}/withdraw",
    operation_id="withdrawDealTerms",
    summary="Withdraw your pending amendment (its proposer)",
    description="Only the party that proposed it (else 403 `not_proposer`), only while it "
    "is the live proposal (409 `already_accepted`, `superseded`, `withdrawn`), and only an "
    "amendment: the first terms of a deal cannot be withdrawn (409 `not_an_amendment`; "
    "cancel the deal instead). The version in force stays and the next proposal builds on "
    "it; the withdrawn version stays in the history. `If-Match` is optional and honoured.",
    responses=with_etag(401, 403, 404, 409, 412, 422),
)
async def withdraw_terms(
    version: Version,
    access: PartyDeal,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> DealRead:
    etags.check_if_match(if_match, deals.etag(access.deal), required=False, noun="deal")
    await terms.withdraw(session, access, version)
    return await _answer(response, session, access)


# --- lifecycle ------------------------------------------------------------------------------


@router.post(
    "/{deal_id}/cancel",
    operation_id="cancelDeal",
    summary="Cancel the deal, with a reason (either party, before completion)",
    description="The brief's slot is given back: the brand may accept another applicant.",
    responses=with_etag(401, 403, 404, 409, 422),
)
async def cancel_deal(
    data: DealCancel, access: PartyDeal, session: SessionDep, response: Response
) -> DealRead:
    await deals.cancel(session, access, data.reason)
    return await _answer(response, session, access)


@router.post(
    "/{deal_id}/mark-paid",
    operation_id="markDealPaid",
    summary="Record that the fee was paid (brand; deals with a fee)",
    description="Paid and hybrid deals whose terms in force carry a fee (else 409 "
    "`not_paid_deal`), while active, once. A deal completes when every deliverable it owes "
    "is published and, if it has a fee, it is marked paid.",
    responses=with_etag(401, 403, 404, 409, 422),
)
async def mark_paid(access: BrandDeal, session: SessionDep, response: Response) -> DealRead:
    await deals.mark_paid(session, access)
    return await _answer(response, session, access)


@router.get(
    "/{deal_id}/usage-rights",
    operation_id="getDealUsageRights",
    summary="What the brand may do with the deal's content on a date",
    description="The rights of the newest terms version accepted by that date. The term "
    "runs from the first publication of the deal's content: before it (and before any "
    "publication) the brand holds nothing (`not_started`); after `duration_days` the rights "
    "are `expired` (perpetual grants never expire); a cancelled deal grants nothing from its "
    "cancellation date. `paid_ads_allowed` needs the `paid_social` channel and a date inside "
    "the ad window (default: the whole term). Exclusivity runs `exclusivity_days` from the "
    "first publication. Both parties get a `usage_rights.expiring` event 14 days before "
    "expiry.",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_usage_rights(
    access: ReadableDeal,
    session: SessionDep,
    on: Annotated[
        ApiDate | None, Query(description="The date asked about (UTC); default today.")
    ] = None,
) -> UsageRightsOnDate:
    day = on or datetime.now(UTC).date()
    return await usage_rights.rights_on(session, access.deal, day)
