"""Every account's match row in each worker's memory, to rank creators for a brief.

Ranking creators for a brief scores every account that could meet its hard
requirements. In PostgreSQL that cost about 0.6-1.2 µs an account row (reading a wide
index tuple, then interpreting the score expression): a broad brief of a million
creators reads a million rows, and a gifted brief naming no niche took 70-90 ms at
100,000 creators and about a second at 1,000,000. Here the slot-0 rows of
`match_accounts` (one per social account) are numpy columns, sorted by platform and then
followers, so a brief reads one slice of each of its platforms (its tiers or follower
bounds cut the slice), and the same model (`api.services.match_model`, its account side
given as vectors: `match_expr`) scores the slice at once.

Correct under writes and across workers: the copy follows `match_accounts` through its
change log (`api.services.match_copy`, which says how; migration 0010). Rows are read
with a binary COPY whose fixed-width rows numpy parses as they stream in: a full copy is
one statement (one snapshot), 0.7 s for 160,000 accounts, 8-11 s for 1.6 million.

Memory: about 160 bytes an account (ids, figures, decoded audience slots, the two
account-only parts, compact rate cards: each platform keeps only the formats some
account on it prices): 257 MB at a million creators.
"""

# The SQL here is built from this module's own column lists and from ids the database or
# this module produced (formatted as UUID literals), never from request input.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.matching import (
    AGE_BUCKETS,
    ALL_SLOT,
    AUDIENCE_SLOTS,
    COUNTRY_CODES,
    FORMATS,
    PLATFORM_CODES,
    TIER_BITS,
    CreatorDirectoryQuery,
    CreatorMatchFilters,
    country_code,
    niche_mask,
)
from api.services import match_model as model
from api.services.match_copy import FollowedCopy, best_positions, split_ids, sync_statement
from api.services.match_expr import in_codes, is_vector
from api.settings import Settings

# The columns held, as (name, SQL, binary wire type, stored dtype). Every one is fixed-width
# and never null on the wire (nulls are sent as -1), so every COPY row has one size.
_AGES = [f"age_{i}" for i in range(1, len(AGE_BUCKETS) + 1)]
_SLOTS = range(1, AUDIENCE_SLOTS + 1)
_COLUMNS: list[tuple[str, str, str, str]] = [
    ("platform", "m.platform::int2", ">i2", "int8"),
    ("country", "coalesce(m.country, -1)::int2", ">i2", "float32"),
    ("followers", "m.followers::int8", ">i8", "int64"),
    ("er", "m.er::float8", ">f8", "float64"),
    ("accepts_gifting", "m.accepts_gifting", "?", "bool"),
    ("niche_mask", "m.niche_mask::int4", ">i4", "int32"),
    ("niche_count", "m.niche_count::int2", ">i2", "int8"),
    ("genders", "m.genders::int4", ">i4", "int32"),
    *[(c, f"m.{c}::int2", ">i2", "int16") for c in _AGES],
    ("deals_completed", "m.deals_completed::int4", ">i4", "int32"),
    ("published_on_time", "m.published_on_time::int4", ">i4", "int32"),
    ("published_late", "m.published_late::int4", ">i4", "int32"),
    # Audience slots, held decoded (`_decode_slots`).
    *[(f"aud_{i}", f"m.aud_{i}::int4", ">i4", "int32") for i in _SLOTS],
    ("fee_currency", "coalesce(m.fee_currency, -1)::int2", ">i2", "float32"),
    *[(f"fee_{k}", f"coalesce(m.fees[{k}], -1)::int8", ">i8", "int64") for k in range(1, 11)],
]
_IDS = ("id", "creator")  # account and creator ids, each as two 64-bit halves
_HALVES = ("hi", "lo")
_FEES = [f"fee_{k}" for k in range(1, FORMATS + 1)]
# Columns the model reads as floats, NULL as NaN (sent as -1).
_NULLABLE = ("country", "fee_currency")
# Stored narrow, widened as the model reads them (products of age shares and weights
# need 32 bits).
_WIDEN = dict.fromkeys(_AGES, np.int32)


