"""The creator directory: creators with an account meeting every filter, largest first.

Filtered in the worker's creator index (`api.matching.creator_index`), keyset-paginated
on (followers of the creator's largest matching account, creator id); the page's public
profiles are loaded from the tables.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import FieldError, Unprocessable
from api.matching import ranking
from api.matching.creator_index import CreatorIndex
from api.models.creators import Creator, CreatorPublic, SocialAccount
from api.models.matching import CreatorDirectoryQuery
from api.pagination import PageParams, make_page, parse_int
from api.services.creators import account_read
from api.settings import Settings


def _invalid(params: CreatorDirectoryQuery) -> list[FieldError]:
    errors = []
    low, high = params.min_followers, params.max_followers
    if low is not None and high is not None and low > high:
        errors.append(
            FieldError(
                loc=["query", "min_followers"], msg="must not exceed max_followers", type="range"
            )
        )
    if params.min_audience_share is not None and not params.audience_country:
        errors.append(
            FieldError(
                loc=["query", "min_audience_share"],
                msg="needs audience_country",
                type="missing",
            )
        )
    return errors


async def _public(
    session: AsyncSession, settings: Settings, ids: list[uuid.UUID]
) -> dict[uuid.UUID, CreatorPublic]:
    creators = (await session.scalars(select(Creator).where(col(Creator.id).in_(ids)))).all()
    accounts: dict[uuid.UUID, list[SocialAccount]] = defaultdict(list)
    rows = await session.scalars(
        select(SocialAccount)
        .where(col(SocialAccount.creator_id).in_(ids))
        .order_by(col(SocialAccount.creator_id), col(SocialAccount.platform))
    )
    for account in rows:
        accounts[account.creator_id].append(account)
    return {
        c.id: CreatorPublic(
            id=c.id,
            display_name=c.display_name,
            handle=c.handle,
            bio=c.bio,
            country=c.country,
            languages=c.languages,
            niches=c.niches,
            content_styles=c.content_styles,
            accepts_gifting=c.accepts_gifting,
            accounts=[account_read(a, settings) for a in accounts[c.id]],
            created_at=c.created_at,
        )
        for c in creators
    }


async def search_creators(
    session: AsyncSession,
    settings: Settings,
    index: CreatorIndex,
    params: CreatorDirectoryQuery,
    page: PageParams,
) -> tuple[list[CreatorPublic], str | None]:
    """A page of creators, those with the largest matching account first: found in the
    worker's creator index (`creator_index`), brought up to date first."""
    errors = _invalid(params)
    if errors:
        raise Unprocessable("the search is invalid", errors=errors)
    cursor = ranking.page_cursor(page, parse_int)
    await index.sync(session)
    hits = index.directory(settings, params, cursor=cursor, n=page.limit + 1)
    shown, next_cursor = make_page(hits, page, lambda h: (int(h.key), h.creator_id))
    profiles = await _public(session, settings, [h.creator_id for h in shown])
    return [profiles[h.creator_id] for h in shown if h.creator_id in profiles], next_cursor
