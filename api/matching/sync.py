"""A worker's in-memory copy of a match table that follows every committed change.

Both match tables are copied into each worker's memory as numpy columns and scored there
with the match model: open briefs for a creator (`api.matching.brief_index`), creators for
a brief (`api.matching.creator_index`). This module keeps such a copy correct under
writes and across workers: every request first brings the worker's copy up to date (one
round trip when nothing changed, two when rows did), so it sees every change committed
before it started, whichever worker made it.

- Triggers on the table log each changed key (a brief, an account) with its transaction
  id (`match_brief_changes`, `match_account_changes`; migrations 0008 and 0010; enabled
  ALWAYS, so bulk writes with triggers off are logged too). A sync remembers its
  statement's snapshot; the next one reads the entries of the transactions that snapshot
  did not see (ids at or after its xmax, or in progress then: its xip list; bounded by
  the concurrent transactions, not by the write volume) and reloads those keys' rows, read
  in the same or a later snapshot (reloading is idempotent: a key's rows are replaced by
  its rows now).
- A copy whose generation is not the database's (`match_index_state`: raised by a TRUNCATE
  of a match table, as bulk loaders do), whose snapshot is older than the pruned log, or
  facing more than `RELOAD_KEYS` changed keys copies everything (`_fetch_all`: by default
  in slices of the key space, each its own statement; the creator index in one COPY).
- Changed keys go to a small *delta* batch (their old rows marked dead), merged into the
  base when the delta and the dead rows pass `merge_rows`.
- `keep_fresh` makes the first copy at start-up and syncs every maintenance interval, so
  an idle worker never falls behind the pruned log; requests arriving during a full copy
  wait for it.

Scoring never awaits, so a request scores one consistent state; syncs take a lock (after
their connection, so that nothing waits for a connection while holding it).
"""

# The SQL here is built from this module's own table and column names.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

# The state and this statement's snapshot: the next sync reads the log entries of the
# transactions this snapshot did not see (at or after its xmax, or in progress: its xip).
_STATE = """SELECT s.generation AS _generation, s.pruned_below AS _pruned_below,
        pg_snapshot_xmin(c.snap)::text::bigint AS _xmin,
        pg_snapshot_xmax(c.snap)::text::bigint AS _xmax,
        ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(c.snap) x) AS _xip,
        extract(epoch FROM now())::float8 AS _now
    FROM match_index_state s, (SELECT pg_current_snapshot() AS snap) c"""


def sync_statement(log_table: str, key: str, extra: str) -> str:
    """One row: the state, the keys changed by transactions the last sync did not see (none
    when the copy is to be made again anyway), and `extra` (an expression of $5) as
    `_extra`. $1, $2: the last sync's xmax and xip; $3, $4: the copy's generation and the
    last sync's xmin."""
    return f"""WITH st AS MATERIALIZED ({_STATE})
SELECT st.*,
    ARRAY(SELECT DISTINCT c.{key} FROM {log_table} c
          WHERE (c.xid >= $1 OR c.xid = ANY($2::bigint[]))
            AND st._generation = $3 AND $4 >= st._pruned_below) AS _changed,
    {extra} AS _extra
FROM st"""


# Past this many changed keys (a bulk load with the log on), copy everything instead.
RELOAD_KEYS = 20_000
# Full copies read slices of the key space, so that they hold one slice's records at a time
# and let other requests run in between.
SLICES = 16
MERGE_ROWS = 2000

# Log entries are deleted once an hour has passed since a later horizon was recorded.
_PRUNE_AFTER = "1 hour"
_ADVANCE_PRUNING = f"""UPDATE match_index_state
    SET pruned_below = coalesce(next_prune, pruned_below),
        next_prune = pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
        next_prune_at = now() + interval '{_PRUNE_AFTER}'
    WHERE next_prune_at IS NULL OR next_prune_at <= now()"""
_LOGS = ("match_brief_changes", "match_account_changes")
_PRUNE = """DELETE FROM {log} WHERE ctid IN (
    SELECT ctid FROM {log}
    WHERE xid < (SELECT pruned_below FROM match_index_state) LIMIT :limit
    FOR UPDATE SKIP LOCKED)"""


