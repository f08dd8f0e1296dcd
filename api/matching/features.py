"""Feature rows read from the match tables: one brief's, one creator's accounts'.

What the apply-time score and the ranking read as values (the in-memory indexes hold
the same rows as columns). SQL goes to the driver as it is (`fetch_rows`, `api.driver`).
"""

# The SQL here is text built from fixed column names; request values only reach it as
# bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.driver import fetch
from api.models.matching import ACCOUNT_FEATURES, ALL_SLOT, BRIEF_FEATURES

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=256)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `:name` parameters as `$n`, and the names in order: once per text."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _PARAM.sub(number, sql), tuple(names)


async def fetch_rows(
    session: AsyncSession, sql: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts, in the session's transaction. Sent to the driver as it is
    (`api.driver`; `:name` parameters become `$n`): parsing a long statement for bind
    parameters, and the adapter's cursor and result, would cost more than running it."""
    statement, names = _numbered(sql)
    connection = await session.connection()
    rows = await fetch(connection, statement, *(params[n] for n in names))
    return [dict(row.items()) for row in rows]


# --- features ------------------------------------------------------------------------------


async def brief_features(session: AsyncSession, brief_id: uuid.UUID) -> dict[str, Any] | None:
    """A brief's features (any status), as the brief is now."""
    columns = ", ".join(BRIEF_FEATURES)
    # Open briefs have their rows in match_briefs; any other brief is computed on the fly.
    rows = await fetch_rows(
        session,
        f"SELECT {columns} FROM match_briefs WHERE brief_id = :id AND slot = {ALL_SLOT} LIMIT 1",
        {"id": brief_id},
    )
    if rows:
        return rows[0]
    rows = await fetch_rows(
        session,
        f"SELECT {columns} FROM match_brief_source WHERE brief_id = :id AND slot = 0 LIMIT 1",
        {"id": brief_id},
    )
    return rows[0] if rows else None


async def account_features(
    session: AsyncSession,
    *,
    creator_id: uuid.UUID | None = None,
    account_ids: Sequence[uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """Accounts' features (slot 0 rows) and handles, by creator or by account, in platform
    order."""
    columns = ", ".join(f"m.{c}" for c in ACCOUNT_FEATURES)
    where: list[str] = ["m.slot = 0"]
    params: dict[str, Any] = {}
    if creator_id is not None:
        where.append("m.creator_id = :creator_id")
        params["creator_id"] = creator_id
    if account_ids is not None:
        where.append("m.account_id = ANY(:account_ids)")
        params["account_ids"] = list(account_ids)
    sql = f"""SELECT {columns}, sa.handle FROM match_accounts m
        JOIN social_accounts sa ON sa.id = m.account_id
        WHERE {" AND ".join(where)} ORDER BY m.platform"""
    return await fetch_rows(session, sql, params)
