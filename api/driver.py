"""Statements sent straight to the asyncpg driver under a pooled SQLAlchemy connection.

Through the SQLAlchemy adapter each statement costs as much Python as the rest of a short
request (compile cache lookups, the adapter's cursor, result processing). These run fixed
SQL text on the driver of the connection SQLAlchemy's pool handed out, within the same
transaction rules as the rest of the request (`api.db`), and a failure is raised exactly
as SQLAlchemy would raise it (`DBAPIError`, the connection invalidated when it was lost),
so the 503/409 problem mapping and the lost-connection retry apply unchanged.

The hot paths' statements are in `api.services.hot_sql`; matching's feature reads
(`api.matching.features`) use the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncpg import Connection, Record
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import greenlet_spawn


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


async def _begun(connection: AsyncConnection) -> None:
    """Open the transaction SQLAlchemy holds for this connection, if it has not yet.

    SQLAlchemy's asyncpg adapter sends BEGIN with the first statement that goes through it;
    a statement sent to the driver before that would run outside the request's transaction
    (committed on its own even if the request then fails). Autocommit connections (the
    `read_only` routes, `read_connection`) have no transaction to open.
    """
    sync = connection.sync_connection
    if sync is not None and sync.in_transaction():
        adapter: Any = sync.connection.dbapi_connection
        if adapter._transaction is None:
            try:
                await adapter._start_transaction()
            except Exception as error:
                await _raise_as_sqlalchemy(connection, error, "BEGIN", ())
                raise


async def fetch(connection: AsyncConnection, statement: str, *args: Any) -> list[Record]:
    await _begun(connection)
    try:
        rows: list[Record] = await driver(connection).fetch(statement, *args)
        return rows
    except Exception as error:
        await _raise_as_sqlalchemy(connection, error, statement, args)
        raise


async def fetchrow(connection: AsyncConnection, statement: str, *args: Any) -> Record | None:
    await _begun(connection)
    try:
        return await driver(connection).fetchrow(statement, *args)
    except Exception as error:
        await _raise_as_sqlalchemy(connection, error, statement, args)
        raise


async def execute(connection: AsyncConnection, statement: str, *args: Any) -> None:
    await _begun(connection)
    try:
        await driver(connection).execute(statement, *args)
    except Exception as error:
        await _raise_as_sqlalchemy(connection, error, statement, args)
        raise
