"""Keyset pagination: opaque cursors built from the sort key and the id."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, or_

from api.errors import Unprocessable
from api.models.common import QueryPageSize
from api.settings import get_settings

T = TypeVar("T")
# Any select, whatever its columns.
SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")

_MAX_CURSOR_LENGTH = 512


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Opaque; absent on the last page.",
        examples=["WyIyMDI2LTExLTIxIiwiMSJd.Yb1mQk5yR0Zc8pYxq1b7Ag"],
    )


class PageParams(BaseModel):
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[
        QueryPageSize | None, Query(description="Page size (default 20, at most 100).")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=_MAX_CURSOR_LENGTH)] = None,
) -> PageParams:
    # A coroutine (no worker-thread hop) reading the cached settings itself.
    settings = get_settings()
    size = settings.default_page_size if limit is None else limit
    if size > settings.max_page_size:
        raise Unprocessable(
            f"limit must be at most {settings.max_page_size}", code="page_size_too_large"
        )
    return PageParams(limit=size, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime | date | uuid.UUID):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    return value


# Cursors are signed so that the server only ever reads back values it wrote itself (a
# client cannot feed nulls, other types or another order's keys into the keyset clauses).
# The key is derived from the JWT secret: one secret to configure, a key used for nothing
# else. 16 bytes of HMAC-SHA256 are plenty for a value nobody can check offline.
_CURSOR_KEY_LABEL = b"briefboard/cursor/v1"
_SIGNATURE_BYTES = 16


@lru_cache(maxsize=4)
def _cursor_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _CURSOR_KEY_LABEL, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signature(payload: str) -> str:
    key = _cursor_key(get_settings().jwt_secret)
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES])


def encode_cursor(values: Sequence[Any]) -> str:
    payload = _b64(json.dumps([_to_json(v) for v in values], separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload)}"


def decode_cursor(cursor: str, parsers: Sequence[Callable[[Any], Any]]) -> list[Any]:
    """The values of a cursor this server issued, each checked by its parser; anything
    else (unsigned, altered, another shape, a null) is a 422 `invalid_cursor`."""
    try:
        payload, dot, signature = cursor.partition(".")
        if not dot or not hmac.compare_digest(signature.encode(), _signature(payload).encode()):
            raise ValueError("not a cursor this server issued")
        values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if not isinstance(values, list) or len(values) != len(parsers):
            raise ValueError("wrong shape")
        if any(v is None for v in values):
            raise ValueError("a sort key is never null")
        return [parse(v) for v, parse in zip(values, parsers, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeError, OverflowError) as exc:
        raise Unprocessable("the cursor is invalid or expired", code="invalid_cursor") from exc


def parse_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def parse_date(value: Any) -> date:
    return date.fromisoformat(str(value))


def parse_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def parse_float(value: Any) -> float:
    # JSON as Python reads it admits NaN and Infinity; a sort key never is one.
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError("not a number")
    return float(value)


def after(
    columns: Sequence[Any], values: Sequence[Any], descending: Sequence[bool]
) -> ColumnElement[bool]:
    """The WHERE clause selecting rows strictly after `values` in the given order.

    Written as an OR of prefixes so mixed directions work and each branch can use an index.
    """
    branches = []
    for i, (col, value, desc) in enumerate(zip(columns, values, descending, strict=True)):
        equal_prefix = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        beyond = col < value if desc else col > value
        branches.append(and_(*equal_prefix, beyond))
    return or_(*branches)


def keyset(
    stmt: SelectT,
    params: PageParams,
    columns: Sequence[Any],
    parsers: Sequence[Callable[[Any], Any]],
    descending: Sequence[bool],
) -> SelectT:
    """Apply ordering, the cursor and limit+1 (to learn whether a next page exists)."""
    if params.cursor:
        stmt = stmt.where(after(columns, decode_cursor(params.cursor, parsers), descending))
    order = [c.desc() if d else c.asc() for c, d in zip(columns, descending, strict=True)]
    return stmt.order_by(*order).limit(params.limit + 1)


def make_page(
    rows: Sequence[Any], params: PageParams, key: Callable[[Any], Sequence[Any]]
) -> tuple[list[Any], str | None]:
    """Trim the extra row and build the cursor from the last row kept."""
    items = list(rows[: params.limit])
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > params.limit and items else None
    return items, next_cursor
