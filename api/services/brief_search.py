"""Brief search: open briefs by filter, full text and sort, with stable keyset cursors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Dialect
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


def _overlaps(column: Any, values: Any) -> ColumnElement[bool]:
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


def _tier_expression(
    tiers: tuple[Tier, ...], band_limits: tuple[tuple[str, int, int | None], ...]
) -> ColumnElement[bool]:
    """A brief wants tier T if its follower bounds (which rule when set) overlap T's band,
    else if T is among its tiers, or if it asks for no particular size at all."""
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


# The filters, by their `BriefSearch` field: each binds the request's value under the
# field's name (`bindparam(name)`), so one compiled text serves every value.
def _any_of(column: Any, name: str) -> ColumnElement[bool]:
    return column == any_(bindparam(name, type_=ARRAY(column.type)))  # type: ignore[no-any-return]


def _array_overlaps(column: Any, name: str) -> ColumnElement[bool]:
    return _overlaps(column, bindparam(name, type_=column.type))


def _countries(name: str) -> ColumnElement[bool]:
    countries = col(Brief.creator_countries)
    return or_(_array_overlaps(countries, name), func.cardinality(countries) == 0)


def _publish_from(name: str) -> ColumnElement[bool]:
    last_day = func.coalesce(col(Brief.publish_end_date), col(Brief.publish_start_date))
    return last_day >= bindparam(name)


_FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "collaboration_type": lambda name: _any_of(col(Brief.collaboration_type), name),
    "compensation_type": lambda name: _any_of(col(Brief.compensation_type), name),
    "platform": lambda name: _array_overlaps(col(Brief.platforms), name),
    "niche": lambda name: _array_overlaps(col(Brief.niches), name),
    "creator_country": _countries,
    "currency": lambda name: col(Brief.currency) == bindparam(name),
    "fee_min": lambda name: col(Brief.fee_max_minor) >= bindparam(name),
    "fee_max": lambda name: col(Brief.fee_min_minor) <= bindparam(name),
    "publish_from": _publish_from,
    "publish_to": lambda name: col(Brief.publish_start_date) <= bindparam(name),
    "deadline_after": lambda name: col(Brief.application_deadline) > bindparam(name),
    "deadline_before": lambda name: col(Brief.application_deadline) < bindparam(name),
}
# Lists of enumerations bind their values.
_ENUM_LISTS = frozenset({"collaboration_type", "compensation_type", "platform", "niche"})


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


class _Shape(NamedTuple):
    """What a search's statement text depends on: which filters it has, not their values."""

    mine: bool
    status: bool  # `mine` only
    filters: tuple[str, ...]  # the `_FILTERS` present, in that order
    tiers: tuple[Tier, ...]
    bands: tuple[tuple[str, int, int | None], ...]  # the tier bands, with `tiers` only
    text: bool
    sort: BriefSort
    cursor: bool


@dataclass(frozen=True)
class _Statement:
    shaped: hot_sql.Shaped
    parse_key: Callable[[Any], Any]  # a cursor's sort key, read back


# Compiled statements by shape; a few dozen in practice (the cap bounds odd clients).
_STATEMENTS: dict[_Shape, _Statement] = {}
_STATEMENTS_MAX = 2_000


def _statement(shape: _Shape, dialect: Dialect) -> _Statement:
    """The shape's statement, compiled on first use: rows of (`BriefRead`'s columns, the
    deliverables, `access_state.version`, sort_key), at most `limit` of them."""
    query = None
    if shape.text:
        query = func.websearch_to_tsquery(TS_CONFIG, bindparam("q", type_=String))
    order = _order(shape.sort, query, shape.mine)
    scope: list[ColumnElement[bool]]
    if shape.mine:
        scope = [_any_of(col(Brief.brand_id), "brand_ids")]
        if shape.status:
            # As the briefs are shown: one past its deadline is closed, written or not.
            statuses = any_(bindparam("status", type_=ARRAY(String)))
            scope.append(PRESENTED_STATUS == statuses)  # noqa: SIM300 - reads as the SQL
    else:
        scope = [
            col(Brief.status) == BriefStatus.open,
            col(Brief.application_deadline) > func.now(),
        ]
    filters = [_FILTERS[name](name) for name in shape.filters]
    if shape.tiers:
        filters.append(_tier_expression(shape.tiers, shape.bands))
    if query is not None:
        filters.append(brief_search_vector.op("@@")(query))
    columns = (*BRIEF_READ_COLUMNS, DELIVERABLE_SPECS, ACCESS_VERSION)
    stmt = select(*columns, order.key.label("sort_key")).where(*scope, *filters)
    keys = [order.key, col(Brief.id)]
    if shape.cursor:
        last: list[Any] = [bindparam("after_key"), bindparam("after_id")]
        stmt = stmt.where(after(keys, last, [order.descending] * 2))
    direction = [k.desc() if order.descending else k.asc() for k in keys]
    stmt = stmt.order_by(*direction).limit(bindparam("limit", type_=Integer))
    return _Statement(hot_sql.shaped(dialect, stmt), order.parse)


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
    of the page's snapshot (None for an empty page). 422 for invalid combinations.

    An open brief past its deadline is treated as closed here even before the sweeper has
    closed it (presented so, never written by a read). Cursors carry the sort, its key and
    the id, so a page never repeats or skips a brief while others are published between
    requests. The statement (with each brief's deliverables) is compiled once per shape of
    search (`_Shape`); a request binds its values and sends it to the driver, which
    prepares it once per connection.
    """
    mine = brand_ids is not None
    errors = _invalid(params, mine)
    if errors:
        raise Unprocessable("the search is invalid", errors=errors)
    text = params.q is not None
    sort = params.sort or (BriefSort.relevance if text else BriefSort.newest)
    values: dict[str, Any] = {"limit": page.limit + 1, "q": params.q}
    present = []
    for name in _FILTERS:
        value = getattr(params, name)
        if value is None or value == []:
            continue
        present.append(name)
        values[name] = [v.value for v in value] if name in _ENUM_LISTS else value
    status = mine and bool(params.status)
    if mine:
        values["brand_ids"] = list(brand_ids or ())
        values["status"] = [s.value for s in params.status]
    tiers = tuple(params.tier)
    bands = (
        tuple((b.name, b.min_followers, b.max_followers) for b in settings.tiers) if tiers else ()
    )
    shape = _Shape(mine, status, tuple(present), tiers, bands, text, sort, bool(page.cursor))
    statement = _STATEMENTS.get(shape)
    if statement is None:
        if len(_STATEMENTS) >= _STATEMENTS_MAX:
            _STATEMENTS.clear()
        statement = _STATEMENTS[shape] = _statement(shape, connection.dialect)
    if page.cursor:
        _, values["after_key"], values["after_id"] = decode_cursor(
            page.cursor, [_expect(sort), statement.parse_key, uuid.UUID]
        )
    rows = await hot_sql.fetch(connection, statement.shaped.sql, *statement.shaped.args(values))
    kept = rows[: page.limit]
    next_cursor = None
    if len(rows) > page.limit and kept:
        next_cursor = encode_cursor([sort.value, kept[-1]["sort_key"], kept[-1]["id"]])
    now = utcnow()
    reads = []
    for row in kept:
        values = {name: row[name] for name in BRIEF_READ_FIELDS}
        deliverables = row["deliverables"]
        values["deliverables"] = (
            json.loads(deliverables) if isinstance(deliverables, str) else deliverables
        )
        if mine:  # the open-brief search shows none past its deadline
            values = presented(values, now)
        reads.append(read_values(values))
    return reads, next_cursor, rows[0]["access_version"] if rows else None
