"""The open briefs in each worker's memory, to rank briefs for a creator.

Ranking briefs for a creator scores every open brief on the creator's platforms: in
PostgreSQL that was about a microsecond and a half per brief row (reading a wide index
tuple, then interpreting the score expression), 10-45 ms for a creator with several
accounts at 100,000 open briefs. Here the rows are numpy columns and the same model
(`api.matching.model`, its brief side given as vectors: `expressions`) scores them all
at once.

Correct under writes and across workers: the copy follows `match_briefs` through its
change log (`api.matching.sync`, which says how). It holds the slot-0 rows of
`match_briefs`: one per brief, platform and wanted tier (or tier 0). A full copy takes
about 4 s at 100,000 open briefs.
"""

# The SQL here is built from this module's own column lists; values are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from api.matching import model, registry, requirements
from api.matching.expressions import CodeSets, Side, is_vector
from api.matching.sync import (
    FollowedCopy,
    best_positions,
    rows_with,
    split_ids,
    sync_statement,
)
from api.models.matching import ALL_SLOT, ANY_PLATFORM
from api.settings import Settings

# The brief features the index holds (the registry's `held`), as the model reads them with
# the brief as a column (rows of one platform): ints, booleans, floats (NULL is NaN;
# `deadline` in seconds since the epoch), and country lists as bitsets of country codes.
_HELD = {
    held: [f for f in registry.BRIEF if f.held == held]
    for held in ("int64", "bool", "float64", "codes")
}
_INTS = [f.name for f in _HELD["int64"]]
_BOOLS = [f.name for f in _HELD["bool"]]
_FLOATS = [f.name for f in _HELD["float64"]]
_LISTS = [f.name for f in _HELD["codes"]]
_COUNTRY_WORDS = (26 * 26 + 63) // 64
_SELECTED = ", ".join(
    [
        "m.brief_id",
        *[f"m.{c}" for c in _INTS + _BOOLS],
        *[
            f"extract(epoch FROM m.{f.name})::float8 AS {f.name}"
            if f.kind is registry.TIMESTAMPTZ
            else f"m.{f.name}::float8 AS {f.name}"
            for f in _HELD["float64"]
        ],
        *[f"m.{c}" for c in _LISTS],
    ]
)
# A brief's rows: one per platform and wanted tier (or tier 0).
_ROWS = f"SELECT {_SELECTED} FROM match_briefs m WHERE m.slot = {ALL_SLOT} {{where}}"

# The briefs the creator ($5) applied to, read by each sync.
_SYNC = sync_statement(
    "match_brief_changes",
    "brief_id",
    "ARRAY(SELECT ap.brief_id FROM applications ap WHERE ap.creator_id = $5)",
)
_CHANGED_ROWS = _ROWS.format(where="AND m.brief_id = ANY($1::uuid[])")
_FULL_ROWS = _ROWS.format(where="AND m.brief_id >= $1 AND m.brief_id <= $2")

ROWS = Gauge(
    "briefboard_brief_index_rows",
    "Open-brief match rows held in memory by the worker's brief index",
    multiprocess_mode="max",
)
COPIES = Counter(
    "briefboard_brief_index_copies_total",
    "Full copies of the open briefs made by brief indexes (start-up, bulk rewrites, pruning)",
)


