"""Ranking creators for a brief in PostgreSQL; briefs for a creator, page loading.

Creators for a brief are filtered and scored inside index-only scans of the covering
index of `match_accounts`, keeping the top rows (top-N heap sort); Python only sees a page.
The scoring SQL is the model compiled with the brief's figures as constants
(`match_model`). Briefs for a creator are ranked in the worker's memory
(`match_index`); this module loads the page.

Candidate slices. A brief that names niches first ranks the creators sharing one of them
(the niche slots of `match_accounts`); anyone else has a niche overlap of 0 and so scores
at most `best_without_niche` (every other part at the most it can reach for this brief).
When that first scan yields a full page above this bound the page is exact; otherwise the
page is taken from the scan of every candidate (slot 0). Each row is read once per slot
list: a row is kept only in the slot of the first niche it shares.

A creator may qualify through several accounts; the best one counts. Rows outdone by
another of the same creator's qualifying rows are `dominated` (a check run on the fetched
rows only) and skipped; fetching repeats if that leaves a page short. Cursors carry
(score, id): after one, a creator shown on an earlier page through another account is
recognised by that account's better score.
"""

# The SQL here is text built from the model and fixed column names; request values only
# reach it as numbers the model formats, or as bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Unprocessable
from api.models.matching import (
    ACCOUNT_FEATURES,
    AGE_BUCKETS,
    ALL_SLOT,
    BRIEF_FEATURES,
    NICHE_CODES,
    CreatorMatchFilters,
    country_code,
    niche_mask,
)
from api.pagination import PageParams, decode_cursor, make_page, parse_float
from api.services import match_model as model
from api.services.match_expr import Sql, and_, bits_of, lit
from api.services.match_index import BriefIndex
from api.settings import Settings


@dataclass
class Ranked:
    """One ranked row: its key (score or followers), the winning row's features."""

    key: float | int
    id: uuid.UUID
    row: Mapping[str, Any]


Fetch = Callable[[tuple[Any, uuid.UUID] | None, int], Awaitable[list[dict[str, Any]]]]


# Per transaction: no JIT, plans cached by PostgreSQL's usual rule (see below).
_SETTINGS_SQL = (
    "set_config('jit', 'off', true) AS _jit, set_config('plan_cache_mode', 'auto', true) AS _plans"
)


async def prepare_transaction(session: AsyncSession) -> None:
    """Per transaction: no JIT (compiling costs more than these scans), and plans cached by
    PostgreSQL's usual rule (`auto`): a ranking statement's text holds every figure but the
    ids bound as parameters, so its generic plan is the custom one, and a statement asked
    again (a brief's first page) is not planned again (forcing custom plans cost 1-2.5 ms
    of planning per request)."""
    await session.execute(text(f"SELECT {_SETTINGS_SQL}"))


def first_slot(slot: str, mask: str, codes: Sequence[int]) -> str:
    """`slot IN codes` (an index condition), each row kept only in the slot of the first
    code its mask holds (a filter: written as a CASE, so the planner does not turn it into
    a bitmap OR of index scans, which would read the heap)."""
    ordered = sorted(set(codes))
    branches, lower = [], 0
    for code in ordered:
        if not lower:
            branches.append(f"WHEN {code} THEN true")
        else:
            branches.append(f"WHEN {code} THEN ({mask} & {lower}) = 0")
        lower |= 1 << (code - 1)
    listed = ", ".join(str(c) for c in ordered)
    return f"{slot} IN ({listed}) AND (CASE {slot} {' '.join(branches)} ELSE false END)"


def after(key: str, id_column: str, cursor: tuple[Any, uuid.UUID] | None) -> str:
    if cursor is None:
        return "true"
    return f"({key} < {lit(cursor[0])} OR ({key} = {lit(cursor[0])} AND {id_column} < :after_id))"


