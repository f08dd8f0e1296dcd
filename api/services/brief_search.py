"""Brief search: open briefs by filter, full text and sort, with stable keyset cursors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    and_,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from api.errors import FieldError, Forbidden, Unprocessable
from api.models.auth import access_state
from api.models.base import utcnow
from api.models.briefs import (
    Brief,
    BriefSearch,
    BriefSort,
    BriefStatus,
    brief_fee_sort,
    brief_search_vector,
)
from api.models.common import Tier
from api.models.users import Role
from api.pagination import (
    PageParams,
    after,
    decode_cursor,
    encode_cursor,
    parse_date,
    parse_datetime,
    parse_float,
    parse_int,
)
from api.services import hot_sql, memberships
from api.services.briefs import (
    BRIEF_READ_COLUMNS,
    BRIEF_READ_FIELDS,
    DELIVERABLE_SPECS,
    PRESENTED_STATUS,
    presented,
    read_values,
)
from api.services.tokens import Principal
from api.settings import Settings, TierBand

# The text-search configuration of the stored `search` column; queries must use the same.
TS_CONFIG: ColumnElement[Any] = literal_column("'english'::regconfig")
_FAR_DATE = date(9999, 12, 31)
# Read with each page, in its snapshot: confirms a cached caller (`HotCaller.confirm`).
ACCESS_VERSION = select(access_state.c.version).scalar_subquery().label("access_version")
_FAR_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def _overlaps(column: Any, values: list[str]) -> ColumnElement[bool]:
    """`column && values`: the array shares an element with the list (GIN-indexable)."""
    return column.op("&&", is_comparison=True)(values)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Order:
    key: Any
    parse: Callable[[Any], Any]
    descending: bool


def _invalid(params: BriefSearch, mine: bool) -> list[FieldError]:
    errors = []

    def add(field: str, msg: str) -> None:
        errors.append(FieldError(loc=["query", field], msg=msg, type="value_error"))

    if params.status and not mine:
        add("status", "filter by status only with mine=true; search shows open briefs")
    if (params.fee_min is not None or params.fee_max is not None) and params.currency is None:
        add("currency", "a fee filter needs the currency its amounts are in")
    fee_min, fee_max = params.fee_min, params.fee_max
    if fee_min is not None and fee_max is not None and fee_min > fee_max:
        add("fee_min", "must not exceed fee_max")
    if params.publish_from and params.publish_to and params.publish_from > params.publish_to:
        add("publish_from", "must not be after publish_to")
    if (
        params.deadline_after
        and params.deadline_before
        and params.deadline_after >= params.deadline_before
    ):
        add("deadline_after", "must be before deadline_before")
    if params.sort == BriefSort.relevance and params.q is None:
        add("sort", "relevance needs a text query (q)")
    return errors


def _band(bands: list[TierBand], tier: Tier) -> TierBand | None:
    return next((b for b in bands if b.name == tier), None)


def _tier_matches(tiers: list[Tier], bands: list[TierBand]) -> ColumnElement[bool]:
    """A brief wants tier T if its follower bounds (which rule when set) overlap T's band,
    else if T is among its tiers, or if it asks for no particular size at all."""
    # Built once per set of tiers and bands (expressions are immutable): building it cost
    # more than the rest of a search's statement.
    return _tier_expression(
        tuple(tiers), tuple((b.name, b.min_followers, b.max_followers) for b in bands)
    )


@lru_cache(maxsize=256)
def _tier_expression(
    tiers: tuple[Tier, ...], band_limits: tuple[tuple[str, int, int | None], ...]
) -> ColumnElement[bool]:
    bands = [TierBand(name=n, min_followers=lo, max_followers=hi) for n, lo, hi in band_limits]
    min_f, max_f = col(Brief.min_followers), col(Brief.max_followers)
    has_bounds = or_(min_f.is_not(None), max_f.is_not(None))
    overlaps = []
    for tier in tiers:
        band = _band(bands, tier)
        if band is None:
            continue
        upper = true() if band.max_followers is None else min_f <= band.max_followers
        overlaps.append(
            and_(
                or_(min_f.is_(None), upper),
                or_(max_f.is_(None), max_f >= band.min_followers),
            )
        )
    by_bounds = and_(has_bounds, or_(*overlaps) if overlaps else false())
    by_tiers = and_(
        not_(has_bounds),
        or_(
            _overlaps(col(Brief.tiers), [t.value for t in tiers]),
            func.cardinality(col(Brief.tiers)) == 0,
        ),
    )
    return or_(by_bounds, by_tiers)


def _filters(params: BriefSearch, settings: Settings, query: Any) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if params.collaboration_type:
        out.append(col(Brief.collaboration_type).in_([v.value for v in params.collaboration_type]))
    if params.compensation_type:
        out.append(col(Brief.compensation_type).in_([v.value for v in params.compensation_type]))
    if params.platform:
        out.append(_overlaps(col(Brief.platforms), [v.value for v in params.platform]))
    if params.niche:
        out.append(_overlaps(col(Brief.niches), [v.value for v in params.niche]))
    if params.tier:
        out.append(_tier_matches(params.tier, settings.tiers))
    if params.creator_country:
        countries = col(Brief.creator_countries)
        out.append(
            or_(_overlaps(countries, params.creator_country), func.cardinality(countries) == 0)
        )
    if params.currency is not None:
        out.append(col(Brief.currency) == params.currency)
    if params.fee_min is not None:
        out.append(col(Brief.fee_max_minor) >= params.fee_min)
    if params.fee_max is not None:
        out.append(col(Brief.fee_min_minor) <= params.fee_max)
    if params.publish_from is not None:
        last_day = func.coalesce(col(Brief.publish_end_date), col(Brief.publish_start_date))
        out.append(last_day >= params.publish_from)
    if params.publish_to is not None:
        out.append(col(Brief.publish_start_date) <= params.publish_to)
    if params.deadline_after is not None:
        out.append(col(Brief.application_deadline) > params.deadline_after)
    if params.deadline_before is not None:
        out.append(col(Brief.application_deadline) < params.deadline_before)
    if query is not None:
        out.append(brief_search_vector.op("@@")(query))
    return out


def _order(sort: BriefSort, query: Any, mine: bool) -> _Order:
    # Search reads open briefs only, whose sort keys are never null; a brand's own list
    # holds drafts, whose missing dates sort last.
    if sort == BriefSort.relevance:
        return _Order(func.ts_rank(brief_search_vector, query), parse_float, True)
    key: Any
    if sort == BriefSort.publish_date:
        key = col(Brief.publish_start_date)
        if mine:
            key = func.coalesce(key, literal(_FAR_DATE, Date))
        return _Order(key, parse_date, False)
    if sort == BriefSort.deadline:
        key = col(Brief.application_deadline)
        if mine:
            key = func.coalesce(key, literal(_FAR_TIME, DateTime(timezone=True)))
        return _Order(key, parse_datetime, False)
    if sort == BriefSort.fee:
        return _Order(brief_fee_sort, parse_int, True)
    return _Order(col(Brief.created_at) if mine else col(Brief.published_at), parse_datetime, True)


def _expect(sort: BriefSort) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value != sort.value:
            raise ValueError("the cursor belongs to another sort order")
        return value

    return parse


@dataclass(frozen=True)
class SearchQuery:
    """The statement of one search page: rows of (Brief columns..., sort_key)."""

    stmt: Any
    sort: BriefSort
    limit: int

    def page(
        self, rows: Sequence[Any], key: Callable[[Any], tuple[Any, uuid.UUID]]
    ) -> tuple[Sequence[Any], str | None]:
        """The rows kept (limit+1 were asked for) and the cursor of the next page, if any;
        `key` gives a row's sort key and brief id."""
        kept = rows[: self.limit]
        next_cursor = None
        if len(rows) > self.limit and kept:
            next_cursor = encode_cursor([self.sort.value, *key(kept[-1])])
        return kept, next_cursor