def _wire_dtype() -> np.dtype[Any]:
    fields: list[tuple[str, str]] = [("_count", ">i2")]
    for name in _IDS:
        fields += [(f"_len_{name}", ">i4"), (f"{name}_hi", ">u8"), (f"{name}_lo", ">u8")]
    for name, _, wire, _ in _COLUMNS:
        fields += [(f"_len_{name}", ">i4"), (name, wire)]
    return np.dtype(fields)


_WIRE = _wire_dtype()
_FIELD_COUNT = len(_IDS) + len(_COLUMNS)
_COPY = (
    "SELECT m.account_id, m.creator_id, "
    + ", ".join(sql for _, sql, _, _ in _COLUMNS)
    + f" FROM match_accounts m WHERE m.slot = {ALL_SLOT} AND {{where}}"
)

ROWS = Gauge(
    "briefboard_creator_index_rows",
    "Account match rows held in memory by the worker's creator index",
    multiprocess_mode="max",
)
COPIES = Counter(
    "briefboard_creator_index_copies_total",
    "Full copies of the accounts made by creator indexes (start-up, bulk rewrites, pruning)",
)


_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_TRAILER = b"\xff\xff"


class CopyReader:
    """Columns from a binary COPY of `_COPY`'s rows, parsed as the data streams in: every
    row has one size, so each chunk's whole rows are read in place by numpy, and at most
    one partial row is held between chunks."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._started = False
        self._parts: list[dict[str, np.ndarray]] = []

    async def feed(self, chunk: bytes) -> None:
        self._pending += chunk
        if not self._started:
            if len(self._pending) < 19:
                return
            if bytes(self._pending[:11]) != _SIGNATURE:
                raise ValueError("not a binary COPY")
            start = 19 + int.from_bytes(self._pending[15:19], "big")
            if len(self._pending) < start:
                return
            del self._pending[:start]
            self._started = True
        whole = len(self._pending) // _WIRE.itemsize * _WIRE.itemsize
        if whole >= 1 << 20:  # a megabyte of rows at a time; `columns` reads the rest
            self._take(whole)

    def _take(self, size: int) -> None:
        rows = np.frombuffer(bytes(self._pending[:size]), dtype=_WIRE)
        del self._pending[:size]
        if (rows["_count"] != _FIELD_COUNT).any():
            raise ValueError("a COPY row does not have the expected fields")
        columns = {f"{n}_{h}": rows[f"{n}_{h}"].astype(np.uint64) for n in _IDS for h in _HALVES}
        for name, _, _, stored in _COLUMNS:
            columns[name] = rows[name].astype(stored)
        self._parts.append(columns)

    def columns(self) -> dict[str, np.ndarray]:
        """Every row read, once the COPY has ended."""
        whole = len(self._pending) - len(_TRAILER)
        if not self._started or whole % _WIRE.itemsize or self._pending[whole:] != _TRAILER:
            raise ValueError("the COPY did not end where a row does")
        if whole:
            self._take(whole)
        stored = {f"{n}_{h}": "uint64" for n in _IDS for h in _HALVES}
        stored |= {c[0]: c[3] for c in _COLUMNS}
        columns = {}
        for name, dtype in stored.items():
            # Column by column, each part's piece let go once joined: at most one column
            # is held twice.
            pieces = [part.pop(name) for part in self._parts]
            columns[name] = np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)
        self._parts = []
        for name in _NULLABLE:
            columns[name][columns[name] < 0] = np.nan
        return _decode_slots(columns)


def _decode_slots(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each packed audience slot (`aud_i`: country code << 10 | share in permille) as its
    country code (`aud_country_i`) and share (`aud_share_i`), as the model reads them."""
    for i in _SLOTS:
        packed = columns.pop(f"aud_{i}")
        columns[f"aud_country_{i}"] = (packed >> 10).astype(np.int16)
        columns[f"aud_share_{i}"] = (packed & 1023).astype(np.int16)
    return columns


