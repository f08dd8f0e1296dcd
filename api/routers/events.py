"""The event feed: the same events webhooks deliver, for clients that poll."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, SettingsDep
from api.errors import problem_responses
from api.models.events import EventRead
from api.models.webhooks import EventTypeName
from api.pagination import Page, PageDep
from api.routers.party import EventsParty
from api.services import events
from api.services.webhooks import check_types

router = APIRouter(prefix="/v1/events", tags=["webhooks"])


@router.get(
    "",
    operation_id="listEvents",
    summary="Events of your own objects, oldest first (30 days)",
    description="The events webhooks deliver, with the same visibility: only those about "
    "your brand's or your creator profile's objects. Oldest first: keep the last "
    "`next_cursor` and pass it as `cursor` to resume where you stopped; the last page has "
    "one too, to poll for what comes next. Filter with "
    "`type` (repeatable; exact names or `resource.*`). The newest few seconds are held back "
    "so that no event can later appear behind your cursor.",
    responses=problem_responses(401, 403, 422),
)
async def list_events(
    party: EventsParty,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    type: Annotated[list[EventTypeName] | None, Query(max_length=50)] = None,
) -> Page[EventRead]:
    types = type or []
    check_types(types, loc="query")
    items, cursor = await events.feed(
        session, party, page, types=types, settle=settings.events_feed_settle_seconds
    )
    return Page(items=items, next_cursor=cursor)