def own_brands_of(
    principal: Principal, params: BriefSearch, brand_id: uuid.UUID | None = None
) -> list[uuid.UUID] | None:
    """With `mine=true` the caller's brands (or the one `brand_id` names), whose briefs are
    listed in every state (brand members only: 403 for anybody else); None for the
    open-brief search."""
    if not params.mine:
        if brand_id is not None:
            raise Unprocessable(
                "`brand_id` filters your own briefs: use it with `mine=true`",
                code="brand_id_needs_mine",
            )
        return None
    if principal.role != Role.brand:
        raise Forbidden("only brand members have briefs of their own", code="brand_only")
    return memberships.brand_scope(principal, brand_id)


def search_statement(
    settings: Settings,
    params: BriefSearch,
    page: PageParams,
    *,
    brand_ids: Sequence[uuid.UUID] | None = None,
    columns: Sequence[Any] = (Brief,),
) -> SearchQuery:
    """Check the search and build its statement (422 for invalid combinations)."""
    mine = brand_ids is not None
    errors = _invalid(params, mine)
    if errors:
        raise Unprocessable("the search is invalid", errors=errors)
    query = func.websearch_to_tsquery(TS_CONFIG, params.q) if params.q is not None else None
    sort = params.sort or (BriefSort.relevance if query is not None else BriefSort.newest)
    order = _order(sort, query, mine)

    scope: list[ColumnElement[bool]]
    if brand_ids is not None:
        scope = [col(Brief.brand_id).in_(list(brand_ids))]
        if params.status:
            # As the briefs are shown: one past its deadline is closed, written or not.
            scope.append(PRESENTED_STATUS.in_([s.value for s in params.status]))
    else:
        scope = [
            col(Brief.status) == BriefStatus.open,
            col(Brief.application_deadline) > func.now(),
        ]
    stmt = select(*columns, order.key.label("sort_key")).where(
        *scope, *_filters(params, settings, query)
    )
    keys = [order.key, col(Brief.id)]
    if page.cursor:
        _, key, last_id = decode_cursor(page.cursor, [_expect(sort), order.parse, uuid.UUID])
        stmt = stmt.where(after(keys, [key, last_id], [order.descending] * 2))
    direction = [k.desc() if order.descending else k.asc() for k in keys]
    return SearchQuery(stmt.order_by(*direction).limit(page.limit + 1), sort, page.limit)