class CreatorBatch:
    """Account match rows as columns, sorted by platform, then followers: a brief's
    platform and follower range is one slice. Rate cards are kept per platform, only for
    the formats some account on it prices."""

    def __init__(self, columns: dict[str, np.ndarray], *, account_parts_for: str | None = None):
        """From `columns` (taken: each is let go once sorted, so that at most one column
        is held twice); with `account_parts_for`, `columns` also hold the account parts
        (`_part_<name>`) computed for those settings."""
        order = np.lexsort((columns["followers"], columns["platform"]))
        self.columns = {k: columns.pop(k)[order] for k in list(columns) if k not in _FEES}
        self.size = len(order)
        platform = self.columns["platform"]
        firsts = np.flatnonzero(np.diff(platform, prepend=-1)).tolist()
        stops = [*firsts[1:], self.size]
        self.groups: dict[int, tuple[int, int]] = {
            int(platform[first]): (first, stop) for first, stop in zip(firsts, stops, strict=False)
        }
        self.fees: dict[tuple[int, int], np.ndarray] = {}
        for k, name in enumerate(_FEES, start=1):
            if name not in columns:
                continue
            fee = columns.pop(name)[order]
            for p, (first, stop) in self.groups.items():
                if (fee[first:stop] >= 0).any():
                    self.fees[(p, k)] = fee[first:stop].copy()
        self.hi, self.lo = self.columns["id_hi"], self.columns["id_lo"]
        # Row orders by account and by creator (high halves), for binary searches.
        self._by_id = np.argsort(self.hi).astype(np.int32)
        self._by_creator = np.argsort(self.columns["creator_hi"]).astype(np.int32)
        # (settings key, account parts), swapped whole: a merge in a thread reads it.
        self._account_cache: tuple[str, dict[str, np.ndarray]] | None = None
        if account_parts_for is not None:
            carried = {name: self.columns.pop(f"_part_{name}") for name in model.ACCOUNT_PARTS}
            self._account_cache = (account_parts_for, carried)

    @classmethod
    def of(cls, rows: Sequence[Mapping[str, Any]]) -> CreatorBatch:
        """From match rows as values (`account_id`, `creator_id` and the account features;
        NULL as None), as a COPY would send them."""
        columns: dict[str, np.ndarray] = {}
        for name in _IDS:
            key = "account_id" if name == "id" else "creator_id"
            columns[f"{name}_hi"], columns[f"{name}_lo"] = split_ids(r[key].int for r in rows)
        for name, _, _, stored in _COLUMNS:
            if name in _FEES:
                k = int(name.removeprefix("fee_"))
                values = [(r["fees"] or [])[k - 1 : k] for r in rows]
                column = [v[0] if v and v[0] is not None else -1 for v in values]
            else:
                column = [np.nan if r[name] is None else r[name] for r in rows]
            columns[name] = np.array(column, dtype=stored)
        return cls(_decode_slots(columns))

    def account_parts(self, settings: Settings) -> dict[str, np.ndarray]:
        """`match_model.account_parts` of every row, computed once for these settings."""
        key = settings.model_dump_json(include={"tiers", "engagement_norms"})
        cache = self._account_cache
        if cache is None or cache[0] != key:
            computed = {name: np.zeros(self.size) for name in model.ACCOUNT_PARTS}
            for platform, (first, stop) in self.groups.items():
                a = self.side(platform, slice(first, stop))
                for name, value in model.account_parts(a, settings).items():
                    computed[name][first:stop] = value
            cache = self._account_cache = (key, computed)
        return cache[1]

    @property
    def nbytes(self) -> int:
        """The memory its arrays hold."""
        cached = self._account_cache[1].values() if self._account_cache else []
        arrays = [*self.columns.values(), *self.fees.values(), *cached]
        arrays += [self._by_id, self._by_creator]
        return sum(a.nbytes for a in arrays)

    def fee_column(self, k: int) -> np.ndarray:
        """The rate-card fee of format index `k - 1` of every row, -1 for none."""
        out = np.full(self.size, -1, dtype=np.int64)
        for p, (first, stop) in self.groups.items():
            fee = self.fees.get((p, k))
            if fee is not None:
                out[first:stop] = fee
        return out

    @classmethod
    def joined(cls, parts: Sequence[tuple[CreatorBatch, np.ndarray]]) -> CreatorBatch:
        """The rows of `parts` selected by their masks."""
        names = parts[0][0].columns if parts else {}
        columns = {
            name: np.concatenate([b.columns[name][keep] for b, keep in parts]) for name in names
        }
        for k, name in enumerate(_FEES, start=1):
            columns[name] = np.concatenate([b.fee_column(k)[keep] for b, keep in parts])
        # Account parts computed for the same settings carry over (a merge then costs the
        # next request nothing); else they are computed when first needed.
        caches = [b._account_cache for b, _ in parts]
        keys = {c[0] if c else None for c in caches}
        carried = keys.pop() if len(keys) == 1 else None
        if carried is not None:
            for name in model.ACCOUNT_PARTS:
                pieces = [c[1][name][keep] for c, (_, keep) in zip(caches, parts, strict=True) if c]
                columns[f"_part_{name}"] = np.concatenate(pieces)
        return cls(columns, account_parts_for=carried)

    def rows_of(self, account_id: uuid.UUID) -> np.ndarray:
        """An account's row (none, or one)."""
        hi, lo = split_ids([account_id.int])
        start, stop = (
            int(np.searchsorted(self.hi, hi[0], side=side, sorter=self._by_id))
            for side in ("left", "right")
        )
        found = self._by_id[start:stop]
        mine: np.ndarray = found[self.lo[found] == lo[0]]
        return mine

    def rows_of_creators(self, creators: set[int]) -> np.ndarray:
        """The rows of the accounts of `creators` (ids as ints)."""
        if not creators:
            return np.zeros(0, dtype=np.int64)
        hi, lo = split_ids(creators)
        column, by = self.columns["creator_hi"], self._by_creator
        start = np.searchsorted(column, hi, side="left", sorter=by).tolist()
        stop = np.searchsorted(column, hi, side="right", sorter=by).tolist()
        found = [by[a:b] for a, b in zip(start, stop, strict=True)]
        rows = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        wanted = {int(h) << 64 | int(v) for h, v in zip(hi, lo, strict=True)}
        keys = self.creator_keys(rows)
        return rows[np.array([k in wanted for k in keys], dtype=bool)] if len(rows) else rows

    def creator_keys(self, rows: np.ndarray) -> list[int]:
        """The creators of `rows`, as their ids' ints."""
        hi = self.columns["creator_hi"][rows].tolist()
        lo = self.columns["creator_lo"][rows].tolist()
        return [h << 64 | v for h, v in zip(hi, lo, strict=True)]

    def id_of(self, row: int) -> uuid.UUID:
        return uuid.UUID(int=int(self.hi[row]) << 64 | int(self.lo[row]))

    def span(self, platform: int, low: int, high: int | None) -> tuple[int, int]:
        """The rows of `platform` with followers in [low, high]."""
        group = self.groups.get(platform)
        if group is None:
            return 0, 0
        first, stop = group
        followers = self.columns["followers"][first:stop]
        start = first + int(np.searchsorted(followers, low, side="left"))
        end = stop if high is None else first + int(np.searchsorted(followers, high, side="right"))
        return start, max(start, end)

    def side(self, platform: int, rows: slice | np.ndarray) -> model.Side:
        """The accounts at `rows` (all on `platform`), as the model's account side."""
        return model.Side(_Accounts(self, platform, rows))