def top(scan: str, id_name: str, cursor: tuple[Any, uuid.UUID] | None, n: int) -> str:
    """The first `n` rows of `scan` (a SELECT with a `key` and `id_name` column) after
    `cursor`, by key then id, descending. After a cursor the scan is kept as a subquery
    (OFFSET 0) and filtered on its output: inlined, the filter would compute the score
    again for every row, besides the sort key."""
    if cursor is None:
        return f"{scan} ORDER BY key DESC, {id_name} DESC LIMIT {int(n)}"
    return f"""SELECT * FROM ({scan} OFFSET 0) s WHERE {after("s.key", f"s.{id_name}", cursor)}
        ORDER BY s.key DESC, s.{id_name} DESC LIMIT {int(n)}"""


async def collect(
    fetch: Fetch,
    cursor: tuple[Any, uuid.UUID] | None,
    need: int,
    batch: int,
    id_name: str,
    *,
    bound: float | None = None,
) -> tuple[list[Ranked], bool]:
    """Up to `need` rows in order, skipping dominated ones. With `bound`, only rows above
    it count, and the second value says whether `need` of them were found."""
    kept: list[Ranked] = []
    while True:
        rows = await fetch(cursor, batch)
        for row in rows:
            if bound is not None and row["key"] <= bound + model.BOUND_SLACK:
                return kept, False
            if not row.get("dominated"):
                kept.append(Ranked(key=row["key"], id=row[id_name], row=row))
                if len(kept) >= need:
                    return kept, True
        if len(rows) < batch:
            return kept, bound is None
        cursor = (rows[-1]["key"], rows[-1][id_name])


def page_cursor(page: PageParams, parse: Callable[[Any], Any]) -> tuple[Any, uuid.UUID] | None:
    if not page.cursor:
        return None
    key, last = decode_cursor(page.cursor, [parse, uuid.UUID])
    if key is None:  # a ranking key is never null
        raise Unprocessable("the cursor is invalid or expired", code="invalid_cursor")
    return key, last


def page_of(kept: list[Ranked], page: PageParams) -> tuple[list[Ranked], str | None]:
    return make_page(kept, page, lambda r: (r.key, r.id))


_PARAM = re.compile(r"(?<![:\w]):(\w+)")


