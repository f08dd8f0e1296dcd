"""A tiny expression kit: each operation computes in Python when its operands are values,
and for a whole column at once when one of them is a numpy array (a *vector*).

The match model (`api.matching.model`) is written once with these operations. Given
a brief and an account both as values it yields numbers (apply time, explanations); given
one side as vectors (the open briefs, or one platform's accounts, as a worker holds them
in memory: `api.matching.brief_index`, `api.matching.creator_index`) it scores them all
at once by the same formula.

A missing feature (no follower bound, no budget, no fee for a format) is None on values and
NaN in a float vector; arithmetic with it is missing too. Logic is two-valued on both: a
comparison with a missing operand is false, and `when` takes the `otherwise` branch. Both
branches of a vector `when` are computed (and the unused values discarded): callers run
under `numpy.errstate(all="ignore")`; a missing branch becomes NaN. Nullable columns are
float vectors (NaN), so the bit operations (`band`, `shr`, `bit_set`) apply only to
columns that are never missing (integer vectors).

Why values stay beside vectors: every ranking holds one side as values, the other as
vectors (one brief against a platform's accounts; one account against every open brief),
so the value path is the ranking's own, not only apply's. Scoring an application as a
one-row batch instead was measured (200 briefs, a creator offering 2 accounts): the same
bytes, but 1.1 ms a score against 0.22 ms (building the batch ~150 us an account, the
model ~3x slower on one row than on values), and no operation here would go unused.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import reduce
from typing import Any

import numpy as np


class CodeSets:
    """A vector of sets of small codes (0 to 64 * words - 1, as country codes are).

    Dictionary-encoded: each distinct set is a bitset (`words`, one row each) and every
    row holds the number of its set (`index`), as briefs repeat the same country lists.
    Membership is a shift and a mask per distinct set, then one gather."""

    __slots__ = ("index", "words")

    def __init__(self, words: np.ndarray, index: np.ndarray):
        self.words = words
        self.index = index

    @classmethod
    def of(cls, lists: Sequence[Sequence[int]], words: int) -> CodeSets:
        distinct: dict[tuple[int, ...], int] = {}
        index = np.fromiter(
            (distinct.setdefault(tuple(x), len(distinct)) for x in lists),
            dtype=np.int64,
            count=len(lists),
        )
        out = np.zeros((len(distinct), words), dtype=np.uint64)
        for row, codes in enumerate(distinct):
            for code in codes:
                out[row, code >> 6] |= np.uint64(1 << (code & 63))
        return cls(out, index)

    @classmethod
    def joined(cls, parts: Sequence[CodeSets]) -> CodeSets:
        """The rows of `parts`, in order (their distinct sets merged)."""
        words, inverse = np.unique(
            np.concatenate([p.words for p in parts]), axis=0, return_inverse=True
        )
        offsets = np.cumsum([0, *(len(p.words) for p in parts)])
        index = np.concatenate(
            [
                inverse.reshape(-1)[p.index + offset]
                for p, offset in zip(parts, offsets, strict=False)
            ]
        )
        return cls(words, index)

    def __getitem__(self, rows: Any) -> CodeSets:
        return CodeSets(self.words, self.index[rows])

    def __len__(self) -> int:
        return len(self.index)

    def empty(self) -> np.ndarray:
        return (self.words == 0).all(axis=1)[self.index]  # type: ignore[no-any-return]

    def has(self, code: int) -> np.ndarray:
        if not 0 <= code < self.words.shape[1] * 64:
            return np.zeros(len(self.index), dtype=bool)
        member = (self.words[:, code >> 6] >> np.uint64(code & 63)) & np.uint64(1) != 0
        return member[self.index]  # type: ignore[no-any-return]


def is_vector(value: Any) -> bool:
    return type(value) is np.ndarray


def is_column(value: Any) -> bool:
    """Whether `value` stands for a column of rows (a vector, or `CodeSets`)."""
    return type(value) is np.ndarray or type(value) is CodeSets


def _any_vector(*values: Any) -> bool:
    # A plain loop: this runs for every operation, and any() over a generator is slower.
    for value in values:  # noqa: SIM110
        if type(value) is np.ndarray:
            return True
    return False


def _nan(value: Any) -> Any:
    """A vector operand: a missing value is NaN."""
    return np.nan if value is None else value


def _force(value: Any) -> Any:
    return value() if callable(value) else value


# --- arithmetic -------------------------------------------------------------------------------


def add(*terms: Any) -> Any:
    """Sum; missing if any term is missing."""
    if any(t is None for t in terms):
        return None
    if _any_vector(*terms):
        return reduce(lambda x, y: x + y, terms)
    total_: Any = 0
    for t in terms:
        total_ = total_ + t
    return total_


def sub(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def mul(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a * b


def div(a: Any, b: Any) -> Any:
    """True division in double precision (callers rule out a zero divisor)."""
    if a is None or b is None:
        return None
    if _any_vector(a, b):
        return np.true_divide(a, b, dtype=np.float64)
    return float(a) / float(b)


def ln(x: Any) -> Any:
    if is_vector(x):
        return np.log(x.astype(np.float64))
    return None if x is None else math.log(float(x))


def absolute(x: Any) -> Any:
    return None if x is None else abs(x)  # numpy's abs for vectors


def least(*xs: Any) -> Any:
    """The smallest; missing arguments are ignored."""
    if _any_vector(*xs):
        return reduce(np.fmin, [x for x in xs if x is not None])
    known = [x for x in xs if x is not None]
    return min(known) if known else None


def greatest(*xs: Any) -> Any:
    if _any_vector(*xs):
        return reduce(np.fmax, [x for x in xs if x is not None])
    known = [x for x in xs if x is not None]
    return max(known) if known else None


def clamp01(x: Any) -> Any:
    return least(1.0, greatest(0.0, x))


# --- comparisons and logic ---------------------------------------------------------------------


def _compare(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    # Vectors compare elementwise, NaN as false; a missing value compares false.
    return False if a is None or b is None else fn(a, b)


def le(a: Any, b: Any) -> Any:
    return _compare(lambda x, y: x <= y, a, b)


def gt(a: Any, b: Any) -> Any:
    return _compare(lambda x, y: x > y, a, b)


def ge(a: Any, b: Any) -> Any:
    return _compare(lambda x, y: x >= y, a, b)


def eq(a: Any, b: Any) -> Any:
    return _compare(lambda x, y: x == y, a, b)


def and_(*conditions: Any) -> Any:
    """AND; a missing condition (None) is false."""
    if _any_vector(*conditions):
        if any(c is None or (not is_vector(c) and not c) for c in conditions):
            return False
        return reduce(np.logical_and, [c for c in conditions if is_vector(c)])
    return all(bool(c) for c in conditions)


def or_(*conditions: Any) -> Any:
    """OR; a missing condition (None) is false."""
    if _any_vector(*conditions):
        if any(c is not None and not is_vector(c) and c for c in conditions):
            return True
        return reduce(np.logical_or, [c for c in conditions if is_vector(c)])
    return any(bool(c) for c in conditions)


def not_(c: Any) -> Any:
    return np.logical_not(c) if is_vector(c) else not c


def _nulls(x: Any) -> Any:
    return np.isnan(x) if x.dtype.kind == "f" else np.zeros(len(x), dtype=bool)


def is_null(x: Any) -> Any:
    return _nulls(x) if is_vector(x) else x is None


def not_null(x: Any) -> Any:
    return np.logical_not(_nulls(x)) if is_vector(x) else x is not None


def when(condition: Any, then: Any, otherwise: Any) -> Any:
    """`then` where `condition` holds, else `otherwise`.

    `then` and `otherwise` may be zero-argument callables, evaluated only if needed, so a
    branch that a known condition rules out is never computed.
    """
    if is_vector(condition):
        return np.where(condition, _nan(_force(then)), _nan(_force(otherwise)))
    return _force(then) if condition else _force(otherwise)


# --- bits, sets and arrays ----------------------------------------------------------------------


def band(x: Any, mask: int) -> Any:
    return None if x is None else x & mask  # also vectors (of integers)


def shr(x: Any, bits: int) -> Any:
    return None if x is None else x >> bits


def bit_set(x: Any, bit: Any) -> Any:
    """Whether `x & bit` is not zero."""
    return False if x is None or bit is None else (x & bit) != 0


def bits_of(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask & (1 << i)]


def popcount_and(a: Any, b: Any) -> Any:
    """How many bits `a` and `b` share; one of them must be a value."""
    if not _any_vector(a, b):
        return None if a is None or b is None else (a & b).bit_count()
    known, column = (a, b) if not is_column(a) else (b, a)
    if is_column(known):
        raise ValueError("popcount_and needs one side as a value")
    return add(*[when(bit_set(column, bit), 1, 0) for bit in bits_of(known or 0)])


def in_set(x: Any, values: Any) -> Any:
    """Whether `x` is one of `values` (a list of values, or `CodeSets`)."""
    if x is None:
        return False
    if type(values) is CodeSets:
        return values.has(int(x))
    items = list(values)
    return np.isin(x, items) if is_vector(x) else x in items


def in_codes(x: Any, codes: Iterable[int], size: int) -> Any:
    """Whether `x` is one of `codes` (those in [0, size)): on a vector (whose entries must
    be in that range too), comparisons with a few codes or lookups in a table of `size`."""
    codes = [c for c in codes if 0 <= c < size]
    if is_vector(x):
        if len(codes) <= 8:  # a few comparisons beat a gather
            return reduce(np.logical_or, [x == c for c in codes], np.zeros(len(x), dtype=bool))
        table = np.zeros(size, dtype=bool)
        table[codes] = True
        return np.take(table, x)
    return in_set(x, codes)


def pick(x: Any, bounds: Sequence[float], values: Sequence[float]) -> Any:
    """`values[i]` for the interval `i` of `x` among ascending `bounds` (i bounds are at
    or below it); one more value than bounds."""
    if is_vector(x):
        return np.asarray(values, dtype=np.float64)[np.searchsorted(bounds, x, side="right")]
    return None if x is None else values[bisect.bisect_right(bounds, x)]


def is_empty(values: Any) -> Any:
    """Whether a list is empty (for `CodeSets`: each row's set)."""
    if type(values) is CodeSets:
        return values.empty()
    return len(values) == 0


def item(values: Any, index: int) -> Any:
    """The `index`-th element (from 1) of an array, None outside it or for a missing array."""
    if values is None or not 1 <= index <= len(values):
        return None
    return values[index - 1]


def total(values: Iterable[Any]) -> Any:
    return add(*list(values))


class Side:
    """The features of a brief or an account: numbers, or vectors (one entry per row of a
    batch). Features not in `values` at first are looked up in it when read (a batch
    takes its columns on first read)."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = values
        # Plain attributes: scoring a page reads them a few hundred times, and a
        # `__getattr__` call for each was a fifth of the time.
        self.__dict__.update((k, v) for k, v in values.items() if not k.startswith("_"))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._values[name]