class _Accounts(dict[str, Any]):
    """A batch's columns at some rows of one platform, each taken on first read."""

    def __init__(self, batch: CreatorBatch, platform: int, rows: slice | np.ndarray):
        super().__init__(platform=platform)
        self._batch, self._platform, self._rows = batch, platform, rows

    def __missing__(self, name: str) -> Any:
        if name == "fees":
            value: Any = _Fees(self._batch, self._platform, self._rows)
        else:
            value = self._batch.columns[name][self._rows]
            if name in _WIDEN:
                value = value.astype(_WIDEN[name])
        self[name] = value
        return value


class _Fees:
    """An account side's rate card: format index `i` is `fees[i]`, a float vector (NaN: no
    fee), or None when no account on the platform prices that format."""

    def __init__(self, batch: CreatorBatch, platform: int, rows: slice | np.ndarray):
        self._batch, self._platform = batch, platform
        first, _ = batch.groups[platform]
        if isinstance(rows, slice):
            self._rows: slice | np.ndarray = slice(rows.start - first, rows.stop - first)
        else:
            self._rows = rows - first

    def __len__(self) -> int:
        return FORMATS

    def __getitem__(self, i: int) -> np.ndarray | None:
        fee = self._batch.fees.get((self._platform, i + 1))
        if fee is None:
            return None
        raw = fee[self._rows]
        return np.where(raw < 0, np.nan, raw.astype(np.float64))


