"""Creators for a brief, and the creator directory, from each worker's memory.

Ranking creators for a brief scores every account that could meet its hard
requirements. In PostgreSQL that cost about 0.6-1.2 µs an account row (reading a wide
index tuple, then interpreting the score expression): a broad brief of a million
creators reads a million rows, and a gifted brief naming no niche took 70-90 ms at
100,000 creators and about a second at 1,000,000. Here every account's match row is a
numpy column (`api.matching.creator_rows`), sorted by platform and then followers, so
a brief reads one slice of each of its platforms (its tiers or follower bounds cut the
slice), and the same model (`api.matching.model`, its account side given as
vectors: `expressions`) scores the slice at once.

Correct under writes and across workers: the copy follows `match_accounts` through its
change log (`api.matching.sync`, which says how; migration 0010). A full copy is
one COPY (one snapshot): 0.7 s for 160,000 accounts, 6-11 s and 257 MB for 1.6 million.
"""

# The SQL here is built from this package's own names and from ids the database produced
# (formatted as UUID literals), never from request input.

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from api.matching import model, requirements
from api.matching.creator_rows import SLOTS, CreatorBatch, copy_rows, uuid_list
from api.matching.expressions import Side, in_codes, is_vector
from api.matching.sync import FollowedCopy, best_positions, split_ids, sync_statement
from api.models.matching import (
    COUNTRY_CODES,
    PLATFORM_CODES,
    TIER_BITS,
    CreatorDirectoryQuery,
    CreatorMatchFilters,
    country_code,
    niche_mask,
)
from api.settings import Settings

ROWS = Gauge(
    "briefboard_creator_index_rows",
    "Account match rows held in memory by the worker's creator index",
    multiprocess_mode="max",
)
COPIES = Counter(
    "briefboard_creator_index_copies_total",
    "Full copies of the accounts made by creator indexes (start-up, bulk rewrites, pruning)",
)


@dataclass(frozen=True)
class CreatorHit:
    """A creator found for a brief (or the directory): the key of its best account (the
    score, or the followers), and the score's parts."""

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


def _envelope(
    ranges: Sequence[tuple[int, int | None]], low: int | None, high: int | None
) -> tuple[int, int | None]:
    """The follower range holding `ranges` (none: any size), cut to [low, high]."""
    start = min((r[0] for r in ranges), default=0)
    ends = [r[1] for r in ranges]
    end = None if not ends or None in ends else max(e for e in ends if e is not None)
    if high is not None:
        end = high if end is None else min(end, high)
    return max(start, low or 0), end


def follower_envelope(
    b: Side, filters: CreatorMatchFilters, settings: Settings
) -> tuple[int, int | None]:
    """The follower range holding every account that can meet the brief's size wishes
    (`requirements.follower_ranges`) and the filters."""
    return _envelope(requirements.follower_ranges(b, settings), filters.min_followers, None)


def _platforms(b: Side) -> list[int]:
    """The platforms a brief accepts (all when it names none)."""
    return requirements.platform_codes(int(b.platform_mask)) or list(PLATFORM_CODES.values())


_SYNC = sync_statement(
    "match_account_changes",
    "account_id",
    "ARRAY(SELECT ap.creator_id FROM applications ap WHERE ap.brief_id = $5)",
)


# A full copy is one statement (one snapshot, one scan); at a million creators it takes
# seconds, so it runs under a timeout of its own rather than the requests' one.
_COPY_TIMEOUT = "10min"


class CreatorIndex(FollowedCopy[CreatorBatch]):
    """The host's copy of every account's match row (see the module's docstring). With
    `settings`, each copy holds the account parts for them, computed when it is made."""

    kind = "creators"

    def __init__(self, *, settings: Settings | None = None, **options: Any) -> None:
        super().__init__(sync_sql=_SYNC, rows=ROWS, copies=COPIES, **options)
        self._settings = settings

    def _finish(self, base: CreatorBatch) -> None:
        if self._settings is not None:
            base.account_parts(self._settings)

    def _from_arrays(
        self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]
    ) -> CreatorBatch:
        return CreatorBatch.from_arrays(arrays, meta)

    async def _fetch_changed(self, conn: Any, keys: Sequence[uuid.UUID]) -> CreatorBatch:
        columns = await copy_rows(conn, f"m.account_id = ANY({uuid_list(keys)})")
        return CreatorBatch(columns)

    async def _fetch_all(self, conn: Any) -> CreatorBatch:
        """Every account in one COPY, parsed as it streams in (other requests run between
        its chunks); sorted and indexed in a thread."""
        timeout = "SELECT set_config('statement_timeout', $1, true)"
        before = await conn.fetchval("SELECT current_setting('statement_timeout')")
        await conn.execute(timeout, _COPY_TIMEOUT)
        try:
            columns = await copy_rows(conn, "true")
        finally:
            await conn.execute(timeout, before)
        return await asyncio.to_thread(self._sorted, columns)

    def _sorted(self, columns: dict[str, np.ndarray]) -> CreatorBatch:
        base = CreatorBatch(columns)
        self._finish(base)
        return base

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
        b = Side(features)
        platforms = _platforms(b)
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
        ranges = requirements.tier_ranges(tiers, settings) if tiers else [(0, None)]
        low, high = _envelope(ranges, params.min_followers, params.max_followers)
        countries = [country_code(c) for c in params.country]
        audience = [country_code(c) for c in params.audience_country]
        # The audience countries' combined share, in permille: at least the asked share,
        # and any at all.
        least_share = max(round((params.min_audience_share or 0) * 10), 1)
        pieces = []
        # Tiers with no configured band admit nobody.
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
                        for i in SLOTS
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
        b = Side(features)
        platforms = _platforms(b)
        with np.errstate(all="ignore"):
            pieces = self._score(settings, b, platforms, CreatorMatchFilters(), set())
        creators = set()
        for piece in pieces:
            creators.update(piece.batch.creator_keys(piece.rows))
        return len(creators)

    def _score(
        self,
        settings: Settings,
        b: Side,
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
                ok = ok & np.broadcast_to(requirements.eligible(b, a, settings), ok.shape)
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
