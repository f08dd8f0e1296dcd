"""Applications and invitations: creators apply, brands invite and decide."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, Security, status

from api.deps import (
    SessionDep,
    SettingsDep,
    current_creator,
    get_principal,
    hot_brand,
    hot_creator,
    json_response,
    require_brand,
)
from api.errors import problem_responses
from api.models.applications import (
    ApplicationAccept,
    ApplicationCreate,
    ApplicationRead,
    ApplicationSort,
    ApplicationStatus,
    InvitationCreate,
    InvitationRead,
    InvitationStatus,
)
from api.models.creators import Creator
from api.models.deals import DealRead
from api.models.memberships import BrandRole
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import applications, briefs, deals, exports, hot_sql, invitations
from api.services.exports import ExportFormat
from api.services.tokens import HotCaller, Principal

router = APIRouter(prefix="/v1", tags=["applications"])

CreatorWriter = Annotated[Creator, Security(current_creator, scopes=[Scope.applications_write])]
CreatorReader = Annotated[Creator, Security(current_creator, scopes=[Scope.applications_read])]
BrandWriter = Annotated[Principal, Security(require_brand, scopes=[Scope.applications_write])]
BrandReader = Annotated[Principal, Security(require_brand, scopes=[Scope.applications_read])]
HotBrandReader = Annotated[HotCaller, Security(hot_brand, scopes=[Scope.applications_read])]
PartyReader = Annotated[Principal, Security(get_principal, scopes=[Scope.applications_read])]
PartyWriter = Annotated[Principal, Security(get_principal, scopes=[Scope.applications_write])]
# Applying: a creator; the service reads the creator's profile itself (a Core row).
Applicant = Annotated[HotCaller, Security(hot_creator, scopes=[Scope.applications_write])]
StatusFilter = Annotated[list[ApplicationStatus], Query(max_length=len(ApplicationStatus))]


@router.post(
    "/briefs/{brief_id}/applications",
    status_code=status.HTTP_201_CREATED,
    operation_id="applyToBrief",
    response_model=ApplicationRead,
    summary="Apply to an open brief (creators)",
    description=(
        "Hard requirements (platform, tier or follower bounds, country, minimum engagement "
        "rate, gifting) are checked now: an ineligible creator gets one 422 with code "
        "`ineligible` listing each unmet requirement, what was required and what you have."
    ),
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def apply(
    brief_id: uuid.UUID,
    data: ApplicationCreate,
    caller: Applicant,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    read = await applications.apply(session, settings, caller, brief_id, data)
    return json_response(read, status_code=status.HTTP_201_CREATED)


@router.get(
    "/briefs/{brief_id}/applications",
    operation_id="listBriefApplications",
    summary="The brief's applicants (its brand); CSV with `?format=csv`",
    response_model=Page[ApplicationRead],
    responses={**exports.CSV_RESPONSE, **problem_responses(401, 403, 404, 422)},
)
async def list_brief_applications(
    brief_id: uuid.UUID,
    caller: HotBrandReader,
    page: PageDep,
    request: Request,
    status_: Annotated[StatusFilter, Query(alias="status")] = [],  # noqa: B006
    sort: ApplicationSort = ApplicationSort.match_score,
    format_: ExportFormat = None,
) -> Response:
    """Only the brief's brand sees its applicants; filter by status, sort by match score, newest
    first or proposed fee. `?format=csv` (or `Accept: text/csv`) exports every applicant."""
    # A hot path (`api.services.hot_sql`): the brief's statement confirms the caller from
    # this worker's cache, then one statement for the page.
    async with hot_sql.read_connection(request) as connection:
        row = await hot_sql.fetchrow(connection, hot_sql.BRIEF_BY_ID, brief_id)
        assert row is not None  # the one-row access_state, joined
        principal = await caller.confirm(connection, row["access_version"])
        brief = briefs.own_values(principal, row)
        if exports.wants_csv(request, format_):
            return exports.applicants(request, brief.id, status_, sort)
        items, cursor = await applications.list_for_brief(
            connection, brief.id, page, statuses=status_, sort=sort
        )
    return json_response(Page[ApplicationRead](items=items, next_cursor=cursor))


@router.post(
    "/briefs/{brief_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    operation_id="inviteCreator",
    summary="Invite a creator to apply (expires after 7 days)",
    description="One live invitation per creator and brief (409 `already_invited`); "
    "inviting again after it expired unused renews it for another 7 days.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def invite(
    brief_id: uuid.UUID, data: InvitationCreate, principal: BrandWriter, session: SessionDep
) -> InvitationRead:
    brief = await briefs.get_own_brief(session, principal, brief_id, BrandRole.manager)
    return await invitations.invite(session, brief, principal.user.id, data)


@router.get(
    "/me/invitations",
    operation_id="listMyInvitations",
    summary="Invitations you received (creators)",
    responses=problem_responses(401, 403, 422),
)
async def list_my_invitations(
    creator: CreatorReader,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[InvitationStatus | None, Query(alias="status")] = None,
) -> Page[InvitationRead]:
    """Briefs whose brand invited you to apply, each with a summary of its brief; an
    invitation expires after 7 days."""
    items, cursor = await invitations.list_for_creator(session, creator.id, page, status_)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/me/applications",
    operation_id="listMyApplications",
    summary="Your applications (creators), newest first",
    responses=problem_responses(401, 403, 422),
)
async def list_my_applications(
    creator: CreatorReader,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[StatusFilter, Query(alias="status")] = [],  # noqa: B006
) -> Page[ApplicationRead]:
    """Every application you made, whatever its state, newest first."""
    rows, cursor = await applications.list_for_creator(session, creator.id, page, status_)
    return Page(items=[applications.to_read(a) for a in rows], next_cursor=cursor)


@router.get(
    "/applications/{application_id}",
    operation_id="getApplication",
    summary="One application (its creator and the brief's brand only)",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_application(
    application_id: uuid.UUID, principal: PartyReader, session: SessionDep
) -> ApplicationRead:
    """Visible to the applicant and to the brief's brand only; anybody else gets 404."""
    application, _ = await applications.get_for_party(session, principal, application_id)
    return applications.to_read(application)