@dataclass(frozen=True)
class CreatorHit:
    """A creator ranked for a brief: the score of its best account, and that score's
    parts."""

    key: float
    creator_id: uuid.UUID
    account_id: uuid.UUID
    parts: dict[str, float]


@dataclass
class _Piece:
    """The eligible accounts of one platform in one batch: `rows` (batch rows), their
    `keys`, and the parts of the scored side, of which `at` picks theirs."""

    batch: CreatorBatch
    rows: np.ndarray
    keys: np.ndarray
    at: np.ndarray
    parts: dict[str, Any]

    def keep(self, mask: np.ndarray) -> None:
        self.rows, self.keys, self.at = self.rows[mask], self.keys[mask], self.at[mask]

    def hit(self, j: int) -> CreatorHit:
        row, at = int(self.rows[j]), int(self.at[j])
        creator = self.batch.creator_keys(np.array([row]))[0]
        return CreatorHit(
            float(self.keys[j]),
            uuid.UUID(int=creator),
            self.batch.id_of(row),
            {k: float(v[at]) if is_vector(v) else float(v) for k, v in self.parts.items()},
        )


def follower_envelope(
    b: model.Side, filters: CreatorMatchFilters, settings: Settings
) -> tuple[int, int | None]:
    """The follower range holding every account that can meet the brief's size wishes and
    the filters (explicit bounds, else the envelope of its tiers)."""
    low, high = 0, None
    if b.size_min is not None or b.size_max is not None:
        low, high = int(b.size_min or 0), None if b.size_max is None else int(b.size_max)
    elif b.tier_mask:
        ranges = model.tier_ranges(int(b.tier_mask), settings)
        if ranges:
            low = min(r[0] for r in ranges)
            highs = [r[1] for r in ranges]
            high = None if any(h is None for h in highs) else max(h for h in highs if h)
    if filters.min_followers is not None:
        low = max(low, int(filters.min_followers))
    return low, high


_SYNC = sync_statement(
    "match_account_changes",
    "account_id",
    "ARRAY(SELECT ap.creator_id FROM applications ap WHERE ap.brief_id = $5)",
)


def _uuid_list(ids: Sequence[uuid.UUID]) -> str:
    return "'{" + ",".join(str(uuid.UUID(str(i))) for i in ids) + "}'::uuid[]"


async def _copy_rows(conn: Any, where: str) -> dict[str, np.ndarray]:
    reader = CopyReader()
    await conn.copy_from_query(_COPY.format(where=where), output=reader.feed, format="binary")
    return reader.columns()


# A full copy is one statement (one snapshot, one scan); at a million creators it takes
# seconds, so it runs under a timeout of its own rather than the requests' one.
_COPY_TIMEOUT = "10min"


