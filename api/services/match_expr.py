"""A tiny expression kit: each operation computes in Python when its operands are values,
and writes PostgreSQL when one of them is SQL.

The match model (`api.services.match_model`) is written once with these operations. Given
a brief and an account both loaded as values it yields numbers (apply time, explanations);
given one of them as the columns of a match table it yields the SQL that ranks a whole
table by the same formula, with everything known about the other side folded into
constants. The SQL keeps PostgreSQL's semantics in step with Python's: NULL is None,
comparisons with NULL are unknown, `CASE` takes unknown as false, `least`/`greatest`
ignore NULLs, division is always in double precision.

SQL is produced as text (an `Sql` string), never from request input: only numbers and
this package's own column names reach it, so it is cheap to build for every request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class Sql(str):
    """A fragment of SQL text (as opposed to a Python value)."""

    __slots__ = ()


def is_sql(value: Any) -> bool:
    return type(value) is Sql


def lit(value: Any) -> Sql:
    """A Python value as an SQL literal."""
    if is_sql(value):
        return value  # type: ignore[no-any-return]
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
    if not _any_sql(a, b):
        return None if a is None or b is None else a * b
    if not is_sql(a) and a == 1:
        return b
    if not is_sql(b) and b == 1:
        return a
    return Sql(f"({lit(a)} * {lit(b)})")


def div(a: Any, b: Any) -> Any:
    """True division in double precision (callers rule out a zero divisor)."""
    if not _any_sql(a, b):
        return None if a is None or b is None else float(a) / float(b)
    return Sql(f"(({lit(a)})::float8 / {lit(b)})")


def ln(x: Any) -> Any:
    if not is_sql(x):
        return None if x is None else math.log(float(x))
    return Sql(f"ln(({x})::float8)")


def absolute(x: Any) -> Any:
    if not is_sql(x):
        return None if x is None else abs(x)
    return Sql(f"abs({x})")


def least(*xs: Any) -> Any:
    """PostgreSQL's LEAST: NULL arguments are ignored."""
    if not _any_sql(*xs):
        known = [x for x in xs if x is not None]
        return min(known) if known else None
    return Sql("least(" + ", ".join(lit(x) for x in xs) + ")")


def greatest(*xs: Any) -> Any:
    if not _any_sql(*xs):
        known = [x for x in xs if x is not None]
        return max(known) if known else None
    return Sql("greatest(" + ", ".join(lit(x) for x in xs) + ")")


def clamp01(x: Any) -> Any:
    return least(1.0, greatest(0.0, x))


# --- comparisons and logic (three-valued) ---------------------------------------------------


def _compare(op: str, fn: Callable[[Any, Any], bool], a: Any, b: Any) -> Any:
    if not _any_sql(a, b):
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
    if not is_sql(c):
        return None if c is None else not c
    return Sql(f"(NOT {c})")


def is_null(x: Any) -> Any:
    return Sql(f"({x} IS NULL)") if is_sql(x) else x is None


def not_null(x: Any) -> Any:
    return Sql(f"({x} IS NOT NULL)") if is_sql(x) else x is not None


def when(condition: Any, then: Any, otherwise: Any) -> Any:
    """`CASE WHEN condition THEN then ELSE otherwise END`; unknown counts as false.

    `then` and `otherwise` may be zero-argument callables, evaluated only if needed, so a
    branch that a known condition rules out is never computed in Python.
    """
    if not is_sql(condition):
        return _force(then) if condition else _force(otherwise)
    a, b = _force(then), _force(otherwise)
    if not _any_sql(a, b) and a == b and a is not None:
        return a
    return Sql(f"CASE WHEN {condition} THEN {lit(a)} ELSE {lit(b)} END")


def cases(branches: Sequence[tuple[Any, Any]], otherwise: Any) -> Any:
    """A chain of `when`s as one flat `CASE` (the first true branch wins)."""
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
    if not is_sql(x):
        return None if x is None else x & mask
    return Sql(f"({x} & {mask})")


def shr(x: Any, bits: int) -> Any:
    if not is_sql(x):
        return None if x is None else x >> bits
    return Sql(f"({x} >> {bits})")


def bit_set(x: Any, bit: Any) -> Any:
    """Whether `x & bit` is not zero."""
    if not _any_sql(x, bit):
        return None if x is None or bit is None else (x & bit) != 0
    return Sql(f"(({lit(x)} & {lit(bit)}) <> 0)")


def bits_of(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask & (1 << i)]


def popcount_and(a: Any, b: Any) -> Any:
    """How many bits `a` and `b` share; one of them must be a value."""
    if not _any_sql(a, b):
        return None if a is None or b is None else (a & b).bit_count()
    known, column = (a, b) if not is_sql(a) else (b, a)
    if is_sql(known):
        raise ValueError("popcount_and needs one side as a value")
    return add(*[when(bit_set(column, bit), 1, 0) for bit in bits_of(known or 0)])


def in_set(x: Any, values: Any) -> Any:
    """Whether `x` is one of `values` (a list of values, or an SQL array)."""
    if not is_sql(values):
        items = list(values)
        if not is_sql(x):
            return None if x is None else x in items
        if not items:
            return False
        return Sql(f"({x} IN ({', '.join(str(int(v)) for v in items)}))")
    if x is None:
        return None
    return Sql(f"({lit(x)} = ANY({values}))")


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
