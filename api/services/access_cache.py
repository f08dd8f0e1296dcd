"""Each worker's cache of callers, kept exact by PostgreSQL LISTEN/NOTIFY.

Reading the caller (account, brand memberships, API token) was a query on every request.
The cache keeps what those queries returned, per account and per API token digest, and
forgets an entry when the database announces a change to it: migration 0021's triggers
raise `access_state.version` and notify `access_changed` at the commit of every change to
an account's role, email, suspension or token generation, to its brand memberships, and
to an API token's revocation, scopes, brand or expiry.

Exactness does not rest on the notification arriving in time. A request that used a cached
caller reads `access_state.version` in the same statement (one snapshot) as its rows
(`api.services.hot_sql`); if this worker has not yet applied every notification up to that
version, the caller is read again and the request answered as that says (`stale`). Only
routes that make that check use the cache (`api.deps`); the others read the caller from
the database as before, and fill the cache for the hot ones.

While the listening connection is down the cache is empty and unused (`live` is False):
nothing is served from it until the listener is back, has re-subscribed and has read the
version it starts from.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from api.services.tokens import Caller, Grant

log = logging.getLogger(__name__)

CHANNEL = "access_changed"
# Past this many entries of a kind the cache starts again empty (a bound, not an LRU).
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class CachedUser:
    caller: Caller
    brands: Mapping[uuid.UUID, str]


class AccessCache:
    """Callers by account id and API tokens by digest, valid up to version `seen`."""

    def __init__(self) -> None:
        self._users: dict[uuid.UUID, CachedUser] = {}
        self._tokens: dict[str, Grant] = {}
        # Every change up to this version has been applied; None: not listening.
        self.seen: int | None = None

    @property
    def live(self) -> bool:
        return self.seen is not None

    def user(self, user_id: uuid.UUID) -> CachedUser | None:
        return self._users.get(user_id) if self.seen is not None else None

    def token(self, digest: str) -> Grant | None:
        return self._tokens.get(digest) if self.seen is not None else None

    def keep_user(self, caller: Caller, brands: Mapping[uuid.UUID, str], version: int) -> None:
        """Remember a caller read at `version` (in the same snapshot).

        Kept only if no change after that version has been applied yet: one that was
        might have been about this account, and its notice is gone.
        """
        if self.seen is not None and version >= self.seen:
            if len(self._users) >= MAX_ENTRIES:
                self._users.clear()
            self._users[caller.id] = CachedUser(caller, brands)

    def keep_token(self, digest: str, entry: Grant, version: int) -> None:
        if self.seen is not None and version >= self.seen:
            if len(self._tokens) >= MAX_ENTRIES:
                self._tokens.clear()
            self._tokens[digest] = entry

    def forget(self, payload: str) -> None:
        """Apply one notification: `u:<user id>:<version>` or `t:<digest>:<version>`."""
        kind, key, version = payload.split(":")
        if kind == "u":
            self._users.pop(uuid.UUID(key), None)
        else:
            self._tokens.pop(key, None)
        if self.seen is not None:
            self.seen = max(self.seen, int(version))

    def start(self, version: int) -> None:
        """Listening again from `version`: empty, then used."""
        self._users.clear()
        self._tokens.clear()
        self.seen = version

    def drop(self) -> None:
        """The listener is gone: forget everything and serve nothing from here."""
        self.seen = None
        self._users.clear()
        self._tokens.clear()


async def listen_forever(
    cache: AccessCache,
    dsn: str,
    *,
    ping_seconds: float,
    retry_seconds: float,
    connect_timeout: float = 10.0,
) -> None:
    """Keep `cache` subscribed to `access_changed`; drop it whenever the connection is lost.

    A connection the server closes is noticed at once (the termination callback); one that
    goes silent (a half-open TCP connection) fails its ping within `ping_seconds`.
    """
    while True:
        try:
            connection = await asyncpg.connect(
                dsn,
                timeout=connect_timeout,
                server_settings={"application_name": "briefboard-access-listener"},
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.info("access listener cannot connect (%s); retrying", type(error).__name__)
            await asyncio.sleep(retry_seconds)
            continue
        lost = asyncio.Event()

        def on_lost(_connection: Any, lost: asyncio.Event = lost) -> None:
            cache.drop()
            lost.set()

        def on_notice(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            cache.forget(payload)

        try:
            connection.add_termination_listener(on_lost)
            await connection.add_listener(CHANNEL, on_notice)
            # Read after LISTEN: a change committed meanwhile is both counted and announced.
            cache.start(await connection.fetchval("SELECT version FROM access_state"))
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), ping_seconds)
                except TimeoutError:
                    await asyncio.wait_for(connection.execute("SELECT 1"), ping_seconds)
            log.warning("access listener lost its connection; callers are read from the database")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning(
                "access listener failed (%s); callers are read from the database",
                type(error).__name__,
            )
        finally:
            cache.drop()
            connection.terminate()
        await asyncio.sleep(retry_seconds)