class CreatorIndex(FollowedCopy[CreatorBatch]):
    """One worker's copy of every account's match row (see the module's docstring)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(sync_sql=_SYNC, rows=ROWS, copies=COPIES, **options)

    async def _fetch_changed(self, conn: Any, keys: Sequence[uuid.UUID]) -> CreatorBatch:
        columns = await _copy_rows(conn, f"m.account_id = ANY({_uuid_list(keys)})")
        return CreatorBatch(columns)

    async def _fetch_all(self, conn: Any) -> CreatorBatch:
        """Every account in one COPY, parsed as it streams in (other requests run between
        its chunks); sorted and indexed in a thread."""
        timeout = "SELECT set_config('statement_timeout', $1, true)"
        before = await conn.fetchval("SELECT current_setting('statement_timeout')")
        await conn.execute(timeout, _COPY_TIMEOUT)
        try:
            columns = await _copy_rows(conn, "true")
        finally:
            await conn.execute(timeout, before)
        return await asyncio.to_thread(CreatorBatch, columns)

    def _join(self, parts: Sequence[tuple[CreatorBatch, np.ndarray]]) -> CreatorBatch:
        return CreatorBatch.joined(parts)

    @property
    def nbytes(self) -> int:
        """The memory the copy's arrays hold (for tools)."""
        return sum(batch.nbytes for batch, _ in self.segments())

    async def refresh(self, session: AsyncSession, brief_id: uuid.UUID) -> set[uuid.UUID]:
        """Sync (`FollowedCopy.sync`); returns the creators who applied to the brief."""
        head = await self.sync(session, brief_id)
        return set(head["_extra"])

    def rank(
        self,
        settings: Settings,
        features: Mapping[str, Any],
        filters: CreatorMatchFilters,
        *,
        applied: set[uuid.UUID],
        cursor: tuple[float, uuid.UUID] | None,
        n: int,
    ) -> list[CreatorHit]:
        """The first `n` creators, not in `applied`, with an account that meets every hard
        requirement of the brief (`features`) and the filters, by the best score of such
        an account (ties: the account on the lowest platform code), after `cursor`
        (score, creator id), best first; ties by creator id, descending."""
        b = model.Side(features)
        platforms = model.platform_codes(int(b.platform_mask)) or list(PLATFORM_CODES.values())
        with np.errstate(all="ignore"):
            pieces = self._score(settings, b, platforms, filters, {c.int for c in applied})
            shown = _drop_shown(pieces, cursor) if cursor is not None else set()
            return _first_creators(pieces, shown, n, len(platforms))

    def directory(
        self,
        settings: Settings,
        params: CreatorDirectoryQuery,
        *,
        cursor: tuple[int, uuid.UUID] | None,
        n: int,
    ) -> list[CreatorHit]:
        """The first `n` creators with an account meeting every filter of `params`, by the
        followers of the largest such account (ties: the lowest platform code), then
        creator id, descending, after `cursor` (followers, creator id)."""
        platforms = [PLATFORM_CODES[p] for p in params.platform] or list(PLATFORM_CODES.values())
        tiers = 0
        for tier in params.tier:
            tiers |= TIER_BITS[tier]
        ranges = model.tier_ranges(tiers, settings) if tiers else [(0, None)]
        low = max(min(r[0] for r in ranges) if ranges else 0, params.min_followers or 0)
        highs = [r[1] for r in ranges]
        high = None if not ranges or None in highs else max(h for h in highs if h is not None)
        if params.max_followers is not None:
            high = params.max_followers if high is None else min(high, params.max_followers)
        countries = [country_code(c) for c in params.country]
        audience = [country_code(c) for c in params.audience_country]
        # The audience countries' combined share, in permille: at least the asked share,
        # and any at all.
        least_share = max(round((params.min_audience_share or 0) * 10), 1)
        pieces = []
        for batch, alive in self.segments() if ranges else []:
            columns = batch.columns
            for platform in platforms:
                start, stop = batch.span(platform, low, high)
                if start == stop:
                    continue
                rows = slice(start, stop)
                followers = columns["followers"][rows]
                ok = alive[rows].copy()
                if len(ranges) > 1:  # tiers that are not adjacent
                    within = [(followers >= a) & (followers <= (b or np.inf)) for a, b in ranges]
                    ok &= np.logical_or.reduce(within)
                if countries:
                    ok &= np.isin(columns["country"][rows], countries)
                if params.niche:
                    ok &= (columns["niche_mask"][rows] & niche_mask(params.niche)) != 0
                if params.min_engagement_rate is not None:
                    ok &= columns["er"][rows] >= params.min_engagement_rate
                if audience:
                    shares = [
                        columns[f"aud_share_{i}"][rows].astype(np.int32)
                        * in_codes(columns[f"aud_country_{i}"][rows], audience, COUNTRY_CODES)
                        for i in _SLOTS
                    ]
                    ok &= sum(shares) >= least_share
                at = np.flatnonzero(ok)
                if len(at):
                    keys = followers[at].astype(np.float64)
                    pieces.append(_Piece(batch, start + at, keys, at, {}))
        shown = _drop_shown(pieces, (float(cursor[0]), cursor[1])) if cursor else set()
        return _first_creators(pieces, shown, n, len(platforms))

    def count(self, settings: Settings, features: Mapping[str, Any]) -> int:
        """How many creators have an account that meets every hard requirement of the
        brief (for tools: it scores them all)."""
        b = model.Side(features)
        platforms = model.platform_codes(int(b.platform_mask)) or list(PLATFORM_CODES.values())
        with np.errstate(all="ignore"):
            pieces = self._score(settings, b, platforms, CreatorMatchFilters(), set())
        creators = set()
        for piece in pieces:
            creators.update(piece.batch.creator_keys(piece.rows))
        return len(creators)

    def _score(
        self,
        settings: Settings,
        b: model.Side,
        platforms: list[int],
        filters: CreatorMatchFilters,
        applied: set[int],
    ) -> list[_Piece]:
        low, high = follower_envelope(b, filters, settings)
        countries = [country_code(c) for c in filters.country]
        niches = niche_mask(filters.niche) if filters.niche else 0
        pieces = []
        for batch, alive in self.segments():
            known = batch.account_parts(settings)
            usable = alive.copy()
            usable[batch.rows_of_creators(applied)] = False
            for platform in platforms:
                start, stop = batch.span(platform, low, high)
                if start == stop:
                    continue
                ok = usable[start:stop]
                a = batch.side(platform, slice(start, stop))
                ok = ok & np.broadcast_to(model.eligible(b, a, settings), ok.shape)
                if countries:
                    ok &= np.isin(batch.columns["country"][start:stop], countries)
                if niches:
                    ok &= (batch.columns["niche_mask"][start:stop] & niches) != 0
                at = np.flatnonzero(ok)
                if not len(at):
                    continue
                rows, scored_rows = start + at, stop - start
                chosen: slice | np.ndarray = slice(start, stop)
                if len(at) < scored_rows // 2:
                    # Few fit: score only those (each column read is then a gather).
                    chosen, at, scored_rows = rows, np.arange(len(at)), len(at)
                    a = batch.side(platform, rows)
                given = {name: value[chosen] for name, value in known.items()}
                parts = model.parts(b, a, settings, given=given)
                scored = np.asarray(model.score(parts, settings.match_weights), dtype=np.float64)
                keys = np.broadcast_to(scored, (scored_rows,))[at]
                # A score is finite for consistent figures; a row that is not is left out
                # rather than ranked anywhere.
                finite = np.isfinite(keys)
                pieces.append(_Piece(batch, rows[finite], keys[finite], at[finite], parts))
        return pieces