_ACTION = problem_responses(401, 403, 404, 409, 422)


@router.post(
    "/applications/{application_id}/shortlist",
    operation_id="shortlistApplication",
    summary="Shortlist a submitted application (brand)",
    responses=_ACTION,
)
async def shortlist(
    application_id: uuid.UUID, principal: BrandWriter, session: SessionDep
) -> ApplicationRead:
    """Moves a submitted application to `shortlisted`; 409 from any other state."""
    application, brief = await applications.get_for_party(
        session, principal, application_id, lock=True, need=BrandRole.manager
    )
    return applications.to_read(await applications.shortlist(session, application, brief))


@router.post(
    "/applications/{application_id}/decline",
    operation_id="declineApplication",
    summary="Decline a pending application (brand)",
    responses=_ACTION,
)
async def decline(
    application_id: uuid.UUID, principal: BrandWriter, session: SessionDep
) -> ApplicationRead:
    """Declines a submitted or shortlisted application; the creator is not matched to this brief
    again."""
    application, brief = await applications.get_for_party(
        session, principal, application_id, lock=True, need=BrandRole.manager
    )
    return applications.to_read(await applications.decline(session, application, brief))


@router.post(
    "/applications/{application_id}/withdraw",
    operation_id="withdrawApplication",
    summary="Withdraw your pending application (creator)",
    responses=_ACTION,
)
async def withdraw(
    application_id: uuid.UUID,
    _: CreatorWriter,
    principal: PartyWriter,
    session: SessionDep,
) -> ApplicationRead:
    """The creator takes back a submitted or shortlisted application; 409 once it was decided."""
    application, brief = await applications.get_for_party(
        session, principal, application_id, lock=True
    )
    return applications.to_read(await applications.withdraw(session, application, brief))


@router.post(
    "/applications/{application_id}/accept",
    status_code=status.HTTP_201_CREATED,
    operation_id="acceptApplication",
    summary="Accept an application: creates its deal (brand)",
    description=(
        "Atomic: the application is accepted, the brief's slot taken and the deal created "
        "with its first terms (drawn from the brief and the application) in one transaction. "
        "The slots are never exceeded, even under concurrent accepts (409 `slots_filled`); "
        "the last slot closes the brief. With a campaign budget set, an accept whose deal "
        "would take the committed spend past it is refused (409 `over_budget`) unless the "
        "body says `allow_over_budget: true`. Either-or deliverables are pinned in the "
        "terms: to the body's `deliverable_choices`, else the creator's, else the first "
        "option on a platform the creator offered."
    ),
    responses=_ACTION,
)
async def accept(
    application_id: uuid.UUID,
    principal: BrandWriter,
    session: SessionDep,
    settings: SettingsDep,
    # Optional, and never null: a generated client may leave it out.
    data: Annotated[ApplicationAccept, Body(default_factory=ApplicationAccept)],
) -> DealRead:
    application, brief = await applications.get_for_party(
        session, principal, application_id, lock=True, need=BrandRole.manager
    )
    deal = await applications.accept(
        session,
        settings,
        principal,
        application,
        brief,
        allow_over_budget=data.allow_over_budget,
        choices=data.deliverable_choices,
    )
    return await deals.read(session, deal)
