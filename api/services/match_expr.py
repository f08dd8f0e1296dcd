"""A tiny expression kit: each operation computes in Python when its operands are values,
writes PostgreSQL when one of them is SQL, and computes for a whole column at once when
one of them is a numpy array (a *vector*).

The match model (`api.services.match_model`) is written once with these operations. Given
a brief and an account both loaded as values it yields numbers (apply time, explanations);
given one of them as the columns of a match table it yields the SQL that ranks a whole
table by the same formula, with everything known about the other side folded into
constants. The SQL keeps PostgreSQL's semantics in step with Python's: NULL is None,
comparisons with NULL are unknown, `CASE` takes unknown as false, `least`/`greatest`
ignore NULLs, division is always in double precision.

SQL is produced as text (an `Sql` string), never from request input: only numbers and
this package's own column names reach it, so it is cheap to build for every request.

Vectors (`api.services.match_index` holds the open briefs so) follow the same rules with
NaN for NULL, except that logic is two-valued: an unknown comparison is false at once,
where SQL would carry it as unknown to the `WHERE` or `CASE` that reads it. The two agree
wherever no negation is applied to a condition that can be unknown, which the model
never does (it negates only `requires_gifting`, never null). Both branches of a vector
`when` are computed (and the unused values discarded): callers run under
`numpy.errstate(all="ignore")`. A NULL branch of a vector `when` or `cases` becomes NaN,
which is a number, not an unknown condition: the model only writes NULL branches where a
number is expected. Nullable columns are float vectors (NaN), so the bit operations
(`band`, `shr`, `bit_set`) apply only to columns that are never null (integer vectors).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from functools import reduce
from typing import Any

import numpy as np


class Sql(str):
    """A fragment of SQL text (as opposed to a Python value)."""

    __slots__ = ()


def is_sql(value: Any) -> bool:
    return type(value) is Sql


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

    def has(self, code: int) -> np.ndarray:
        if not 0 <= code < self.words.shape[1] * 64:
            return np.zeros(len(self.index), dtype=bool)
        member = (self.words[:, code >> 6] >> np.uint64(code & 63)) & np.uint64(1) != 0
        return member[self.index]  # type: ignore[no-any-return]


def is_vector(value: Any) -> bool:
    return type(value) is np.ndarray


def is_column(value: Any) -> bool:
    """Whether `value` stands for a column of a match table (SQL text or a vector)."""
    return type(value) is Sql or type(value) is np.ndarray or type(value) is CodeSets


def _any_vector(*values: Any) -> bool:
    for value in values:  # noqa: SIM110 (see _any_sql)
        if type(value) is np.ndarray:
            return True
    return False


def _nan(value: Any) -> Any:
    """A vector operand: NULL is NaN."""
    return np.nan if value is None else value


def lit(value: Any) -> Sql:
    """A Python value as an SQL literal."""
    if is_sql(value):
        return value  # type: ignore[no-any-return]
    if is_vector(value):
        raise TypeError("a vector has no SQL literal")
    if value is None:
        return Sql("NULL")
    if isinstance(value, bool):
        return Sql("true" if value else "false")
    if isinstance(value, int):
        return Sql(f"({value})" if value < 0 else str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("only finite numbers can be written as SQL")
        return Sql(f"({value!r}::float8)")
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def _any_sql(*values: Any) -> bool:
    # A plain loop: this runs for every operation, and any() over a generator is slower.
    for value in values:  # noqa: SIM110
        if type(value) is Sql:
            return True
    return False


def _force(value: Any) -> Any:
    return value() if callable(value) and not is_sql(value) else value


# --- arithmetic -------------------------------------------------------------------------------


def add(*terms: Any) -> Any:
    """Sum; NULL if any term is NULL. Exact zero constants are dropped (x + 0.0 == x)."""
    if _any_vector(*terms) and not _any_sql(*terms):
        if any(t is None for t in terms):
            return None
        return reduce(lambda x, y: x + y, terms)
    kept = [t for t in terms if is_sql(t) or t is None or t != 0]
    if not _any_sql(*kept):
        if any(t is None for t in kept):
            return None
        total: Any = 0
        for t in kept:
            total = total + t
        return total
    if not kept:
        return 0
    # Constants first, added up here: the database need not add them for every row.
    constants = [t for t in kept if not is_sql(t)]
    columns = [t for t in kept if is_sql(t)]
    if len(constants) > 1 or (constants and None in constants):
        folded = add(*constants)
        kept = ([folded] if folded != 0 or folded is None else []) + columns
    if len(kept) == 1:
        return kept[0]
    return Sql("(" + " + ".join(lit(t) for t in kept) + ")")


def sub(a: Any, b: Any) -> Any:
    if not _any_sql(a, b):
        return None if a is None or b is None else a - b
    return Sql(f"({lit(a)} - {lit(b)})")


def mul(a: Any, b: Any) -> Any:
    if not _any_sql(a, b):  # also vectors
        return None if a is None or b is None else a * b
    if not is_sql(a) and a == 1:
        return b
    if not is_sql(b) and b == 1:
        return a
    return Sql(f"({lit(a)} * {lit(b)})")


def div(a: Any, b: Any) -> Any:
    """True division in double precision (callers rule out a zero divisor)."""
    if _any_vector(a, b):
        return None if a is None or b is None else np.true_divide(a, b, dtype=np.float64)
    if not _any_sql(a, b):
        return None if a is None or b is None else float(a) / float(b)
    return Sql(f"(({lit(a)})::float8 / {lit(b)})")


def ln(x: Any) -> Any:
    if is_vector(x):
        return np.log(x.astype(np.float64))
    if not is_sql(x):
        return None if x is None else math.log(float(x))
    return Sql(f"ln(({x})::float8)")


def absolute(x: Any) -> Any:
    if not is_sql(x):
        return None if x is None else abs(x)  # numpy's abs for vectors
    return Sql(f"abs({x})")


def least(*xs: Any) -> Any:
    """PostgreSQL's LEAST: NULL arguments are ignored."""
    if _any_vector(*xs):
        return reduce(np.fmin, [x for x in xs if x is not None])
    if not _any_sql(*xs):
        known = [x for x in xs if x is not None]
        return min(known) if known else None
    return Sql("least(" + ", ".join(lit(x) for x in xs) + ")")


