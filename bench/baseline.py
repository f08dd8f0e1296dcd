"""The baseline the API is measured against: the same SQL and JSON on Starlette + raw asyncpg.

    uvicorn --factory bench.baseline:create_app --workers 2

It serves the benchmark's routes (`GET /v1/briefs/{id}`, `GET /v1/briefs`,
`POST /v1/briefs/{id}/applications`) with the API's own auth checks (JWT decode and user
lookup), the same rules and the same answers, but none of FastAPI, the ORM or response
models. The SQL is not written here: the app's statement builders are compiled once per
shape (keyed by SQLAlchemy's cache key, as the ORM does) and sent with asyncpg; only the
sequence of statements of each route is repeated.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, get_origin

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql import ClauseElement
from sqlmodel import col
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.errors import AppError, Conflict, Forbidden, Unauthorized, problem_response
from api.models.applications import ApplicationCreate, ApplicationRead
from api.models.briefs import Brief, BriefSearch
from api.models.users import Role
from api.pagination import page_params
from api.security import InvalidToken, Scope, decode_access_token
from api.services import applications, brief_search, briefs, creators, events, invitations
from api.services.tokens import (
    CALLER_BY_ID,
    Caller,
    Principal,
    brands_from,
    check_caller,
    scopes_for_role,
)
from api.settings import Settings, get_settings

APPLICATION_FIELDS = list(ApplicationRead.model_fields)
_LIST_PARAMS = {n for n, f in BriefSearch.model_fields.items() if get_origin(f.annotation) is list}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")  # as pydantic writes UTC
    if isinstance(value, date | uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


class Row:
    """Attribute access over a record, so the app's rules can read it like a model."""

    __slots__ = ("_record",)

    def __init__(self, record: Mapping[str, Any]) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None


class _Result:
    """The little of SQLAlchemy's Result that the shared service code uses."""

    def __init__(self, rows: list[asyncpg.Record]) -> None:
        self._rows = rows

    def scalar_one_or_none(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def mappings(self) -> list[asyncpg.Record]:
        return self._rows

    def first(self) -> Row | None:
        return Row(self._rows[0]) if self._rows else None

    def all(self) -> list[Row]:
        return [Row(r) for r in self._rows]

    def __iter__(self) -> Iterator[Row]:
        return iter(self.all())


class Sql:
    """Runs SQLAlchemy statements on one asyncpg connection, compiled once per shape."""

    _dialect = PGDialect_asyncpg()
    _cache: dict[Any, Any] = {}

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @classmethod
    def compile(
        cls, stmt: ClauseElement, values: Mapping[str, Any] | None = None
    ) -> tuple[str, list[Any]]:
        key = stmt._generate_cache_key()
        # As SQLAlchemy does, an INSERT's columns are the parameters given.
        columns = tuple(sorted(values)) if values else None
        compiled = cls._cache.get((key.key, columns)) if key is not None else None
        if compiled is None:
            compiled = stmt.compile(dialect=cls._dialect, column_keys=columns, cache_key=key)
            if key is not None:
                cls._cache[(key.key, columns)] = compiled
        params = compiled.construct_params(
            values, extracted_parameters=key.bindparams if key is not None else None
        )
        # Python-side column defaults (ids, timestamps) are filled at execution, as SQLAlchemy does.
        for column in compiled.insert_prefetch:
            if params.get(column.key) is None and column.default is not None:
                default = column.default
                params[column.key] = default.arg(None) if default.is_callable else default.arg
        return compiled.string, [params[name] for name in compiled.positiontup or []]

    async def fetch(
        self, stmt: ClauseElement, values: Mapping[str, Any] | None = None
    ) -> list[asyncpg.Record]:
        sql, args = self.compile(stmt, values)
        return list(await self.conn.fetch(sql, *args))

    async def fetchrow(
        self, stmt: ClauseElement, values: Mapping[str, Any] | None = None
    ) -> asyncpg.Record | None:
        sql, args = self.compile(stmt, values)
        return await self.conn.fetchrow(sql, *args)

    async def connection(self) -> Sql:
        """The session API's way to the connection, for the shared code that sends SQL text."""
        return self

    async def flush(self) -> None:
        """Nothing is pending: there is no unit of work here."""

    async def exec_driver_sql(self, sql: str, args: Sequence[Any]) -> _Result:
        return _Result(list(await self.conn.fetch(sql, *args)))

    async def execute(
        self, stmt: ClauseElement, values: Mapping[str, Any] | None = None
    ) -> _Result:
        """A session's `execute`, as far as the shared service code calls it."""
        sql, args = self.compile(stmt, values)
        return _Result(list(await self.conn.fetch(sql, *args)))


def _json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers, media_type="application/json")


