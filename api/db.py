"""Engine, sessions and the per-request transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import Settings


class _Liveness:
    """Checks each connection as it leaves the pool; a dead one is replaced, not handed out.

    A connection the server has closed (restart, idle timeout) is seen locally: asyncpg
    notices as soon as the socket reports it. With `ping` (settings.db_pool_pre_ping) a
    `SELECT 1` round trip also catches half-open TCP connections. This is what
    SQLAlchemy's `pool_pre_ping` does, at a third of the cost: on asyncpg its ping wraps
    the statement in BEGIN and ROLLBACK (for pgbouncer's transaction mode, which this app
    does not support: it relies on session settings), three round trips per checkout.
    Raising `DisconnectionError` here makes the pool discard the connection and retry.
    """

    def __init__(self, ping: bool) -> None:
        self.ping = ping

    def __call__(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")
        if self.ping:
            try:
                dbapi_connection.run_async(lambda driver: driver.execute("SELECT 1"))
            except Exception as error:  # whatever failed, the connection is not usable
                raise DisconnectionError("the connection failed its ping") from error


def create_engine(url: str, settings: Settings, **overrides: Any) -> AsyncEngine:
    options: dict[str, Any] = {
        # Liveness is checked by _Liveness on checkout (settings.db_pool_pre_ping).
        "pool_pre_ping": False,
        # Up to pool size + overflow connections, opened on demand and then kept. With a
        # separate overflow SQLAlchemy closes each overflow connection as it is returned, so
        # under steady load above the pool size nearly every request paid for a new
        # connection (TLS attempt, authentication, session settings).
        "pool_size": settings.db_pool_size + settings.db_max_overflow,
        "max_overflow": 0,
        "pool_timeout": settings.db_pool_timeout_seconds,
        # Errors and logs never show statement parameters: they carry password hashes,
        # token digests, stored answers and personal data.
        "hide_parameters": True,
        "connect_args": {
            "server_settings": {
                "application_name": "briefboard",
                # No JIT: every statement here is short, and compiling one costs 100-250 ms
                # (the brief index's sync statement was JIT-compiled on every request once
                # the planner misjudged the size of its one-row state table).
                "jit": "off",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "lock_timeout": str(settings.db_lock_timeout_ms),
                "timezone": "UTC",
            }
        },
    }
    ping = overrides.pop("pool_pre_ping", settings.db_pool_pre_ping)
    options.update(overrides)
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "checkout", _Liveness(ping))
    return engine


class WriteSlots:
    """How many pooled connections transactions may hold at once: the pool less
    `DB_READ_RESERVE`, so that writes waiting for a locked row (up to `DB_LOCK_TIMEOUT_MS`
    each) can never take every connection from the requests that only read. A write that
    finds no slot within the pool timeout fails like a pool timeout (503 `database_busy`)."""

    def __init__(self, settings: Settings) -> None:
        pool = settings.db_pool_size + settings.db_max_overflow
        reserve = settings.db_read_reserve if settings.db_read_reserve < pool else 0
        self._slots = asyncio.Semaphore(pool - reserve)
        self._wait_seconds = settings.db_pool_timeout_seconds

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolTimeoutError("no write slot came free in time") from None
        try:
            yield
        finally:
            self._slots.release()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after the commit that precedes the response.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for `read_only` routes: every statement commits alone (no BEGIN/COMMIT)."""
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])

# The request state's name for a connection whose transaction the request's session joins
# (set by `api.idempotency` for POSTs with an Idempotency-Key).
SHARED_CONNECTION = "shared_connection"


def read_only(endpoint: EndpointT) -> EndpointT:
    """Mark a route whose requests need no transaction: its session runs in autocommit.

    Saves the BEGIN and COMMIT round trips of every request. Only for routes that read,
    or whose writes are single statements correct on their own (closing a brief past its
    deadline); a route that writes more than that keeps the default transaction.
    """
    endpoint.read_only = True  # type: ignore[attr-defined]
    return endpoint


def _is_read_only(request: Request) -> bool:
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return getattr(endpoint, "read_only", False) is True


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit when the endpoint returns, roll back on any error.

    Used with `scope="function"` so the commit happens before the response is sent: a
    failed commit becomes a 5xx, never a lost 2xx. `read_only` routes get an autocommit
    session instead, with nothing to commit.

    Under an Idempotency-Key the request's work runs in a savepoint of the transaction
    that also stores its answer (`api.idempotency`): "commit" releases the savepoint, an
    error rolls back to it, and the middleware commits both once the answer is known.
    """
    shared: AsyncConnection | None = getattr(request.state, SHARED_CONNECTION, None)
    if shared is not None:
        joined: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
        async with joined(bind=shared, join_transaction_mode="create_savepoint") as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
        return
    if _is_read_only(request):
        reader: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
        async with reader() as session:
            yield session
        return
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    slots: WriteSlots = request.app.state.write_slots
    async with slots.held(), sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


@asynccontextmanager
async def independent_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """A transaction of its own, committed even if the request later fails.

    Only for security bookkeeping that must survive a rejected request: failed-login
    counters and revoking a refresh-token family on reuse.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker.begin() as session:
        yield session


# The request state's flag for "this request's pooled connection turned out dead" (set by
# the error handler in `api.errors` when the driver reports a lost connection), and the
# one for "this is the second run".
CONNECTION_LOST = "connection_lost"
RETRIED = "retried_on_a_fresh_connection"
_RETRIED_METHODS = ("GET", "HEAD")


def will_retry(request: Request) -> bool:
    """A lost connection on this request is met by running it again (not yet retried)."""
    return request.method in _RETRIED_METHODS and not getattr(request.state, RETRIED, False)


class RetryLostConnection:
    """Run a GET once more when its pooled connection turned out to be dead.

    Connections are not pinged as they leave the pool (a `SELECT 1` round trip on every
    request; `DB_POOL_PRE_PING` turns it back on): a connection the driver has seen close is
    still dropped at checkout, but one whose server went away unseen (a restart, a
    terminated backend) fails on its first statement. SQLAlchemy then invalidates it and
    every connection opened before it, so a second run gets a fresh one. Only reads are
    run again (idempotent, nothing sent yet: the failed run's 503 is held back); a write
    answers 503 as before. A second failure is answered as it is (the database is down).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _RETRIED_METHODS:
            await self.app(scope, receive, send)
            return
        held = False

        async def first_send(message: Message) -> None:
            nonlocal held
            if (
                message["type"] == "http.response.start"
                and message["status"] == 503
                and scope.get("state", {}).pop(CONNECTION_LOST, False)
            ):
                held = True
            if not held:
                await send(message)

        await self.app(scope, receive, first_send)
        if not held:
            return
        scope.setdefault("state", {})[RETRIED] = True
        replayed = False

        async def again(  # the (empty) request body once more, then the client's messages
        ) -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return await receive()

        await self.app(scope, again, send)