class BriefBatch:
    """Match rows as columns, in groups of one platform and tier (a brief's row per
    platform and wanted tier, or tier 0: any size), so an account reads four slices."""

    def __init__(self, columns: dict[str, Any]):
        order = np.lexsort((columns["tier"], columns["platform"]))
        self.columns = {k: v[order] for k, v in columns.items()}
        # Brief ids as two halves (no Python object per row); rows in id order find a
        # brief's rows by binary search.
        self.hi, self.lo = self.columns["id_hi"], self.columns["id_lo"]
        self.size = len(order)
        self._by_id = np.argsort(self.hi)
        keys = self.columns["platform"] * 64 + self.columns["tier"]
        firsts = np.flatnonzero(np.diff(keys, prepend=-1)).tolist()
        stops = [*firsts[1:], self.size]
        self._groups = {
            int(keys[first]): (first, stop)
            for first, stop in zip(firsts, stops[: len(firsts)], strict=True)
        }

    @classmethod
    def of(cls, rows: Sequence[Any]) -> BriefBatch:
        """From database records (any extra columns are ignored)."""
        names = list(rows[0].keys()) if rows else []
        by_column = zip(*(row.values() for row in rows), strict=True)
        values: dict[str, Sequence[Any]] = dict(zip(names, by_column, strict=True)) if rows else {}

        def column(name: str) -> Sequence[Any]:
            return values.get(name, ())

        columns: dict[str, Any] = {}
        columns["id_hi"], columns["id_lo"] = split_ids(u.int for u in column("brief_id"))
        for name in _INTS:
            columns[name] = np.array(column(name), dtype=np.int64)
        for name in _BOOLS:
            columns[name] = np.array(column(name), dtype=bool)
        for name in _FLOATS:
            columns[name] = np.array(column(name), dtype=np.float64)
        for name in _LISTS:
            columns[name] = CodeSets.of(column(name), _COUNTRY_WORDS)
        return cls(columns)

    @classmethod
    def joined(cls, parts: Sequence[tuple[BriefBatch, np.ndarray]]) -> BriefBatch:
        """The rows of `parts` selected by their masks."""
        columns: dict[str, Any] = {}
        for name in ["id_hi", "id_lo", *_INTS, *_BOOLS, *_FLOATS]:
            columns[name] = np.concatenate([b.columns[name][keep] for b, keep in parts])
        for name in _LISTS:
            columns[name] = CodeSets.joined([b.columns[name][keep] for b, keep in parts])
        return cls(columns)

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Every array the batch holds, by name, and its groups (JSON), for a shared
        segment (`api.matching.shared`); `from_arrays` takes them back as they are."""
        arrays: dict[str, np.ndarray] = {}
        for name, column in self.columns.items():
            if isinstance(column, CodeSets):
                arrays |= {f"s:{name}:words": column.words, f"s:{name}:index": column.index}
            else:
                arrays[f"c:{name}"] = column
        arrays["by_id"] = self._by_id
        return arrays, {"groups": [[k, a, b] for k, (a, b) in self._groups.items()]}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> BriefBatch:
        """A batch over `to_arrays`' arrays (views of a segment: nothing is sorted again)."""
        batch = cls.__new__(cls)
        columns: dict[str, Any] = {n[2:]: a for n, a in arrays.items() if n.startswith("c:")}
        for name in _LISTS:
            columns[name] = CodeSets(arrays[f"s:{name}:words"], arrays[f"s:{name}:index"])
        batch.columns = columns
        batch.hi, batch.lo = columns["id_hi"], columns["id_lo"]
        batch.size = len(batch.hi)
        batch._by_id = arrays["by_id"]
        batch._groups = {int(k): (int(a), int(b)) for k, a, b in meta["groups"]}
        return batch

    def id_of(self, row: int) -> uuid.UUID:
        return uuid.UUID(int=int(self.hi[row]) << 64 | int(self.lo[row]))

    def keys_of(self, rows: np.ndarray) -> list[int]:
        """The briefs of `rows`, as their ids' ints."""
        return [
            h << 64 | lo
            for h, lo in zip(self.hi[rows].tolist(), self.lo[rows].tolist(), strict=True)
        ]

    def rows_of(self, brief_id: uuid.UUID) -> np.ndarray:
        """A brief's rows."""
        return rows_with(self.hi, self.lo, self._by_id, brief_id)

    def slices_for(self, platform: int, tier: int) -> list[tuple[int, int]]:
        """The rows an account on `platform` in tier `tier` (its bit, 0 for none) reads:
        those of its platform or any, and of its tier or any size."""
        found = []
        for p in {platform, ANY_PLATFORM}:
            for t in {tier, 0}:
                group = self._groups.get(p * 64 + t)
                if group is not None:
                    found.append(group)
        return sorted(found)

    def side(self, rows: np.ndarray) -> Side:
        return Side(_Taken(self, rows))

    def among(self, rows: np.ndarray, wanted: set[int], hi: np.ndarray) -> np.ndarray:
        """Which of `rows` belong to the briefs in `wanted` (ids as ints; `hi`: their high
        halves)."""
        found = np.isin(self.hi[rows], hi)
        candidates = np.flatnonzero(found)
        found[candidates] = [k in wanted for k in self.keys_of(rows[candidates])]
        return found


