"""Ranking a page: both directions are ranked in the worker's memory, creators for a
brief by the creator index (`creator_index`), briefs for a creator by the brief index
(`brief_index`). This module brings each up to date, asks it for a page and loads the
page's rows.
"""

# The SQL here is text built from fixed column names; request values only reach it as
# bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Unprocessable
from api.matching.brief_index import BriefIndex
from api.matching.creator_index import CreatorIndex
from api.matching.features import fetch_rows
from api.models.matching import (
    ALL_SLOT,
    CreatorMatchFilters,
)
from api.pagination import PageParams, decode_cursor, make_page, parse_float
from api.settings import Settings


@dataclass
class Ranked:
    """One ranked row: its score, and the page's row for it."""

    key: float
    id: uuid.UUID
    row: Mapping[str, Any]


def page_cursor(page: PageParams, parse: Callable[[Any], Any]) -> tuple[Any, uuid.UUID] | None:
    if not page.cursor:
        return None
    key, last = decode_cursor(page.cursor, [parse, uuid.UUID])
    if key is None:  # a ranking key is never null
        raise Unprocessable("the cursor is invalid or expired", code="invalid_cursor")
    return key, last


# --- creators for a brief -------------------------------------------------------------------

# The page's rows: each account's features, its creator's display fields, and whether the
# brand invited the creator.
_CREATOR_PAGE = """SELECT t.n, f.*, c.display_name, c.handle AS creator_handle,
        c.country AS creator_country, c.niches AS creator_niches, sa.handle,
        EXISTS (SELECT 1 FROM invitations i
                WHERE i.brief_id = :brief_id AND i.creator_id = f.creator_id) AS invited
    FROM unnest(:ids::uuid[]) WITH ORDINALITY AS t(account_id, n)
    JOIN match_accounts f ON f.account_id = t.account_id AND f.slot = 0
    JOIN creators c ON c.id = f.creator_id
    JOIN social_accounts sa ON sa.id = t.account_id
    ORDER BY t.n"""


async def rank_creators(
    session: AsyncSession,
    settings: Settings,
    index: CreatorIndex,
    brief_id: uuid.UUID,
    features: Mapping[str, Any],
    filters: CreatorMatchFilters,
    page: PageParams,
) -> tuple[list[Ranked], str | None]:
    """A page of the creators who meet the brief's hard requirements (and the filters),
    best first, without those who applied: ranked in the worker's in-memory creator index
    (`creator_index`), brought up to date first. Each row holds the best account's
    features, `parts`: the parts of its score, the creator's and account's display fields
    and whether the brand invited the creator."""
    cursor = page_cursor(page, parse_float)
    applied = await index.refresh(session, brief_id)
    hits = index.rank(settings, features, filters, applied=applied, cursor=cursor, n=page.limit + 1)
    # An account deleted since the sync has no row any more and is left out of the page
    # (which may then be one short).
    shown, next_cursor = make_page(hits, page, lambda h: (h.key, h.creator_id))
    found = await fetch_rows(
        session, _CREATOR_PAGE, {"ids": [h.account_id for h in shown], "brief_id": brief_id}
    )
    rows = {row["n"]: row for row in found}
    kept = [
        Ranked(key=hit.key, id=hit.creator_id, row=rows[n] | {"parts": hit.parts})
        for n, hit in enumerate(shown, start=1)
        if n in rows
    ]
    return kept, next_cursor


# --- open briefs for a creator --------------------------------------------------------------

BRIEF_SUMMARY = (
    "br.brand_id, br.title, br.collaboration_type, br.compensation_type, br.platforms, "
    "br.niches, br.currency AS brief_currency, br.fee_min_minor, br.fee_max_minor, "
    "br.application_deadline, br.publish_start_date"
)

# The page's rows: each brief's features (its row of the account's platform) and summary.
_BRIEF_PAGE = f"""SELECT t.n, f.*, {BRIEF_SUMMARY}
    FROM unnest(:ids::uuid[], :platforms::smallint[]) WITH ORDINALITY AS t(brief_id, platform, n)
    JOIN LATERAL (SELECT * FROM match_briefs x WHERE x.brief_id = t.brief_id
                  AND x.platform = t.platform AND x.slot = {ALL_SLOT} LIMIT 1) f ON true
    JOIN briefs br ON br.id = t.brief_id
    ORDER BY t.n"""


async def rank_briefs(
    session: AsyncSession,
    settings: Settings,
    index: BriefIndex,
    creator_id: uuid.UUID,
    accounts: Sequence[Mapping[str, Any]],
    page: PageParams,
) -> tuple[list[Ranked], str | None]:
    """A page of the open briefs (deadline ahead) the creator is eligible for through one
    of `accounts`, best first, without those they applied to: ranked in the worker's
    in-memory brief index (`brief_index`), brought up to date first. Each row holds the
    brief's features (of the row of the account's platform) and summary, `account`: the
    index in `accounts` of the account the score is for (the best one), and `parts`: the
    parts of that score."""
    if not accounts:
        return [], None
    cursor = page_cursor(page, parse_float)
    now, applied = await index.refresh(session, creator_id)
    hits = index.rank(settings, accounts, now=now, applied=applied, cursor=cursor, n=page.limit + 1)
    # The page and its cursor come from the ranking; a brief closed since the sync has no
    # row any more and is left out of the page (which may then be one short).
    shown, next_cursor = make_page(hits, page, lambda h: (h.key, h.brief_id))
    found = await fetch_rows(
        session,
        _BRIEF_PAGE,
        {"ids": [h.brief_id for h in shown], "platforms": [h.platform for h in shown]},
    )
    rows = {row["n"]: row for row in found}
    kept = [
        Ranked(
            key=hit.key,
            id=hit.brief_id,
            row=rows[n] | {"account": hit.account, "parts": hit.parts},
        )
        for n, hit in enumerate(shown, start=1)
        if n in rows
    ]
    return kept, next_cursor