async def fetch_rows(
    session: AsyncSession, sql: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts. Sent to the driver as it is (`:name` parameters become
    `$n`): parsing a long statement for bind parameters would cost more than running it."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    statement = _PARAM.sub(number, sql)
    connection = await session.connection()
    result = await connection.exec_driver_sql(statement, tuple(params[n] for n in names))
    return [dict(row) for row in result.mappings()]


# --- bounds for pruning ----------------------------------------------------------------------


def best_without_niche(
    b: Mapping[str, Any], settings: Settings, max_deals: int, max_on_time: int = 0
) -> float:
    """The most any account without a niche of brief `b` can score: every other part at
    the most it can reach for this brief (0.5 where the brief does not ask), reliability
    at most that of a creator with the most completed deals (`max_deals`) and the most
    on-time posts (`max_on_time`) anyone has, and no late post."""
    highest = {
        "tier_fit": 1.0
        if b["tier_mask"] or b["size_min"] is not None or b["size_max"] is not None
        else model.NEUTRAL,
        "niche_overlap": 0.0,
        "audience_country": 1.0 if b["target_countries"] else model.NEUTRAL,
        "audience_gender": 1.0 if b["gender_mask"] else model.NEUTRAL,
        "audience_age": max(b[f"age_w{i}"] for i in range(1, len(AGE_BUCKETS) + 1)) / 1000
        if b["has_age"]
        else model.NEUTRAL,
        "engagement": 1.0,
        "price_fit": 1.0 if b["budget"] is not None and b["units_total"] else model.NEUTRAL,
        "reliability": model.reliability_bound(max_deals, max_on_time),
    }
    return float(model.score(highest, settings.match_weights))


# --- creators for a brief -------------------------------------------------------------------

_MAX_DEALS_SQL = (
    "(SELECT max(deals_completed) FROM match_accounts WHERE deals_completed > 0) AS _max_deals, "
    "(SELECT max(published_on_time) FROM match_accounts WHERE published_on_time > 0) "
    "AS _max_on_time"
)


async def brief_features(
    session: AsyncSession, brief_id: uuid.UUID, *, prepare: bool = False
) -> dict[str, Any] | None:
    """A brief's features (any status), as the brief is now. With `prepare`, the same round
    trip also sets up the transaction for ranking (see `prepare_transaction`)."""
    columns = ", ".join(BRIEF_FEATURES)
    # Open briefs have their rows in match_briefs; any other brief is computed on the fly.
    head = f"SELECT {_SETTINGS_SQL}, {_MAX_DEALS_SQL}, f.* FROM (SELECT 1) one LEFT JOIN LATERAL "
    sql = f"""{head if prepare else ""}(SELECT {columns} FROM match_briefs
        WHERE brief_id = :id AND slot = {ALL_SLOT} LIMIT 1){" f ON true" if prepare else ""}"""
    rows = await fetch_rows(session, sql, {"id": brief_id})
    extra = (
        {k: v for k, v in rows[0].items() if k in ("_max_deals", "_max_on_time")} if rows else {}
    )
    if rows and rows[0]["brief_id"] is not None:
        return {k: v for k, v in rows[0].items() if not k.startswith("_")} | extra
    rows = await fetch_rows(
        session,
        f"SELECT {columns} FROM match_brief_source WHERE brief_id = :id AND slot = 0 LIMIT 1",
        {"id": brief_id},
    )
    return dict(rows[0]) | extra if rows else None


async def account_features(
    session: AsyncSession,
    *,
    creator_id: uuid.UUID | None = None,
    account_ids: Sequence[uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """Accounts' features (slot 0 rows) and handles, by creator or by account, in platform
    order."""
    columns = ", ".join(f"m.{c}" for c in ACCOUNT_FEATURES)
    where: list[str] = ["m.slot = 0"]
    params: dict[str, Any] = {}
    if creator_id is not None:
        where.append("m.creator_id = :creator_id")
        params["creator_id"] = creator_id
    if account_ids is not None:
        where.append("m.account_id = ANY(:account_ids)")
        params["account_ids"] = list(account_ids)
    sql = f"""SELECT {columns}, sa.handle FROM match_accounts m
        JOIN social_accounts sa ON sa.id = m.account_id
        WHERE {" AND ".join(where)} ORDER BY m.platform"""
    return await fetch_rows(session, sql, params)


def _candidate(b: model.Side, alias: str, settings: Settings, filters: CreatorMatchFilters) -> str:
    a = model.Side(alias=alias)
    conditions: list[Any] = [model.eligible(b, a, settings)]
    if b.tier_mask and b.size_min is None and b.size_max is None:
        # Tiers that are not adjacent are an OR of ranges; give the index their envelope.
        ranges = model.tier_ranges(b.tier_mask, settings)
        if ranges:
            conditions.append(Sql(f"{alias}.followers >= {min(low for low, _ in ranges)}"))
        if ranges and all(high is not None for _, high in ranges):
            highest = max(high for _, high in ranges if high is not None)
            conditions.append(Sql(f"{alias}.followers <= {highest}"))
    if filters.country:
        codes = ", ".join(str(country_code(c)) for c in filters.country)
        conditions.append(Sql(f"{alias}.country IN ({codes})"))
    if filters.niche:
        conditions.append(Sql(f"({alias}.niche_mask & {niche_mask(filters.niche)}) <> 0"))
    if filters.min_followers is not None:
        conditions.append(Sql(f"{alias}.followers >= {int(filters.min_followers)}"))
    condition = and_(*conditions)
    return str(lit(condition))


# Model SQL is built once per request against this placeholder alias, then pointed at the
# alias each place in the statement reads (building it is the costly part).
_ANY = "__alias__"


def _at(template: str, alias: str) -> str:
    return template.replace(f"{_ANY}.", f"{alias}.")


def _parts_sql(parts: Mapping[str, Any], alias: str) -> str:
    return ", ".join(f"{_at(str(lit(v)), alias)} AS part_{name}" for name, v in parts.items())


async def rank_creators(
    session: AsyncSession,
    settings: Settings,
    brief_id: uuid.UUID,
    features: Mapping[str, Any],
    filters: CreatorMatchFilters,
    page: PageParams,
) -> tuple[list[Ranked], str | None]:
    """A page of the creators who meet the brief's hard requirements (and the filters),
    best first, without those who applied. Each row holds the best account's features,
    the parts of its score (`part_*`), the creator's and account's display fields and
    whether the brand invited the creator. Call `prepare_transaction` (or load the features with
    `prepare=True`) in the transaction first."""
    b = model.Side(features)
    weights = settings.match_weights
    parts = model.parts(b, model.Side(alias=_ANY), settings)
    score = str(lit(model.score(parts, weights)))
    candidate = _candidate(b, _ANY, settings, filters)
    score_m, score_m2 = _at(score, "m"), _at(score, "m2")
    parts_f = _parts_sql(parts, "f")
    candidate_m, candidate_m2 = _at(candidate, "m"), _at(candidate, "m2")
    several = len(model.platform_codes(b.platform_mask)) != 1
    dominated = (
        f"""EXISTS (SELECT 1 FROM match_accounts m2
            WHERE m2.creator_id = t.creator_id AND m2.slot = 0 AND m2.account_id <> t.account_id
              AND {candidate_m2}
              AND ({score_m2} > t.key OR ({score_m2} = t.key AND m2.platform < t.platform)))"""
        if several
        else "false"
    )

    def fetcher(slots: str) -> Fetch:
        async def fetch(cursor: tuple[Any, uuid.UUID] | None, n: int) -> list[dict[str, Any]]:
            # The scan sorts narrow rows; the page's features are joined back afterwards.
            scan = f"""SELECT m.account_id, m.creator_id, m.platform, {score_m} AS key
                FROM match_accounts m
                WHERE {slots} AND {candidate_m}
                  AND m.creator_id NOT IN
                      (SELECT ap.creator_id FROM applications ap WHERE ap.brief_id = :brief_id)"""
            sql = f"""
            SELECT f.*, t.key, {dominated} AS dominated, {parts_f},
                   c.display_name, c.handle AS creator_handle, c.country AS creator_country,
                   c.niches AS creator_niches, sa.handle,
                   EXISTS (SELECT 1 FROM invitations i
                           WHERE i.brief_id = :brief_id AND i.creator_id = t.creator_id) AS invited
            FROM (
                {top(scan, "creator_id", cursor, n)}
            ) t
            JOIN match_accounts f ON f.account_id = t.account_id AND f.slot = 0
            JOIN creators c ON c.id = t.creator_id
            JOIN social_accounts sa ON sa.id = t.account_id
            ORDER BY t.key DESC, t.creator_id DESC"""
            params: dict[str, Any] = {"brief_id": brief_id}
            if cursor is not None:
                params["after_id"] = cursor[1]
            return await fetch_rows(session, sql, params)

        return fetch

    cursor = page_cursor(page, parse_float)
    need = page.limit + 1
    batch = need * (2 if several else 1)
    if filters.niche:
        every = first_slot("m.slot", "m.niche_mask", [NICHE_CODES[n] for n in filters.niche])
    else:
        every = f"m.slot = {ALL_SLOT}"
    if b.niche_count:
        sharing = first_slot(
            "m.slot", "m.niche_mask", [bit.bit_length() for bit in bits_of(b.niche_mask)]
        )
        bound = best_without_niche(
            features,
            settings,
            int(features.get("_max_deals") or 0),
            int(features.get("_max_on_time") or 0),
        )
        kept, complete = await collect(
            fetcher(sharing), cursor, need, batch, "creator_id", bound=bound
        )
        if complete:
            return page_of(kept, page)
    kept, _ = await collect(fetcher(every), cursor, need, batch, "creator_id")
    return page_of(kept, page)


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
    in-memory brief index (`match_index`), brought up to date first. Each row holds the
    brief's features (of the row of the account's platform) and summary, `account`: the
    index in `accounts` of the account the score is for (the best one), and `parts`: the
    parts of that score."""
    if not accounts:
        return [], None
    cursor = page_cursor(page, parse_float)
    now, applied = await index.sync(session, creator_id)
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
