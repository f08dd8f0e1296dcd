"""Briefs: drafts, search, the lifecycle; `ETag`/`If-Match` guard concurrent edits."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, Security, status

from api import etags
from api.deps import (
    SessionDep,
    SettingsDep,
    get_principal,
    hot_caller,
    require_brand,
    values_response,
)
from api.errors import problem_responses
from api.models.briefs import Brief, BriefCreate, BriefRead, BriefSearch, BriefUpdate
from api.models.memberships import BrandRole
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import brief_search, briefs, hot_sql, memberships
from api.services.tokens import HotCaller, Principal

router = APIRouter(prefix="/v1/briefs", tags=["briefs"])

BriefReader = Annotated[Principal, Security(get_principal, scopes=[Scope.briefs_read])]
HotBriefReader = Annotated[HotCaller, Security(hot_caller, scopes=[Scope.briefs_read])]
BriefWriter = Annotated[Principal, Security(require_brand, scopes=[Scope.briefs_write])]


async def owned_brief(brief_id: uuid.UUID, principal: BriefWriter, session: SessionDep) -> Brief:
    """A brief of a brand the caller manages, locked for this request; 404 for any other
    brand's, 403 for a viewer."""
    return await briefs.lock_owned_brief(session, principal, brief_id)


OwnedBrief = Annotated[Brief, Depends(owned_brief)]
BrandFilter = Annotated[
    uuid.UUID | None,
    Query(
        description="One of your brands. Creating: required when you belong to several "
        "(422 `brand_required`). Listing (`mine=true`): only this brand's briefs."
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=1000,
        description="The `ETag` of the brief as you last read it; stale: 412.",
        examples=['"3"'],
    ),
]

_ETAG_HEADER = {
    "ETag": {
        "description": "The brief's version; send it back in `If-Match`.",
        "schema": {"type": "string", "examples": ['"3"']},
    }
}
_LOCATION_HEADER = {
    "Location": {"description": "The new brief's URL.", "schema": {"type": "string"}}
}


def _with_etag(*statuses: int, success: int = 200) -> dict[int | str, dict[str, Any]]:
    location = _LOCATION_HEADER if success == 201 else None
    return etags.responses_with_etag(
        _ETAG_HEADER, *statuses, success=success, extra_headers=location
    )


def etag(brief: Brief) -> str:
    return etags.quoted(brief.version)


def check_if_match(if_match: str | None, brief: Brief, *, required: bool) -> None:
    etags.check_if_match(if_match, etag(brief), required=required, noun="brief")


async def _answer(response: Response, session: SessionDep, brief: Brief) -> BriefRead:
    response.headers["ETag"] = etag(brief)
    return await briefs.to_read(session, brief)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="createBrief",
    summary="Create a draft brief (brand members)",
    description="Only the title and the kind of brief are needed; the rest can follow "
    "before publishing. Disclosure and usage rights default from the compensation type. "
    "The brief belongs to your brand, or to the one `brand_id` names (owners and managers).",
    responses=_with_etag(401, 403, 422, success=201),
)
async def create_brief(
    data: BriefCreate,
    principal: BriefWriter,
    session: SessionDep,
    response: Response,
    brand_id: BrandFilter = None,
) -> BriefRead:
    acting = memberships.acting_brand(principal, brand_id, BrandRole.manager)
    brief = await briefs.create_brief(session, acting, data)
    response.headers["Location"] = f"/v1/briefs/{brief.id}"
    return await _answer(response, session, brief)


@router.get(
    "",
    operation_id="searchBriefs",
    summary="Search open briefs, or list your own (`mine=true`)",
    description="Open briefs only, those past their deadline excluded. Filters combine with "
    "AND; a repeated parameter matches any of its values. `mine=true` (brand members) lists "
    "your brands' briefs in every state instead (`brand_id`: one of them).",
    response_model=Page[BriefRead],
    responses=problem_responses(401, 403, 422),
)
async def search_briefs(
    params: Annotated[BriefSearch, Query()],
    caller: HotBriefReader,
    settings: SettingsDep,
    page: PageDep,
    request: Request,
    brand_id: BrandFilter = None,
) -> Response:
    # A hot path (`api.services.hot_sql`): one statement, the caller from this worker's
    # cache when it is current for that statement's snapshot.
    async with hot_sql.read_connection(request) as connection:
        principal = caller.principal
        brand_ids = brief_search.own_brands_of(principal, params, brand_id)
        items, cursor, version = await brief_search.search_briefs(
            connection, settings, params, page, brand_ids=brand_ids
        )
        confirmed = await caller.confirm(connection, version)
        if confirmed is not principal:  # read again: the page is the caller's as it is now
            brand_ids = brief_search.own_brands_of(confirmed, params, brand_id)
            items, cursor, _ = await brief_search.search_briefs(
                connection, settings, params, page, brand_ids=brand_ids
            )
    return values_response({"items": items, "next_cursor": cursor})


