"""The hot paths' SQL, written out, sent to the pooled connection's asyncpg driver.

Every request resolves its caller, and most of the traffic reads briefs. Through the
SQLAlchemy adapter each statement cost as much Python as the rest of the request (compile
cache lookups, the adapter's cursor, result processing); here the statements are fixed
text, which asyncpg prepares once per connection (named, in its statement cache) and
returns as records. They run through `api.driver` (re-exported here): on the connection
SQLAlchemy's pool hands out, within the same transaction rules as the rest of the request
(`api.db`), a failure raised exactly as SQLAlchemy would raise it.

Statements that can decide who may do what also return `access_state.version`, read in
the same snapshot (`api.services.access_cache`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from asyncpg import Record
from fastapi import Request
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

# Running them: on the driver, as SQLAlchemy would (`api.driver`).
from api.driver import driver as driver
from api.driver import execute as execute
from api.driver import fetch as fetch
from api.driver import fetchrow as fetchrow
from api.models.applications import Application
from api.models.briefs import BriefRead
from api.models.creators import Creator, SocialAccount

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


# --- the caller's own view (`GET /v1/me`) -----------------------------------------------------

# Always one row: the version, the creator profile's id (if any) and the named brands (the
# ones the credential sees, $2) as [id, name] pairs in name order.
ME = """
SELECT a.version AS access_version,
       (SELECT c.id FROM creators c WHERE c.user_id = $1) AS creator_id,
       coalesce((SELECT jsonb_agg(jsonb_build_array(b.id, b.name) ORDER BY b.name, b.id)
                   FROM brands b WHERE b.id = ANY($2::uuid[])), '[]'::jsonb) AS brands
  FROM access_state a
"""

# --- applying (`api.services.applications.apply`) ---------------------------------------------


def _columns(table: Any) -> list[str]:
    return [column.name for column in table.columns]


CREATOR_COLUMNS = _columns(Creator.__table__)  # type: ignore[attr-defined]
ACCOUNT_COLUMNS = _columns(SocialAccount.__table__)  # type: ignore[attr-defined]
APPLICATION_COLUMNS = _columns(Application.__table__)  # type: ignore[attr-defined]

CREATOR_OF_USER = f"SELECT {', '.join(CREATOR_COLUMNS)} FROM creators WHERE user_id = $1"  # noqa: S608

# The offered accounts that are the creator's own (ids: one array parameter).
OFFERED_ACCOUNTS = (
    f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM social_accounts"  # noqa: S608
    " WHERE id = ANY($1::uuid[]) AND creator_id = $2"
)

# The creator's live invitation to the brief, marked used.
CONSUME_INVITATION = """
UPDATE invitations SET applied_at = $3
 WHERE brief_id = $1 AND creator_id = $2 AND applied_at IS NULL AND expires_at > $3
RETURNING id
"""

# ON CONFLICT: a concurrent second application loses cleanly instead of raising.
INSERT_APPLICATION = (
    f"INSERT INTO applications ({', '.join(APPLICATION_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(APPLICATION_COLUMNS) + 1))})"
    " ON CONFLICT (brief_id, creator_id) DO NOTHING"
    f" RETURNING {', '.join(APPLICATION_COLUMNS)}"
)

# --- every write: its event and trail row (`api.services.events`, `api.services.activity`) --

INSERT_EVENT = """
INSERT INTO outbox_events (id, type, brand_id, creator_id, payload, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""

# The event and its trail row (action = the event's type, the event's brand) in one round
# trip; the trail row's own id ($7), actor, request, subjects and time follow.
INSERT_EVENT_AND_ACTIVITY = """
WITH event AS (
    INSERT INTO outbox_events (id, type, brand_id, creator_id, payload, occurred_at)
    VALUES ($1, $2, $3, $4, $5, $6)
)
INSERT INTO activity (id, action, brand_id, actor_user_id, request_id, brief_id,
                      application_id, deal_id, occurred_at)
VALUES ($7, $2, $3, $8, $9, $10, $11, $12, $13)
"""


class Values(dict[str, Any]):
    """A row as a mapping that also reads like its model (`row.id`) for the rules, without
    building or tracking an ORM object."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def values(record: Record) -> Values:
    return Values(record.items())


# --- statements built per request -------------------------------------------------------------


# Statements built per request (the applicants list) are compiled once per shape:
# SQLAlchemy's cache key names the shape and carries this request's values. The brief
# search, the hotter path, skips building its statement too (`shaped`, below).
_COMPILED: dict[Any, Any] = {}
_COMPILED_MAX = 2_000


def compiled(connection: AsyncConnection, statement: ClauseElement) -> tuple[str, list[Any]]:
    """A SQLAlchemy statement as SQL text for the driver and its positional arguments.

    The text is SQLAlchemy's own for this dialect, compiled once per shape and reused as
    its `execute` would; only the adapter and result machinery are skipped.
    """
    key = statement._generate_cache_key()
    assert key is not None  # every statement the search builds is cacheable
    compiled_statement: SQLCompiler | None = _COMPILED.get(key.key)
    if compiled_statement is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        compiled_statement = cast(
            SQLCompiler, statement.compile(dialect=connection.dialect, cache_key=key)
        )
        _COMPILED[key.key] = compiled_statement
    params = compiled_statement.construct_params(extracted_parameters=key.bindparams)
    state = compiled_statement.construct_expanded_state(params, escape_names=False)
    processors = state.processors
    args = [
        processors[name](state.parameters[name]) if name in processors else state.parameters[name]
        for name in state.positiontup or ()
    ]
    return state.statement, args


# Statements whose text varies with what a request asks for (the brief search's filters)
# but not with its values: built and compiled once per shape, then only bound.


@dataclass(frozen=True)
class Shaped:
    """A statement compiled once for its shape: its SQL text for the driver and, for each
    `$n` in order, either the name of a value the request binds or the statement's own
    (already processed) constant."""

    sql: str
    slots: tuple[tuple[str | None, Callable[[Any], Any] | None, Any], ...]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for this request's `values` (by bind name)."""
        return [
            constant if name is None else (process(values[name]) if process else values[name])
            for name, process, constant in self.slots
        ]


def shaped(dialect: Dialect, statement: ClauseElement) -> Shaped:
    """Compile `statement`, whose per-request values are `bindparam(name)` placeholders
    without a value, once: SQLAlchemy's own text for this dialect, bound as its `execute`
    would bind it (each value through its type's processor)."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    # No list expanded at execution time: a shape's text must not depend on its values.
    assert "POSTCOMPILE" not in compiled.string, compiled.string
    constants = compiled.construct_params(_check=False)
    processors = compiled._bind_processors
    slots: list[tuple[str | None, Callable[[Any], Any] | None, Any]] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        process = cast("Callable[[Any], Any] | None", processors.get(name))
        if bind.required:
            slots.append((name, process, None))
        else:
            value = constants[name]
            slots.append((None, None, process(value) if process else value))
    return Shaped(compiled.string, tuple(slots))


@asynccontextmanager
async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for a hot read. Its statements go to the driver, never through
    the adapter that would open a transaction: each stands alone (autocommit)."""
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as connection:
        yield connection