def _drop_shown(pieces: list[_Piece], cursor: tuple[float, uuid.UUID]) -> set[int]:
    """Drop the rows at or before `cursor`; returns their creators, who were shown on an
    earlier page (at their best score), so none of their rows may come again."""
    key, last = cursor
    (last_hi,), (last_lo,) = split_ids([last.int])
    shown: set[int] = set()
    for piece in pieces:
        hi = piece.batch.columns["creator_hi"][piece.rows]
        lo = piece.batch.columns["creator_lo"][piece.rows]
        at_or_above = (hi > last_hi) | ((hi == last_hi) & (lo >= last_lo))
        before = (piece.keys > key) | ((piece.keys == key) & at_or_above)
        shown.update(piece.batch.creator_keys(piece.rows[before]))
        piece.keep(~before)
    return shown


def _first_creators(
    pieces: list[_Piece], shown: set[int], n: int, per_creator: int
) -> list[CreatorHit]:
    """The first `n` creators not in `shown`, each at its best row. A creator has at most
    `per_creator` rows (one account per platform), so the first `per_creator` x (n +
    shown) rows in (key, creator id, platform) order hold them; with fewer, the prefix
    grows."""
    m = per_creator * (n + len(shown))
    while True:
        found: list[tuple[float, int, int, _Piece, int]] = []
        complete = True
        for piece in pieces:
            batch = piece.batch
            hi = batch.columns["creator_hi"][piece.rows]
            lo = batch.columns["creator_lo"][piece.rows]
            best = best_positions(piece.keys, hi, lo, m)
            complete &= len(best) == len(piece.keys)
            keys = piece.keys[best].tolist()
            creators = batch.creator_keys(piece.rows[best])
            platforms = batch.columns["platform"][piece.rows[best]].tolist()
            found += [
                (k, c, p, piece, int(j))
                for k, c, p, j in zip(keys, creators, platforms, best.tolist(), strict=True)
            ]
        found.sort(key=lambda f: (-f[0], -f[1], f[2]))
        if not complete:
            found = found[:m]  # the prefix every piece holds whole
        hits: list[CreatorHit] = []
        seen = set(shown)
        for _, creator, _, piece, j in found:
            if creator not in seen:
                seen.add(creator)
                hits.append(piece.hit(j))
                if len(hits) == n:
                    return hits
        if complete:
            return hits
        m *= 4
