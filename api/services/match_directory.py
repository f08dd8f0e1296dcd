"""The creator directory: creators with an account meeting every filter, largest first.

Reads `match_accounts` (see `api.models.matching`): one scan of the slot rows (niche slots
when niches are asked for, else slot 0) in follower order, keyset-paginated on
(followers of the creator's largest matching account, creator id).
"""

# The SQL here is built from fixed column names and numbers the filters validated.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import FieldError, Unprocessable
from api.models.common import Tier
from api.models.creators import Creator, CreatorPublic, SocialAccount
from api.models.matching import (
    ACCOUNT_FEATURES,
    ALL_SLOT,
    NICHE_CODES,
    PLATFORM_CODES,
    TIER_BITS,
    CreatorDirectoryQuery,
    country_code,
)
from api.pagination import PageParams, parse_int
from api.services import match_model as model
from api.services import match_search
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


def _conditions(alias: str, params: CreatorDirectoryQuery, settings: Settings) -> list[str]:
    out = []
    if params.platform:
        codes = ", ".join(str(PLATFORM_CODES[p]) for p in params.platform)
        out.append(f"{alias}.platform IN ({codes})")
    if params.tier:
        mask = 0
        for tier in params.tier:
            mask |= TIER_BITS[Tier(tier)]
        ranges = model.tier_ranges(mask, settings)
        spans = [
            f"{alias}.followers >= {low}"
            + (f" AND {alias}.followers <= {high}" if high is not None else "")
            for low, high in ranges
        ]
        out.append("(" + " OR ".join(f"({s})" for s in spans) + ")" if spans else "false")
    if params.min_followers is not None:
        out.append(f"{alias}.followers >= {int(params.min_followers)}")
    if params.max_followers is not None:
        out.append(f"{alias}.followers <= {int(params.max_followers)}")
    if params.country:
        codes = ", ".join(str(country_code(c)) for c in params.country)
        out.append(f"{alias}.country IN ({codes})")
    if params.min_engagement_rate is not None:
        out.append(f"{alias}.er >= {float(params.min_engagement_rate)!r}::float8")
    if params.audience_country:
        codes = ", ".join(str(country_code(c)) for c in params.audience_country)
        share = " + ".join(
            f"CASE WHEN ({alias}.aud_{i} >> 10) IN ({codes}) THEN {alias}.aud_{i} & 1023 ELSE 0 END"
            for i in range(1, 7)
        )
        least = round((params.min_audience_share or 0) * 10)
        out.append(f"({share}) >= {max(least, 1)}")
    return out


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
    session: AsyncSession, settings: Settings, params: CreatorDirectoryQuery, page: PageParams
) -> tuple[list[CreatorPublic], str | None]:
    """A page of creators, those with the largest matching account first."""
    errors = _invalid(params)
    if errors:
        raise Unprocessable("the search is invalid", errors=errors)
    where_m = " AND ".join(["true", *_conditions("m", params, settings)])
    where_m2 = " AND ".join(["true", *_conditions("m2", params, settings)])
    if params.niche:
        slots = match_search.first_slot(
            "m.slot", "m.niche_mask", [NICHE_CODES[n] for n in params.niche]
        )
    else:
        slots = f"m.slot = {ALL_SLOT}"
    columns = ", ".join(f"m.{c}" for c in ACCOUNT_FEATURES)

    async def fetch(cursor: tuple[Any, uuid.UUID] | None, n: int) -> list[dict[str, Any]]:
        sql = f"""
        SELECT t.*, EXISTS (
            SELECT 1 FROM match_accounts m2
            WHERE m2.creator_id = t.creator_id AND m2.slot = 0 AND m2.account_id <> t.account_id
              AND {where_m2}
              AND (m2.followers > t.key OR (m2.followers = t.key AND m2.platform < t.platform))
        ) AS dominated
        FROM (
            SELECT {columns}, m.followers AS key FROM match_accounts m
            WHERE {slots} AND {where_m}
              AND {match_search.after("m.followers", "m.creator_id", cursor)}
            ORDER BY m.followers DESC, m.creator_id DESC
            LIMIT {int(n)}
        ) t ORDER BY t.key DESC, t.creator_id DESC"""
        params_: dict[str, Any] = {}
        if cursor is not None:
            params_["after_id"] = cursor[1]
        return await match_search.fetch_rows(session, sql, params_)

    await match_search.prepare_transaction(session)
    cursor = match_search.page_cursor(page, parse_int)
    need = page.limit + 1
    kept = await match_search.collect(fetch, cursor, need, need * 2, "creator_id")
    ranked, next_cursor = match_search.page_of(kept, page)
    profiles = await _public(session, settings, [r.id for r in ranked])
    return [profiles[r.id] for r in ranked if r.id in profiles], next_cursor
