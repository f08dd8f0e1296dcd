"""The hot paths' SQL, written out, sent to the pooled connection's asyncpg driver.

Every request resolves its caller, and most of the traffic reads briefs. Through the
SQLAlchemy adapter each statement cost as much Python as the rest of the request (compile
cache lookups, the adapter's cursor, result processing); here the statements are fixed
text, which asyncpg prepares once per connection (named, in its statement cache) and
returns as records. They run on the connection SQLAlchemy's pool hands out, within the
same transaction rules as the rest of the request (`api.db`), and a failure is raised
exactly as SQLAlchemy would raise it (`DBAPIError`, the connection invalidated when it
was lost), so the 503/409 problem mapping and the lost-connection retry apply unchanged.

Statements that can decide who may do what also return `access_state.version`, read in
the same snapshot (`api.services.access_cache`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from asyncpg import Connection, Record
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import greenlet_spawn

from api.models.briefs import BriefRead

# --- the caller -------------------------------------------------------------------------------

# Always one row: the version, and the account if it exists.
CALLER = """
SELECT a.version AS access_version,
       u.id, u.email, u.role, u.created_at, u.suspended_at, u.token_generation,
       coalesce((SELECT jsonb_object_agg(m.brand_id::text, m.role)
                   FROM brand_memberships m WHERE m.user_id = u.id), '{}'::jsonb) AS brands
  FROM access_state a LEFT JOIN users u ON u.id = $1
"""

GRANT_BY_DIGEST = """
SELECT a.version AS access_version,
       t.id, t.user_id, t.scopes, t.brand_id, t.expires_at, t.revoked_at
  FROM access_state a LEFT JOIN api_tokens t ON t.token_hash = $1
"""

TOUCH_GRANT = "UPDATE api_tokens SET last_used_at = now() WHERE id = $1"

# --- briefs -----------------------------------------------------------------------------------

# `BriefRead`'s columns (its fields are the table's column names), then the deliverables as
# `DeliverableSpec` objects in order: a brief and its deliverables in one round trip.
BRIEF_COLUMNS = ", ".join(f"b.{name}" for name in BriefRead.model_fields if name != "deliverables")
DELIVERABLES_JSON = """
coalesce((SELECT jsonb_agg(jsonb_build_object('platform', d.platform, 'format', d.format,
                                              'quantity', d.quantity,
                                              'alternatives', d.alternatives)
                           ORDER BY d.position)
            FROM brief_deliverables d WHERE d.brief_id = b.id), '[]'::jsonb) AS deliverables
"""

# Always one row: the version, and the brief if it exists (`b.id` null otherwise).
BRIEF_BY_ID = f"""
SELECT a.version AS access_version, {BRIEF_COLUMNS}, {DELIVERABLES_JSON}
  FROM access_state a LEFT JOIN briefs b ON b.id = $1
"""  # noqa: S608 - column names from our own schema, the id is a parameter


# --- running them -----------------------------------------------------------------------------


def driver(connection: AsyncConnection) -> Connection:
    """The asyncpg connection under a checked-out SQLAlchemy connection."""
    sync = connection.sync_connection
    assert sync is not None  # checked out
    driver_connection: Connection = sync.connection.driver_connection
    return driver_connection


async def _raise_as_sqlalchemy(
    connection: AsyncConnection, error: Exception, statement: str, args: Sequence[Any]
) -> None:
    """Raise `error` as SQLAlchemy raises a driver error: translated to the adapter's DBAPI
    class, wrapped in `DBAPIError`, and on a lost connection with the pool invalidated."""
    sync = connection.sync_connection
    assert sync is not None
    adapter = sync.connection.dbapi_connection
    try:
        adapter._handle_exception(error)  # type: ignore[union-attr]  # raises it translated
    except Exception as translated:
        await greenlet_spawn(
            sync._handle_dbapi_exception,
            translated,
            statement,
            tuple(args),
            None,
            None,
        )
    raise error  # not reached: the handler raises


async def fetch(connection: AsyncConnection, statement: str, *args: Any) -> list[Record]:
    try:
        rows: list[Record] = await driver(connection).fetch(statement, *args)
        return rows
    except Exception as error:
        await _raise_as_sqlalchemy(connection, error, statement, args)
        raise


async def fetchrow(connection: AsyncConnection, statement: str, *args: Any) -> Record | None:
    try:
        return await driver(connection).fetchrow(statement, *args)
    except Exception as error:
        await _raise_as_sqlalchemy(connection, error, statement, args)
        raise


async def execute(connection: AsyncConnection, statement: str, *args: Any) -> None:
    try:
        await driver(connection).execute(statement, *args)
    except Exception as error:
        await _raise_as_sqlalchemy(connection, error, statement, args)
        raise


@asynccontextmanager
async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for a hot read. Its statements go to the driver, never through
    the adapter that would open a transaction: each stands alone (autocommit)."""
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as connection:
        yield connection