async def search_briefs(
    connection: AsyncConnection,
    settings: Settings,
    params: BriefSearch,
    page: PageParams,
    *,
    brand_ids: Sequence[uuid.UUID] | None = None,
) -> tuple[list[dict[str, Any]], str | None, int | None]:
    """One page of briefs (each as `BriefRead` serialises it, `read_values`): open ones
    for everybody, or (with `brand_ids`) those brands' own; with `access_state.version` as
    of the page's snapshot (None for an empty page).

    An open brief past its deadline is treated as closed here even before the sweeper has
    closed it (presented so, never written by a read). Cursors carry the sort, its key and
    the id, so a page never repeats or skips a brief while others are published between
    requests. The statement (with each brief's deliverables) goes to the driver, compiled
    once per shape of search (`hot_sql.compiled`).
    """
    search = search_statement(
        settings,
        params,
        page,
        brand_ids=brand_ids,
        columns=(*BRIEF_READ_COLUMNS, DELIVERABLE_SPECS, ACCESS_VERSION),
    )
    sql, args = hot_sql.compiled(connection, search.stmt)
    rows = await hot_sql.fetch(connection, sql, *args)
    kept, next_cursor = search.page(rows, lambda row: (row["sort_key"], row["id"]))
    now = utcnow()
    reads = []
    for row in kept:
        values = {name: row[name] for name in BRIEF_READ_FIELDS}
        deliverables = row["deliverables"]
        values["deliverables"] = (
            json.loads(deliverables) if isinstance(deliverables, str) else deliverables
        )
        if brand_ids is not None:  # the open-brief search shows none past its deadline
            values = presented(values, now)
        reads.append(read_values(values))
    return reads, next_cursor, rows[0]["access_version"] if rows else None