class _Taken(dict[str, Any]):
    """A batch's columns at some rows, each taken on first read (the model reads a few)."""

    def __init__(self, batch: BriefBatch, rows: np.ndarray):
        super().__init__()
        self._batch, self._rows = batch, rows

    def __missing__(self, name: str) -> Any:
        value = self[name] = self._batch.columns[name][self._rows]
        return value


@dataclass(frozen=True)
class Hit:
    """A brief ranked for a creator: its best account (index), that account's score and
    its parts, and the platform of the brief's row it was scored on."""

    key: float
    brief_id: uuid.UUID
    account: int
    platform: int
    parts: dict[str, float]


@dataclass
class _Scored:
    """An account's scored rows of a batch; `kept` selects those still in the running."""

    batch: BriefBatch
    account: int
    rows: np.ndarray
    keys: np.ndarray
    parts: dict[str, Any]
    kept: np.ndarray

    def keep(self, mask: np.ndarray) -> None:
        self.kept = self.kept[mask]

    def hit(self, j: int) -> Hit:
        row = self.rows[j]
        return Hit(
            float(self.keys[j]),
            self.batch.id_of(row),
            self.account,
            int(self.batch.columns["platform"][row]),
            {k: float(v[j]) if is_vector(v) else float(v) for k, v in self.parts.items()},
        )


def _after(
    batch: BriefBatch, rows: np.ndarray, keys: np.ndarray, cursor: tuple[float, uuid.UUID]
) -> np.ndarray:
    """Which rows come after `cursor` in (key, id) descending order."""
    key, last = cursor
    hi, lo = batch.hi[rows], batch.lo[rows]
    (last_hi,), (last_lo,) = split_ids([last.int])
    lower_id = (hi < last_hi) | ((hi == last_hi) & (lo < last_lo))
    return (keys < key) | ((keys == key) & lower_id)  # type: ignore[no-any-return]