def greatest(*xs: Any) -> Any:
    if _any_vector(*xs):
        return reduce(np.fmax, [x for x in xs if x is not None])
    if not _any_sql(*xs):
        known = [x for x in xs if x is not None]
        return max(known) if known else None
    return Sql("greatest(" + ", ".join(lit(x) for x in xs) + ")")


def clamp01(x: Any) -> Any:
    return least(1.0, greatest(0.0, x))


# --- comparisons and logic (three-valued) ---------------------------------------------------


def _compare(op: str, fn: Callable[[Any, Any], bool], a: Any, b: Any) -> Any:
    if not _any_sql(a, b):  # vectors compare elementwise, NaN as false
        return None if a is None or b is None else fn(a, b)
    return Sql(f"({lit(a)} {op} {lit(b)})")


def lt(a: Any, b: Any) -> Any:
    return _compare("<", lambda x, y: x < y, a, b)


def le(a: Any, b: Any) -> Any:
    return _compare("<=", lambda x, y: x <= y, a, b)


def gt(a: Any, b: Any) -> Any:
    return _compare(">", lambda x, y: x > y, a, b)


def ge(a: Any, b: Any) -> Any:
    return _compare(">=", lambda x, y: x >= y, a, b)


def eq(a: Any, b: Any) -> Any:
    return _compare("=", lambda x, y: x == y, a, b)


def and_(*conditions: Any) -> Any:
    """AND, folding constants: false wins, true drops out, unknown stays unknown."""
    if _any_vector(*conditions) and not _any_sql(*conditions):
        vectors = [c for c in conditions if is_vector(c)]
        if any(c is None or (not is_vector(c) and not c) for c in conditions):
            return False
        return reduce(np.logical_and, vectors)
    rest: list[Any] = []
    unknown = False
    for c in conditions:
        if is_sql(c):
            rest.append(c)
        elif c is None:
            unknown = True
        elif not c:
            return False
    if not rest:
        return None if unknown else True
    if unknown:
        rest.append(Sql("NULL::boolean"))
    return rest[0] if len(rest) == 1 else Sql("(" + " AND ".join(rest) + ")")


def or_(*conditions: Any) -> Any:
    if _any_vector(*conditions) and not _any_sql(*conditions):
        if any(c is not None and not is_vector(c) and c for c in conditions):
            return True
        return reduce(np.logical_or, [c for c in conditions if is_vector(c)])
    rest: list[Any] = []
    unknown = False
    for c in conditions:
        if is_sql(c):
            rest.append(c)
        elif c is None:
            unknown = True
        elif c:
            return True
    if not rest:
        return None if unknown else False
    if unknown:
        rest.append(Sql("NULL::boolean"))
    return rest[0] if len(rest) == 1 else Sql("(" + " OR ".join(rest) + ")")


def not_(c: Any) -> Any:
    if is_vector(c):
        return np.logical_not(c)
    if not is_sql(c):
        return None if c is None else not c
    return Sql(f"(NOT {c})")


def _nulls(x: Any) -> Any:
    return np.isnan(x) if x.dtype.kind == "f" else np.zeros(len(x), dtype=bool)