@router.get(
    "/{brief_id}",
    operation_id="getBrief",
    summary="Read a brief",
    description="Drafts and cancelled briefs are visible to their brand only (404 to others).",
    response_model=BriefRead,
    responses=_with_etag(401, 403, 404, 422),
)
async def get_brief(brief_id: uuid.UUID, caller: HotBriefReader, request: Request) -> Response:
    # A hot path (`api.services.hot_sql`): one statement, the caller from this worker's
    # cache when it is current for that statement's snapshot.
    async with hot_sql.read_connection(request) as connection:
        row = await hot_sql.fetchrow(connection, hot_sql.BRIEF_BY_ID, brief_id)
        assert row is not None  # the one-row access_state, joined
        principal = await caller.confirm(connection, row["access_version"])
    read = briefs.visible_read(principal, row)
    return values_response(read, headers={"ETag": etags.quoted(read["version"])})


@router.patch(
    "/{brief_id}",
    operation_id="updateBrief",
    summary="Update a brief (needs `If-Match`)",
    description="A draft may change anything. An open brief may only change its description, "
    "move its deadline later and add slots; anything else is 409 `brief_locked`.",
    responses=_with_etag(401, 403, 404, 409, 412, 422, 428),
)
async def update_brief(
    data: BriefUpdate,
    brief: OwnedBrief,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> BriefRead:
    check_if_match(if_match, brief, required=True)
    await briefs.update_brief(session, brief, data)
    return await _answer(response, session, brief)


_LIFECYCLE = _with_etag(401, 403, 404, 409, 412, 422)


@router.post(
    "/{brief_id}/publish",
    operation_id="publishBrief",
    summary="Publish a draft: it opens to applications",
    description="Checks the whole brief; a 422 `brief_invalid` lists every offending field.",
    responses=_LIFECYCLE,
)
async def publish_brief(
    brief: OwnedBrief, session: SessionDep, response: Response, if_match: IfMatch = None
) -> BriefRead:
    check_if_match(if_match, brief, required=False)
    await briefs.publish_brief(session, brief)
    return await _answer(response, session, brief)


@router.post(
    "/{brief_id}/close",
    operation_id="closeBrief",
    summary="Close an open brief to new applications",
    responses=_LIFECYCLE,
)
async def close_brief(
    brief: OwnedBrief, session: SessionDep, response: Response, if_match: IfMatch = None
) -> BriefRead:
    """Stops new applications; pending applications stay readable. Send `If-Match` to guard against
    concurrent edits (stale: 412)."""
    check_if_match(if_match, brief, required=False)
    await briefs.close_brief(session, brief)
    return await _answer(response, session, brief)


@router.post(
    "/{brief_id}/cancel",
    operation_id="cancelBrief",
    summary="Cancel a draft or open brief",
    responses=_LIFECYCLE,
)
async def cancel_brief(
    brief: OwnedBrief, session: SessionDep, response: Response, if_match: IfMatch = None
) -> BriefRead:
    """Only drafts and open briefs can be cancelled; 409 from any other state. `If-Match` is
    honoured (stale: 412)."""
    check_if_match(if_match, brief, required=False)
    await briefs.cancel_brief(session, brief)
    return await _answer(response, session, brief)


@router.post(
    "/{brief_id}/complete",
    operation_id="completeBrief",
    summary="Mark a closed brief completed",
    responses=_LIFECYCLE,
)
async def complete_brief(
    brief: OwnedBrief, session: SessionDep, response: Response, if_match: IfMatch = None
) -> BriefRead:
    """Marks a closed brief as completed. `If-Match` is honoured (stale: 412)."""
    check_if_match(if_match, brief, required=False)
    await briefs.complete_brief(session, brief)
    return await _answer(response, session, brief)
