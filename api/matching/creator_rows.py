"""Every account's match row as numpy columns: read from a binary COPY, held compactly,
and seen by the match model as its account side.

Each row is the slot-0 row of `match_accounts` (one per social account). The COPY sends
only fixed-width fields, NULL as -1, so every row has one size and numpy parses the
stream in place as it arrives (`CopyReader`). A batch (`CreatorBatch`) sorts its rows by
platform, then followers, so that a platform's accounts in a follower range are one
slice, and keeps rate cards per platform, only for the formats some account on it
prices. About 160 bytes an account.
"""

# The SQL here is built from this module's own column lists and from ids the database or
# this package produced (formatted as UUID literals), never from request input.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from api.matching import model, registry
from api.matching.expressions import Side
from api.matching.sync import rows_with, split_ids
from api.models.matching import ALL_SLOT, AUDIENCE_SLOTS, FORMATS
from api.settings import Settings

SLOTS = range(1, AUDIENCE_SLOTS + 1)


def _held_columns() -> list[tuple[str, str, str, str]]:
    """The columns held, as (name, SQL, binary wire type, stored dtype): every account
    feature the registry says the index holds. Each is fixed-width and never null on the
    wire (NULL is sent as -1), so every COPY row has one size; the rate card is spread
    over one column per format (`fee_1`..)."""
    columns = []
    for f in registry.ACCOUNT:
        if f.held is None or f.held == "uuid":
            continue
        if f.name == "fees":
            columns += [
                (f"fee_{k}", f"coalesce(m.fees[{k}], -1)::int8", ">i8", f.held)
                for k in range(1, FORMATS + 1)
            ]
            continue
        if f.kind.wire is None:
            raise ValueError(f"{f.name}: the account COPY holds fixed-width features only")
        value = f"coalesce(m.{f.name}, -1)" if f.nullable else f"m.{f.name}"
        columns.append((f.name, f"{value}::{f.kind.cast}", f.kind.wire, f.held))
    return columns


_COLUMNS = _held_columns()
_IDS = ("id", "creator")  # account and creator ids, each as two 64-bit halves
_HALVES = ("hi", "lo")
_FEES = [f"fee_{k}" for k in range(1, FORMATS + 1)]
# Columns the model reads as floats, NULL as NaN (sent as -1).
_NULLABLE = [f.name for f in registry.ACCOUNT if f.nullable and f.held and f.name != "fees"]
# Stored narrow, widened as the model reads them (products of age shares and weights
# need 32 bits).
_WIDEN = {name: np.int32 for name, _, _, held in _COLUMNS if held == "int16"}


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
    for i in SLOTS:
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

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Every array the batch holds, by name, and what else it needs (JSON), for a
        shared segment (`api.matching.shared`); `from_arrays` takes them back as they are."""
        arrays = {f"c:{name}": column for name, column in self.columns.items()}
        arrays |= {f"f:{p}:{k}": fee for (p, k), fee in self.fees.items()}
        arrays |= {"by_id": self._by_id, "by_creator": self._by_creator}
        key = None
        if self._account_cache is not None:
            key, parts = self._account_cache
            arrays |= {f"p:{name}": part for name, part in parts.items()}
        meta = {"groups": [[p, a, b] for p, (a, b) in self.groups.items()], "parts_key": key}
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> CreatorBatch:
        """A batch over `to_arrays`' arrays (views of a segment: nothing is copied or
        sorted again)."""
        batch = cls.__new__(cls)
        batch.columns = {n[2:]: a for n, a in arrays.items() if n.startswith("c:")}
        batch.size = len(batch.columns["platform"])
        batch.groups = {int(p): (int(a), int(b)) for p, a, b in meta["groups"]}
        batch.fees = {
            (int(n.split(":")[1]), int(n.split(":")[2])): a
            for n, a in arrays.items()
            if n.startswith("f:")
        }
        batch.hi, batch.lo = batch.columns["id_hi"], batch.columns["id_lo"]
        batch._by_id, batch._by_creator = arrays["by_id"], arrays["by_creator"]
        parts = {n[2:]: a for n, a in arrays.items() if n.startswith("p:")}
        key = meta["parts_key"]
        batch._account_cache = (key, parts) if key is not None else None
        return batch

    def account_parts(self, settings: Settings) -> dict[str, np.ndarray]:
        """`model.account_parts` of every row, computed once for these settings."""
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
        return rows_with(self.hi, self.lo, self._by_id, account_id)

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

    def side(self, platform: int, rows: slice | np.ndarray) -> Side:
        """The accounts at `rows` (all on `platform`), as the model's account side."""
        return Side(_Accounts(self, platform, rows))


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


def uuid_list(ids: Sequence[uuid.UUID]) -> str:
    return "'{" + ",".join(str(uuid.UUID(str(i))) for i in ids) + "}'::uuid[]"


async def copy_rows(conn: Any, where: str) -> dict[str, np.ndarray]:
    reader = CopyReader()
    await conn.copy_from_query(_COPY.format(where=where), output=reader.feed, format="binary")
    return reader.columns()