def split_ids(ints: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """128-bit ids (as ints) as their high and low halves."""
    ints = list(ints)
    return (
        np.array([i >> 64 for i in ints], dtype=np.uint64),
        np.array([i & 0xFFFF_FFFF_FFFF_FFFF for i in ints], dtype=np.uint64),
    )


def rows_with(hi: np.ndarray, lo: np.ndarray, by: np.ndarray, key: uuid.UUID) -> np.ndarray:
    """The rows whose id (as `hi` and `lo` halves) is `key`; `by` orders the rows by `hi`."""
    (key_hi,), (key_lo,) = split_ids([key.int])
    start, stop = (
        int(np.searchsorted(hi, key_hi, side=side, sorter=by)) for side in ("left", "right")
    )
    found = by[start:stop]
    mine: np.ndarray = found[lo[found] == key_lo]
    return mine


def best_positions(keys: np.ndarray, hi: np.ndarray, lo: np.ndarray, n: int) -> np.ndarray:
    """Positions of the first `n` rows by key, then id, descending."""
    if len(keys) <= n:
        return np.arange(len(keys))
    threshold = np.partition(keys, len(keys) - n)[len(keys) - n]
    above = np.flatnonzero(keys > threshold)
    tied = np.flatnonzero(keys == threshold)
    # Of the rows tied with the n-th, those with the highest ids (sparse figures can tie
    # thousands of rows).
    tied = tied[np.lexsort((lo[tied], hi[tied]))][::-1][: n - len(above)]
    return np.concatenate([above, tied])


class Batch(Protocol):
    """Rows as columns, found by key."""

    @property
    def size(self) -> int: ...

    def rows_of(self, key: uuid.UUID) -> np.ndarray: ...


B = TypeVar("B", bound=Batch)


class FollowedCopy(Generic[B]):
    """One worker's copy of a match table (see the module's docstring). Subclasses say how
    to read rows (`_fetch_changed`, `_fetch_slice`) and join batches (`_join`)."""

    def __init__(
        self, *, sync_sql: str, rows: Gauge, copies: Counter, merge_rows: int = MERGE_ROWS
    ) -> None:
        self.merge_rows = merge_rows
        self.copies = 0  # full copies made (the first, and after bulk rewrites or pruning)
        self._sync_sql = sync_sql
        self._rows_gauge, self._copies_counter = rows, copies
        self._lock = asyncio.Lock()
        self._base: B | None = None
        self._alive = np.zeros(0, dtype=bool)
        self._delta: B | None = None
        self._delta_alive = np.zeros(0, dtype=bool)
        self._generation: int | None = None
        # The last sync's snapshot (see `_STATE`).
        self._xmin = 0
        self._xmax = 0
        self._xip: list[int] = []

    # --- what a subclass provides ---

    async def _fetch_changed(self, conn: Any, keys: Sequence[uuid.UUID]) -> B:
        raise NotImplementedError

    async def _fetch_slice(self, conn: Any, low: uuid.UUID, high: uuid.UUID) -> B:
        raise NotImplementedError

    async def _fetch_all(self, conn: Any) -> B:
        """Every row: by default in `SLICES` slices of the key space (each its own
        statement), joined in a thread."""
        parts = []
        step = (1 << 128) // SLICES
        for i in range(SLICES):
            low, high = uuid.UUID(int=i * step), uuid.UUID(int=min((i + 1) * step, 1 << 128) - 1)
            batch = await self._fetch_slice(conn, low, high)
            parts.append((batch, np.ones(batch.size, dtype=bool)))
        return await asyncio.to_thread(self._join, parts)

    def _join(self, parts: Sequence[tuple[B, np.ndarray]]) -> B:
        """The rows of `parts` selected by their masks, as one batch."""
        raise NotImplementedError

    # --- following the log ---

    @property
    def size(self) -> int:
        """Live rows held (for tests and metrics)."""
        return int(self._alive.sum()) + int(self._delta_alive.sum())

    def segments(self) -> list[tuple[B, np.ndarray]]:
        """The batches to score and their live rows."""
        out: list[tuple[B, np.ndarray]] = []
        if self._base is not None:
            out.append((self._base, self._alive))
        if self._delta is not None:
            out.append((self._delta, self._delta_alive))
        return out

    async def _raw(self, session: AsyncSession) -> Any:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def sync(self, session: AsyncSession, param: Any = None) -> Mapping[str, Any]:
        """Bring the copy up to date; returns the sync row (`_now`: the database's time in
        epoch seconds, `_extra`: the subclass's extra column for `param`). One round trip
        when nothing changed, two when rows did; a full copy when the copy is missing or
        out of date."""
        conn = await self._raw(session)  # before the lock: never wait for both
        async with self._lock:
            head = await conn.fetchrow(
                self._sync_sql,
                self._xmax,
                self._xip,
                -1 if self._generation is None else self._generation,
                self._xmin,
                param,
            )
            changed = head["_changed"]
            if (
                self._generation is None
                or head["_generation"] != self._generation
                or self._xmin < head["_pruned_below"]
                or len(changed) > RELOAD_KEYS
            ):
                await self._copy_all(conn)
            elif changed:
                self._apply(changed, await self._fetch_changed(conn, changed))
                await self._merge_if_due()
            self._seen(head)
            self._rows_gauge.set(self.size)
            return dict(head)

    def _seen(self, head: Mapping[str, Any]) -> None:
        """Record the snapshot whose changes the copy now holds (rows read later are at
        least as new; the changes they hold beyond it are read again next time)."""
        self._generation = head["_generation"]
        self._xmin, self._xmax, self._xip = head["_xmin"], head["_xmax"], list(head["_xip"])

    async def _copy_all(self, conn: Any) -> None:
        self._set_base(await self._fetch_all(conn))
        self.copies += 1
        self._copies_counter.inc()

    def hold(self, base: B) -> None:
        """Hold `base` as the whole copy, until the next sync (for tests and tools)."""
        self._set_base(base)

    def _set_base(self, base: B) -> None:
        self._base = base
        self._alive = np.ones(base.size, dtype=bool)
        self._delta = None
        self._delta_alive = np.zeros(0, dtype=bool)

    def _apply(self, changed: Sequence[uuid.UUID], fresh: B) -> None:
        """Mark the changed keys' rows dead, and hold their rows now in the delta."""
        for key in changed:
            if self._base is not None:
                self._alive[self._base.rows_of(key)] = False
            if self._delta is not None:
                self._delta_alive[self._delta.rows_of(key)] = False
        parts = []
        if self._delta is not None and self._delta_alive.any():
            parts.append((self._delta, self._delta_alive))
        if fresh.size:
            parts.append((fresh, np.ones(fresh.size, dtype=bool)))
        self._delta = self._join(parts) if parts else None
        self._delta_alive = np.ones(self._delta.size if self._delta else 0, dtype=bool)

    async def _merge_if_due(self) -> None:
        """Fold the delta and the dead rows into a new base once they pass `merge_rows`.
        Built in a thread (mostly numpy, which lets the event loop serve other requests
        meanwhile); the caller holds the lock, so nothing changes the parts until the new
        base replaces them."""
        dead = len(self._alive) - int(self._alive.sum())
        pending = int(self._delta_alive.sum())
        if self._base is None or pending + dead <= self.merge_rows:
            return
        parts = [(self._base, self._alive)]
        if self._delta is not None:
            parts.append((self._delta, self._delta_alive))
        self._set_base(await asyncio.to_thread(self._join, parts))


async def keep_fresh(
    indexes: Sequence[FollowedCopy[Any]],
    sessionmaker: async_sessionmaker[AsyncSession],
    interval_seconds: float,
    copied: asyncio.Event | None = None,
) -> None:
    """Background task of each worker: the full copies at start-up, then a sync every
    `interval_seconds`, so that even an idle worker never falls behind the pruned logs.
    `copied` is set once every index holds its first copy (the app's start-up waits for
    it). Failures (database down, schema not migrated yet) are logged and retried next
    round; only cancellation stops it."""
    while True:
        for index in indexes:
            try:
                async with sessionmaker() as session:
                    await index.sync(session)
            except Exception:
                log.warning(
                    "%s sync failed; retrying next round", type(index).__name__, exc_info=True
                )
        if copied is not None and all(index.copies for index in indexes):
            copied.set()
        await asyncio.sleep(interval_seconds)


async def prune_changes(session: AsyncSession, *, limit: int) -> int:
    """Maintenance: once an hour, move the logs' cut-off up to the horizon recorded an hour
    before (every worker that synced since is past it; one that did not copies everything
    at its next sync), then delete up to `limit` entries below it from each log. Returns
    how many."""
    await session.execute(text(_ADVANCE_PRUNING))
    deleted = 0
    for log_table in _LOGS:
        result = await session.execute(text(_PRUNE.format(log=log_table)), {"limit": limit})
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted
