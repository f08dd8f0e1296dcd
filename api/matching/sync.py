"""A host's copy of a match table that follows every committed change.

Both match tables are held as numpy columns and scored there with the match model: open
briefs for a creator (`api.matching.brief_index`), creators for a brief
(`api.matching.creator_index`). One copy per host: the base batch lives in a segment of
shared memory, written by the host's follower and mapped by every worker
(`api.matching.shared`). This module keeps each worker's view of it correct under writes
and across workers: every request first brings its view up to date (one round trip when
nothing changed, two when rows did), so it sees every change committed before it started,
whichever worker made it.

- Triggers on the table log each changed key (a brief, an account) with its transaction
  id (`match_brief_changes`, `match_account_changes`; migrations 0008 and 0010; enabled
  ALWAYS, so bulk writes with triggers off are logged too). A view remembers the snapshot
  it is current to (`shared.State`: a sync's statement's snapshot, or the published
  segment's); the next sync reads the entries of the transactions that snapshot did not
  see (ids at or after its xmax, or in progress then: its xip list; bounded by the
  concurrent transactions, not by the write volume) and reloads those keys' rows, read in
  the same or a later snapshot (reloading is idempotent: a key's rows are replaced by its
  rows now).
- Changed keys go to the worker's own small *delta* batch (the base's old rows marked dead
  in the worker's own mask); the follower folds its delta and dead rows into a new base
  once they pass `merge_rows` (in a thread, awaited by no request) and publishes it; every
  worker maps it at its next tick and syncs from its snapshot.
- A view whose generation is not the database's (`match_index_state`: raised by a TRUNCATE
  of a match table, as bulk loaders do), whose snapshot is older than the pruned log, or
  facing more than `RELOAD_KEYS` changed keys needs a newer base: the published segment if
  it is current enough, else a full copy (`_fetch_all`: by default in slices of the key
  space, each its own statement; the creator index in one COPY), made and published by the
  follower; the other workers ask for it and wait.
- `keep_fresh` makes (or maps) the first copy at start-up, maps newer segments as they are
  published and syncs every maintenance interval, so an idle worker never falls behind the
  pruned log.

A view is a value (`View`): a sync builds a new one and never changes one in place, so
requests hold no lock (a request ranks the view its own sync returned; views are never
awaited on while scored). Only a full copy is made under a lock, by the follower.
"""

# The SQL here is built from this module's own table and column names.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.matching.shared import TICK_SECONDS, Host, Pointer, State, settle

log = logging.getLogger(__name__)

# The state and this statement's snapshot: the next sync reads the log entries of the
# transactions this snapshot did not see (at or after its xmax, or in progress: its xip).
_STATE = """SELECT 'match_index_state'::regclass::oid::int8 AS _identity,
        s.generation AS _generation, s.pruned_below AS _pruned_below,
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
# The follower publishes its changes at least this often (merged), so that the published
# snapshot never falls behind the pruned log (an hour).
REPUBLISH_SECONDS = 600.0

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

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]: ...


B = TypeVar("B", bound=Batch)

_NONE = np.zeros(0, dtype=bool)


@dataclass(frozen=True)
class View(Generic[B]):
    """A copy as one value: the base batch and its live rows, the delta batch and its live
    rows, the state they are current to (None: no copy yet) and the published segment the
    base is (None: a base of this process only). Never changed in place: a sync builds a
    new view, so a request ranks the one its own sync brought up to date, whatever other
    requests install meanwhile."""

    base: B | None = None
    alive: np.ndarray = field(default_factory=lambda: _NONE)
    delta: B | None = None
    delta_alive: np.ndarray = field(default_factory=lambda: _NONE)
    state: State | None = None
    pointer: Pointer | None = None
    dead: int = 0  # the base's rows marked dead (counted as marked: no sum per request)

    def segments(self) -> list[tuple[B, np.ndarray]]:
        out: list[tuple[B, np.ndarray]] = []
        if self.base is not None:
            out.append((self.base, self.alive))
        if self.delta is not None:
            out.append((self.delta, self.delta_alive))
        return out

    @property
    def size(self) -> int:
        """Live rows (every row of the delta is live)."""
        return len(self.alive) - self.dead + len(self.delta_alive)

    @property
    def pending(self) -> int:
        """Rows a merge would fold in: the dead rows of the base and the delta's."""
        return self.dead + len(self.delta_alive)

    def order(self) -> tuple[int, int, int]:
        """Views on newer segments win, then views of later snapshots."""
        seq = self.pointer.seq if self.pointer else -1
        state = self.state
        return (seq, state.xmax, state.xmin) if state else (seq, -1, -1)


def whole(base: B, state: State | None, pointer: Pointer | None = None) -> View[B]:
    return View(base, np.ones(base.size, dtype=bool), None, _NONE, state, pointer)


class FollowedCopy(Generic[B]):
    """A copy of a match table on one host (see the module's docstring). Subclasses say how
    to read rows (`_fetch_changed`, `_fetch_slice`), join batches (`_join`) and take a
    batch back from a segment's arrays (`_from_arrays`)."""

    kind = ""  # the segment's name in the run directory

    def __init__(
        self,
        *,
        sync_sql: str,
        rows: Gauge,
        copies: Counter,
        merge_rows: int = MERGE_ROWS,
        host: Host | None = None,
    ) -> None:
        self.merge_rows = merge_rows
        self.host = host if host is not None else Host()
        self.copies = 0  # full copies this process made (the first, bulk rewrites, pruning)
        self.adopted = 0  # segments it mapped (published here or by another process)
        self._sync_sql = sync_sql
        self._rows_gauge, self._copies_counter = rows, copies
        self._view: View[B] = View()
        # The view the last sync brought up to date: what `rank` reads (a request ranks
        # right after its sync, with no await in between).
        self._synced: View[B] = self._view
        self._copying = asyncio.Lock()  # one full copy at a time in this process
        self._merge: asyncio.Task[None] | None = None

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
        return await asyncio.to_thread(self._whole, parts)

    def _join(self, parts: Sequence[tuple[B, np.ndarray]]) -> B:
        """The rows of `parts` selected by their masks, as one batch."""
        raise NotImplementedError

    def _finish(self, base: B) -> None:
        """Work each copy needs once, done before it is published (not by a request)."""

    def _from_arrays(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> B:
        raise NotImplementedError

    def _whole(self, parts: Sequence[tuple[B, np.ndarray]]) -> B:
        """A base of `parts`, finished (in a thread)."""
        base = self._join(parts)
        self._finish(base)
        return base

    # --- what a request reads ---

    @property
    def size(self) -> int:
        """Live rows held (for tests and metrics)."""
        return self._view.size

    @property
    def ready(self) -> bool:
        """Whether the copy holds its first copy (made here or mapped)."""
        return self._view.state is not None

    def segments(self) -> list[tuple[B, np.ndarray]]:
        """The batches to score and their live rows."""
        return self._synced.segments()

    def hold(self, base: B) -> None:
        """Hold `base` as the whole copy, until the next sync (for tests and tools)."""
        self._view = self._synced = whole(base, None)

    def _apply(self, changed: Sequence[uuid.UUID], fresh: B) -> None:
        """Apply changed rows to the held copy (for tests)."""
        self._view = self._synced = self._applied(self._view, changed, fresh)

    # --- following the log ---

    async def _raw(self, session: AsyncSession) -> Any:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def sync(self, session: AsyncSession, param: Any = None) -> Mapping[str, Any]:
        """Bring the copy up to date; returns the sync row (`_now`: the database's time in
        epoch seconds, `_extra`: the subclass's extra column for `param`). One round trip
        when nothing changed, two when rows did; holds no lock. When the copy is missing or
        out of date, a newer published segment is mapped, or (by the follower) a full copy
        made and published, or (by the others) waited for."""
        conn = await self._raw(session)
        view = self._view
        while True:
            state = view.state
            head = await conn.fetchrow(
                self._sync_sql,
                state.xmax if state else 0,
                list(state.xip) if state else [],
                state.generation if state else -1,
                state.xmin if state else 0,
                param,
            )
            if not self._outdated(view, head):
                break
            view = await self._newer_base(conn, view, head)
        changed = head["_changed"]
        if changed:
            view = self._applied(view, changed, await self._fetch_changed(conn, changed))
        view = replace(view, state=State.of(head))
        self._install(view)
        self._synced = view
        if view.pending > self.merge_rows and (self._merge is None or self._merge.done()):
            self._merge = asyncio.create_task(self._merge_and_publish(view))
        return dict(head)

    def _outdated(self, view: View[B], head: Mapping[str, Any]) -> bool:
        state = view.state
        return (
            state is None
            or head["_identity"] != state.identity
            or head["_generation"] != state.generation
            or state.xmin < head["_pruned_below"]
            or len(head["_changed"]) > RELOAD_KEYS
        )

    def _install(self, view: View[B]) -> None:
        """Make `view` the one the next sync starts from, unless a newer one is there."""
        if view.order() >= self._view.order():
            self._view = view
            self._rows_gauge.set(view.size)

    def _applied(self, view: View[B], changed: Sequence[uuid.UUID], fresh: B) -> View[B]:
        """`view` with the changed keys' rows marked dead and their rows now in the delta."""
        alive, delta_alive = view.alive.copy(), view.delta_alive.copy()
        dead = view.dead
        for key in changed:
            if view.base is not None:
                rows = view.base.rows_of(key)
                dead += int(alive[rows].sum())
                alive[rows] = False
            if view.delta is not None:
                delta_alive[view.delta.rows_of(key)] = False
        parts = []
        if view.delta is not None and delta_alive.any():
            parts.append((view.delta, delta_alive))
        if fresh.size:
            parts.append((fresh, np.ones(fresh.size, dtype=bool)))
        delta = self._join(parts) if parts else None
        delta_alive = np.ones(delta.size if delta else 0, dtype=bool)
        return replace(view, alive=alive, delta=delta, delta_alive=delta_alive, dead=dead)

    async def _newer_base(self, conn: Any, view: View[B], head: Mapping[str, Any]) -> View[B]:
        """A base current enough for `head`: the published segment when it is newer than
        `view`'s and of the database's generation; else a full copy, made here when this
        process is (or can become) the follower, else asked of the follower and waited
        for."""
        while True:
            pointer = self.host.latest(self.kind)
            if pointer is not None and _usable(pointer, view, head):
                adopted = await self._adopt(pointer)
                if adopted is not None:
                    return adopted
                continue  # unlinked meanwhile: a newer one is published
            with self.host.leading(self.kind) as leads:
                if leads:
                    async with self._copying:
                        if self.host.latest(self.kind) == pointer:  # nobody copied meanwhile
                            copied = await self._copy_all(conn, State.of(head), pointer)
                            if copied is not None:
                                return copied
                    continue
            self.host.want(self.kind)
            await asyncio.sleep(TICK_SECONDS)

    async def _copy_all(self, conn: Any, state: State, replacing: Pointer | None) -> View[B] | None:
        """A full copy, published (its rows are read after the snapshot of `state`: at
        least as new); None if another segment was published meanwhile."""
        started = time.monotonic()
        base = await self._fetch_all(conn)
        copied = time.monotonic()
        arrays, meta = base.to_arrays()
        pointer = await asyncio.to_thread(
            self.host.publish, self.kind, arrays, meta, state, replacing=replacing
        )
        size = base.size
        del base, arrays
        if pointer is None:
            return None
        view = await self._adopt(pointer)
        if view is not None:
            self._install(view)  # held (and ready) from now on
        self.copies += 1
        self._copies_counter.inc()
        log.info(
            "%s: copied %d rows in %.1f s, published and mapped in %.1f s",
            type(self).__name__,
            size,
            copied - started,
            time.monotonic() - copied,
        )
        return view

    async def _adopt(self, pointer: Pointer) -> View[B] | None:
        """A view of the published segment (mapped in a thread), None if it is gone."""
        held = self._view
        if held.pointer is not None and held.base is not None and held.pointer.file == pointer.file:
            base = held.base  # the same rows, republished as current to a later state
        else:
            opened = await asyncio.to_thread(self.host.open, pointer)
            if opened is None:
                return None
            base = self._from_arrays(*opened)
            self.adopted += 1
            await asyncio.to_thread(settle)  # freed memory back to the system
        return whole(base, pointer.state, pointer)

    async def adopt_newest(self) -> None:
        """Map a segment published since this copy's (the background task, every tick)."""
        pointer = self.host.latest(self.kind)
        held = self._view
        if pointer is None or held.state is None:
            return
        if held.pointer is not None and pointer.seq <= held.pointer.seq:
            return
        adopted = await self._adopt(pointer)
        if adopted is not None:
            self._install(adopted)

    async def _merge_and_publish(self, view: View[B]) -> None:
        """Fold `view`'s delta and dead rows into a new base and publish it, when this
        process is (or can become) the follower: built in a thread, awaited by no request."""
        with self.host.leading(self.kind) as leads:
            if not leads or view.base is None or view.state is None:
                return
            merged = await asyncio.to_thread(self._whole, view.segments())
            arrays, meta = merged.to_arrays()
            pointer = await asyncio.to_thread(
                self.host.publish, self.kind, arrays, meta, view.state, replacing=view.pointer
            )
            del merged, arrays
            adopted = await self._adopt(pointer) if pointer is not None else None
            if adopted is not None:
                self._install(adopted)

    async def upkeep(self, session: AsyncSession, *, wanted: bool) -> None:
        """A background round: sync; then, as the follower, keep the published segment
        current: merged once past `merge_rows` (or when asked for, or older than
        `REPUBLISH_SECONDS`, so that it never falls behind the pruned log), or pointed at
        the later state when nothing changed."""
        await self.sync(session)
        self.host.lead(self.kind)  # the follower of this kind, if nobody is
        view = self._view
        pointer = self.host.latest(self.kind)
        if not self.host.leads(self.kind) or pointer is None or view.pointer is None:
            return
        if view.state is None or pointer.state == view.state:
            return
        if view.pending == 0 and view.delta is None and pointer.file == view.pointer.file:
            republished = await asyncio.to_thread(
                self.host.republish, self.kind, pointer, view.state
            )
            if republished is not None:
                self._install(replace(view, pointer=republished))
        elif (
            view.pending > self.merge_rows
            or wanted
            or time.time() - pointer.published_at > REPUBLISH_SECONDS
        ):
            await self._merge_and_publish(view)

    async def close(self) -> None:
        if self._merge is not None:
            self._merge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._merge


def _usable(pointer: Pointer, view: View[Any], head: Mapping[str, Any]) -> bool:
    """Whether a published segment is newer than `view`'s and current enough for `head`."""
    state = pointer.state
    return (
        state.identity == head["_identity"]
        and state.generation == head["_generation"]
        and state.xmin >= head["_pruned_below"]
        and (view.pointer is None or pointer.seq > view.pointer.seq)
    )


async def keep_fresh(
    indexes: Sequence[FollowedCopy[Any]],
    sessionmaker: async_sessionmaker[AsyncSession],
    interval_seconds: float,
    copied: asyncio.Event | None = None,
) -> None:
    """Background task of each worker: each index followed on its own (`_follow`), so that
    one waiting for its copy never holds up another's rounds. `copied` is set once every
    index holds its first copy (the app's start-up waits for it). Only cancellation stops
    it."""
    for index in indexes:
        index.host.following = True

    def announce() -> None:
        if copied is not None and all(index.ready for index in indexes):
            copied.set()

    try:
        await asyncio.gather(
            *(_follow(index, sessionmaker, interval_seconds, announce) for index in indexes)
        )
    finally:
        for index in indexes:
            index.host.following = False


async def _follow(
    index: FollowedCopy[Any],
    sessionmaker: async_sessionmaker[AsyncSession],
    interval_seconds: float,
    announce: Callable[[], None],
) -> None:
    """Every tick (`shared.TICK_SECONDS`): map a newer published segment. Every
    `interval_seconds`, or at once when a worker asks (`Host.want`), a round of `upkeep`:
    the first copy at start-up (made by the follower, mapped by the others), then a sync,
    so that even an idle worker never falls behind the pruned log, and the follower's
    merges; the index's follower lock is taken if nobody holds it. Failures (database
    down, schema not migrated yet) are logged and retried next round. `announce` is called
    after each."""
    last = -math.inf
    while True:
        wanted = index.host.wanted(index.kind)
        try:
            if wanted or not index.ready or time.monotonic() - last >= interval_seconds:
                last = time.monotonic()
                async with sessionmaker() as session:
                    await index.upkeep(session, wanted=wanted)
            else:
                await index.adopt_newest()
        except Exception:
            log.warning("%s sync failed; retrying next round", type(index).__name__, exc_info=True)
        announce()
        if index.ready:
            await index.host.tick(index.kind)
        else:
            await asyncio.sleep(min(interval_seconds, 1.0))


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