class BriefIndex(FollowedCopy[BriefBatch]):
    """The host's copy of the open briefs' match rows (see the module's docstring)."""

    kind = "briefs"

    def __init__(self, **options: Any) -> None:
        super().__init__(sync_sql=_SYNC, rows=ROWS, copies=COPIES, **options)

    def _from_arrays(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> BriefBatch:
        return BriefBatch.from_arrays(arrays, meta)

    async def _fetch_changed(self, conn: Any, keys: Sequence[uuid.UUID]) -> BriefBatch:
        return BriefBatch.of(await conn.fetch(_CHANGED_ROWS, keys))

    async def _fetch_slice(self, conn: Any, low: uuid.UUID, high: uuid.UUID) -> BriefBatch:
        return BriefBatch.of(await conn.fetch(_FULL_ROWS, low, high))

    def _join(self, parts: Sequence[tuple[BriefBatch, np.ndarray]]) -> BriefBatch:
        return BriefBatch.joined(parts)

    async def refresh(
        self, session: AsyncSession, creator_id: uuid.UUID | None
    ) -> tuple[float, set[uuid.UUID]]:
        """Sync (`FollowedCopy.sync`); returns the database's time (epoch seconds) and the
        briefs the creator (if any) applied to."""
        head = await self.sync(session, creator_id)
        return float(head["_now"]), set(head["_extra"])

    def rank(
        self,
        settings: Settings,
        accounts: Sequence[Mapping[str, Any]],
        *,
        now: float,
        applied: set[uuid.UUID],
        cursor: tuple[float, uuid.UUID] | None,
        n: int,
    ) -> list[Hit]:
        """The first `n` open briefs (deadline after `now`, not in `applied`) by the best
        score of any of `accounts` they admit, after `cursor`; ties by brief id, then the
        first account.

        The briefs sharing one of the creator's niches (or naming none) are scored first.
        Any other brief has a niche overlap of 0; its score is at most `_bounds`: the score
        of each part at its best for the account (`model.Part.best`; the audience-country
        part exactly, per distinct target list). Only the others whose bound reaches the
        first page's last score are scored (all of them when that page is short), and the
        page is taken from both (the first are not scored twice: each brief is in one of the
        two sets, so the first page's exclusions still hold)."""
        sharing = int(accounts[0]["niche_mask"])
        with np.errstate(all="ignore"):
            first = self._score(settings, accounts, now, applied, sharing, shared=True)
            hits = self._page(first, cursor, n)
            least = hits[-1].key if len(hits) == n else None
            rest = self._score(settings, accounts, now, applied, sharing, shared=False, least=least)
            return self._page(first + rest, cursor, n) if rest else hits

    def _score(
        self,
        settings: Settings,
        accounts: Sequence[Mapping[str, Any]],
        now: float,
        applied: set[uuid.UUID],
        sharing: int,
        *,
        shared: bool,
        least: float | None = None,
    ) -> list[_Scored]:
        """Each account's eligible rows and their scores: `shared`, the briefs naming no
        niche or one of `sharing`; else the others (with `least`, only those whose bound,
        `_bounds`, reaches it)."""
        applied_keys = {brief_id.int for brief_id in applied}
        applied_hi, _ = split_ids(applied_keys)
        scored: list[_Scored] = []
        for i, account in enumerate(accounts):
            a = Side(account)
            tier = requirements.tier_bit(int(account["followers"]), settings)
            for batch, alive in self.segments():
                found = []
                for start, stop in batch.slices_for(int(account["platform"]), tier):
                    keep = batch.columns["deadline"][start:stop] > now
                    keep &= alive[start:stop]
                    niches = batch.columns["niche_mask"][start:stop] & sharing
                    first = (niches != 0) | (batch.columns["niche_count"][start:stop] == 0)
                    keep &= first if shared else ~first
                    found.append(start + np.flatnonzero(keep))
                rows = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
                if least is not None and len(rows):
                    bound = _bounds(batch, rows, account, settings)
                    rows = rows[bound + model.BOUND_SLACK >= least]
                if applied and len(rows):
                    rows = rows[~batch.among(rows, applied_keys, applied_hi)]
                if len(rows):
                    rows = rows[
                        np.broadcast_to(
                            requirements.eligible(batch.side(rows), a, settings), rows.shape
                        )
                    ]
                if not len(rows):
                    continue
                parts = model.parts(batch.side(rows), a, settings)
                keys = np.broadcast_to(
                    np.asarray(model.score(parts, settings.match_weights), dtype=np.float64),
                    rows.shape,
                )
                # A score is finite for consistent figures; a row that is not is left out
                # rather than ranked anywhere.
                finite = np.flatnonzero(np.isfinite(keys))
                scored.append(_Scored(batch, i, rows, keys, parts, finite))
        return scored

    @staticmethod
    def _page(scored: list[_Scored], cursor: tuple[float, uuid.UUID] | None, n: int) -> list[Hit]:
        """The first `n` briefs after `cursor`, each at its best account's score. A brief
        any account places at or before the cursor was on an earlier page (at its best
        score), so it is left out."""
        shown: set[int] = set()
        if cursor is not None:
            for s in scored:
                later = _after(s.batch, s.rows[s.kept], s.keys[s.kept], cursor)
                shown.update(s.batch.keys_of(s.rows[s.kept[~later]]))
                s.keep(later)
        found: list[tuple[float, int, int, _Scored, int]] = []
        for s in scored:
            if shown:
                s.keep(~s.batch.among(s.rows[s.kept], shown, split_ids(shown)[0]))
            # Each account holds a brief once, so its best `n` rows hold every brief of
            # the page it could place there.
            rows = s.rows[s.kept]
            best = s.kept[best_positions(s.keys[s.kept], s.batch.hi[rows], s.batch.lo[rows], n)]
            keys = s.batch.keys_of(s.rows[best])
            found += [
                (float(s.keys[j]), k, s.account, s, int(j)) for j, k in zip(best, keys, strict=True)
            ]
        found.sort(key=lambda f: (-f[0], -f[1], f[2]))
        page: list[Hit] = []
        seen: set[int] = set()
        for _, key, _, s, j in found:
            if key not in seen:
                seen.add(key)
                page.append(s.hit(j))
                if len(page) == n:
                    break
        return page


def _bounds(
    batch: BriefBatch, rows: np.ndarray, account: Mapping[str, Any], settings: Settings
) -> np.ndarray:
    """The most the account can score on each of `rows`, briefs whose niches it does not
    share: the score of each part's `best` (`model.Part`)."""
    highest = model.best(batch.side(rows), Side(account), settings)
    return np.asarray(model.score(highest, settings.match_weights), dtype=np.float64)