def is_null(x: Any) -> Any:
    if is_vector(x):
        return _nulls(x)
    return Sql(f"({x} IS NULL)") if is_sql(x) else x is None


def not_null(x: Any) -> Any:
    if is_vector(x):
        return np.logical_not(_nulls(x))
    return Sql(f"({x} IS NOT NULL)") if is_sql(x) else x is not None


def when(condition: Any, then: Any, otherwise: Any) -> Any:
    """`CASE WHEN condition THEN then ELSE otherwise END`; unknown counts as false.

    `then` and `otherwise` may be zero-argument callables, evaluated only if needed, so a
    branch that a known condition rules out is never computed in Python.
    """
    if is_vector(condition):
        return np.where(condition, _nan(_force(then)), _nan(_force(otherwise)))
    if not is_sql(condition):
        return _force(then) if condition else _force(otherwise)
    a, b = _force(then), _force(otherwise)
    if not _any_sql(a, b) and a == b and a is not None:
        return a
    return Sql(f"CASE WHEN {condition} THEN {lit(a)} ELSE {lit(b)} END")


def cases(branches: Sequence[tuple[Any, Any]], otherwise: Any) -> Any:
    """A chain of `when`s as one flat `CASE` (the first true branch wins)."""
    if any(is_vector(condition) for condition, _ in branches):
        result = _nan(_force(otherwise))
        for condition, value in reversed(branches):
            if is_vector(condition):
                result = np.where(condition, _nan(_force(value)), result)
            elif condition:
                result = _nan(_force(value))
        return result
    kept: list[tuple[Any, Any]] = []
    for condition, value in branches:
        if is_sql(condition):
            kept.append((condition, value))
        elif condition:  # known true: nothing after it can be reached
            otherwise = value
            break
    if not kept:
        return _force(otherwise)
    arms = " ".join(f"WHEN {c} THEN {lit(_force(v))}" for c, v in kept)
    return Sql(f"CASE {arms} ELSE {lit(_force(otherwise))} END")


# --- bits, sets and arrays ----------------------------------------------------------------------


def band(x: Any, mask: int) -> Any:
    if not is_sql(x):  # also vectors (of integers)
        return None if x is None else x & mask
    return Sql(f"({x} & {mask})")


def shr(x: Any, bits: int) -> Any:
    if not is_sql(x):
        return None if x is None else x >> bits
    return Sql(f"({x} >> {bits})")


def bit_set(x: Any, bit: Any) -> Any:
    """Whether `x & bit` is not zero."""
    if not _any_sql(x, bit):  # also vectors
        return None if x is None or bit is None else (x & bit) != 0
    return Sql(f"(({lit(x)} & {lit(bit)}) <> 0)")


def bits_of(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask & (1 << i)]


def popcount_and(a: Any, b: Any) -> Any:
    """How many bits `a` and `b` share; one of them must be a value."""
    if not _any_sql(a, b) and not _any_vector(a, b):
        return None if a is None or b is None else (a & b).bit_count()
    known, column = (a, b) if not is_column(a) else (b, a)
    if is_column(known):
        raise ValueError("popcount_and needs one side as a value")
    return add(*[when(bit_set(column, bit), 1, 0) for bit in bits_of(known or 0)])


def in_set(x: Any, values: Any) -> Any:
    """Whether `x` is one of `values` (a list of values, an SQL array, or `CodeSets`)."""
    if type(values) is CodeSets:
        return None if x is None else values.has(int(x))
    if not is_sql(values):
        items = list(values)
        if is_vector(x):
            return np.isin(x, items)
        if not is_sql(x):
            return None if x is None else x in items
        if not items:
            return False
        return Sql(f"({x} IN ({', '.join(str(int(v)) for v in items)}))")
    if x is None:
        return None
    return Sql(f"({lit(x)} = ANY({values}))")


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
    if not is_sql(x):
        return None if x is None else values[bisect.bisect_right(bounds, x)]
    pairs = zip(bounds, values[:-1], strict=True)
    arms = " ".join(f"WHEN {x} < {lit(bound)} THEN {lit(v)}" for bound, v in pairs)
    return Sql(f"CASE {arms} ELSE {lit(values[-1])} END") if arms else lit(values[-1])


def is_empty(values: Any) -> Any:
    if is_sql(values):
        return Sql(f"(cardinality({values}) = 0)")
    return len(values) == 0


def item(values: Any, index: int) -> Any:
    """The `index`-th element (from 1) of an array, NULL outside it or for a NULL array."""
    if is_sql(values):
        return Sql(f"({values})[{index}]")
    if values is None or not 1 <= index <= len(values):
        return None
    return values[index - 1]


def total(values: Iterable[Any]) -> Any:
    return add(*list(values))