async def _principal(request: Request, db: Sql, scope: Scope) -> Principal:
    """The same checks as `api.deps.get_principal` for a sign-in (JWT) token."""
    settings: Settings = request.app.state.settings
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("sign in first: send `Authorization: Bearer <token>`")
    try:
        claims = decode_access_token(settings, token)
    except InvalidToken:
        raise Unauthorized("the access token is invalid or expired", code="invalid_token") from None
    record = await db.fetchrow(CALLER_BY_ID, {"user_id": claims.user_id})
    user = check_caller(Caller(*record[:-1]) if record is not None else None, claims.generation)
    principal = Principal(
        user=user, scopes=scopes_for_role(user.role), brands=brands_from(record[-1])
    )
    if scope.value not in principal.scopes:
        raise Forbidden(f"the token lacks the scope(s): {scope.value}", code="insufficient_scope")
    return principal


async def _brief_reads(db: Sql, records: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """The API's brief views as plain dicts (the app builds `BriefRead`s from the same)."""
    children = await briefs.deliverable_specs_of(db, [r["id"] for r in records])  # type: ignore[arg-type]
    return [
        {**{name: r[name] for name in briefs.BRIEF_READ_FIELDS}, "deliverables": children[r["id"]]}
        for r in records
    ]


async def get_brief(request: Request) -> Response:
    brief_id = request.path_params["brief_id"]
    async with request.app.state.pool.acquire() as conn:
        db = Sql(conn)
        principal = await _principal(request, db, Scope.briefs_read)
        # Reads run in autocommit: each statement is its own transaction, no BEGIN/COMMIT.
        brief = await briefs.visible_brief_row(db, principal, brief_id)  # type: ignore[arg-type]
        (body,) = await _brief_reads(db, [brief._record])
    return _json_response(body, headers={"ETag": f'"{brief.version}"'})


async def search_briefs(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    query = request.query_params
    raw: dict[str, Any] = {
        k: (query.getlist(k) if k in _LIST_PARAMS else query[k])
        for k in query
        if k not in ("limit", "cursor")
    }
    params = BriefSearch.model_validate(raw)
    limit = query.get("limit")
    page = await page_params(int(limit) if limit else None, query.get("cursor"))
    async with request.app.state.pool.acquire() as conn:
        db = Sql(conn)
        principal = await _principal(request, db, Scope.briefs_read)
        brand_ids = brief_search.own_brands_of(principal, params)
        search = brief_search.search_statement(
            settings, params, page, brand_ids=brand_ids, columns=briefs.BRIEF_READ_COLUMNS
        )
        if brand_ids is not None:
            await db.fetch(briefs.close_expired_stmt(col(Brief.brand_id).in_(brand_ids)))
        rows = await db.fetch(search.stmt)
        kept, cursor = search.page(rows, lambda r: (r["sort_key"], r["id"]))
        items = await _brief_reads(db, list(kept))
    return _json_response({"items": items, "next_cursor": cursor})


async def apply(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    brief_id = request.path_params["brief_id"]
    data = ApplicationCreate.model_validate_json(await request.body())
    async with request.app.state.pool.acquire() as conn:
        db = Sql(conn)
        principal = await _principal(request, db, Scope.applications_write)
        if principal.role != Role.creator:
            raise Forbidden("only creators may do this", code="creator_only")
        async with conn.transaction():
            creator = await creators.creator_row_of(db, principal.user.id)  # type: ignore[arg-type]
            brief = await briefs.visible_brief_row(db, principal, brief_id)  # type: ignore[arg-type]
            applications.check_application(brief, data)
            accounts = await applications.offered_accounts(db, creator.id, data.account_ids)  # type: ignore[arg-type]
            applications.require_offered(accounts, data.account_ids)
            values = await applications.application_values(
                db,  # type: ignore[arg-type]
                settings,
                brief,
                creator,
                accounts,
                data,
            )
            values["invitation_id"] = await invitations.consume(db, brief.id, creator.id)  # type: ignore[arg-type]
            row = await applications.add_application(db, values)  # type: ignore[arg-type]
            if row is None:
                raise Conflict("you already applied to this brief", code="already_applied")
            body = {name: getattr(row, name) for name in APPLICATION_FIELDS}
            await events.record(
                db,  # type: ignore[arg-type]
                "application.created",
                json.loads(dumps(body)),
                brand_id=brief.brand_id,
                creator_id=creator.id,
            )
    return _json_response(body, status=201)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(
        request, exc.status_code, exc.code, exc.detail, errors=exc.errors, headers=exc.headers
    )


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=dumps, decoder=json.loads, schema="pg_catalog")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    assert settings.database_url, "the baseline needs DATABASE_URL"
    from bench.dataset import libpq

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The same pool size, overflow and session settings as `api.db.create_engine`.
        async with asyncpg.create_pool(
            libpq(settings.database_url or ""),
            min_size=1,
            max_size=settings.db_pool_size + settings.db_max_overflow,
            init=_init_connection,
            server_settings={
                "application_name": "briefboard-baseline",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
            },
        ) as pool:
            app.state.pool = pool
            yield

    app = Starlette(
        routes=[
            Route("/v1/briefs", search_briefs, methods=["GET"]),
            Route("/v1/briefs/{brief_id:uuid}", get_brief, methods=["GET"]),
            Route("/v1/briefs/{brief_id:uuid}/applications", apply, methods=["POST"]),
        ],
        exception_handlers={AppError: _app_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
