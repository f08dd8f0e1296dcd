"""The bare baseline the API is measured against: Starlette, raw asyncpg, python-jose.

    uvicorn --factory bench.baseline:create_app --workers 2

It serves the benchmark's routes (`GET /v1/briefs/{id}`, `GET /v1/briefs`,
`POST /v1/briefs/{id}/applications`) with the same auth checks (JWT decode and the
caller's row), the same rules and the same JSON, as a careful hand-written service would:
SQL strings written out below and sent with asyncpg (which prepares and caches each
statement per connection), rows turned into JSON with the standard library. No
SQLAlchemy, no FastAPI, no pydantic models, none of the app's services: only pure
functions that compute the same values (the hard requirements, the match score, the JWT
time-claim checks) are imported, so both answer alike by construction. Configuration
(JWT secret and claims, tier bands, match weights, pool size) comes from `api.settings`.

It covers the benchmark's searches (platform, niche, tier, creator country, full text;
newest, deadline, publish date and relevance order; cursors), not every filter the API has:
another filter is a 422 here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from jose import JWTError, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.matching.apply import evaluate, rounded_parts
from api.matching.expressions import Side
from api.matching.requirements import eligible, unmet_requirements
from api.models.matching import country_code
from api.security import check_time_claims
from api.settings import Settings, get_settings

# --- the SQL ----------------------------------------------------------------------------------

CALLER = """SELECT u.role, u.suspended_at, u.token_generation,
    (SELECT coalesce(jsonb_object_agg(m.brand_id::text, m.role), '{}'::jsonb)
       FROM brand_memberships m WHERE m.user_id = u.id) AS brands
FROM users u WHERE u.id = $1"""

BRIEF_FIELDS = (
    "id, brand_id, status, version, title, description, product, collaboration_type,"
    " compensation_type, currency, fee_min_minor, fee_max_minor, commission_rate_percent,"
    " gifted_product, posting_required, platforms, tiers, min_followers, max_followers, niches,"
    " min_engagement_rate, creator_countries, target_audience, publish_start_date,"
    " publish_end_date, application_deadline, slots, screening_questions, disclosure,"
    " usage_rights, max_revision_rounds, review_window_days, closed_reason, published_at,"
    " closed_at, cancelled_at, completed_at, created_at, updated_at"
)
BRIEF_COLUMNS = [c.strip() for c in BRIEF_FIELDS.split(",")]

# A brief's deliverables in order, as one JSON array (one statement per brief or page).
DELIVERABLES = """coalesce((SELECT jsonb_agg(jsonb_build_object('platform', d.platform,
        'format', d.format, 'quantity', d.quantity, 'alternatives', d.alternatives)
        ORDER BY d.position)
    FROM brief_deliverables d WHERE d.brief_id = b.id), '[]'::jsonb) AS deliverables"""

BRIEF_BY_ID = f"SELECT {BRIEF_FIELDS}, {DELIVERABLES} FROM briefs b WHERE b.id = $1"  # noqa: S608

CREATOR_OF_USER = """SELECT id, user_id, country, niches, accepts_gifting
FROM creators WHERE user_id = $1"""

OFFERED_ACCOUNTS = """SELECT id, creator_id, platform, handle, followers, avg_likes,
    avg_comments, audience_countries, audience_genders, audience_ages, source, as_of
FROM social_accounts WHERE id = ANY($1::uuid[]) AND creator_id = $2"""

BRIEF_FEATURE_COLUMNS = (
    "brief_id, slot, platform, tier, deadline, platform_mask, tier_mask, requires_gifting,"
    " niche_mask, niche_count, creator_mask, target_mask, gender_mask, has_age, age_w1, age_w2,"
    " age_w3, age_w4, age_w5, age_w6, age_w7, units_total, min_er, currency, row_units,"
    " row_units_total, creator_countries, target_countries, units, budget, row_budget,"
    " size_min, size_max"
)
# Open briefs have their match row; any other brief is computed by the view.
BRIEF_FEATURES = f"""(SELECT {BRIEF_FEATURE_COLUMNS} FROM match_briefs
    WHERE brief_id = $1 AND slot = 0 LIMIT 1)
UNION ALL (SELECT {BRIEF_FEATURE_COLUMNS} FROM match_brief_source
    WHERE brief_id = $1 AND slot = 0 AND NOT EXISTS
        (SELECT 1 FROM match_briefs WHERE brief_id = $1 AND slot = 0) LIMIT 1)"""  # noqa: S608

ACCOUNT_FEATURES = """SELECT m.account_id, m.slot, m.creator_id, m.platform, m.country,
    m.followers, m.er, m.accepts_gifting, m.niche_mask, m.niche_count, m.genders, m.age_1,
    m.age_2, m.age_3, m.age_4, m.age_5, m.age_6, m.age_7, m.deals_completed, m.aud_1, m.aud_2,
    m.aud_3, m.aud_4, m.aud_5, m.aud_6, m.fee_currency, m.fees, m.published_on_time,
    m.published_late, sa.handle
FROM match_accounts m JOIN social_accounts sa ON sa.id = m.account_id
WHERE m.slot = 0 AND m.creator_id = $1 AND m.account_id = ANY($2::uuid[])
ORDER BY m.platform"""

CONSUME_INVITATION = """UPDATE invitations SET applied_at = $3
WHERE brief_id = $1 AND creator_id = $2 AND applied_at IS NULL AND expires_at > $3
RETURNING id"""

APPLICATION_FIELDS = (
    "id, brief_id, creator_id, invitation_id, status, pitch, account_ids, proposed_fee_minor,"
    " currency, answers, available_for_publish_date, deliverable_choices, match_score,"
    " match_parts, decided_at, created_at, updated_at"
)
INSERT_APPLICATION = f"""INSERT INTO applications (id, brief_id, creator_id, invitation_id,
    status, pitch, account_ids, proposed_fee_minor, currency, answers,
    available_for_publish_date, deliverable_choices, match_score, match_parts,
    created_at, updated_at)
VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
ON CONFLICT (brief_id, creator_id) DO NOTHING
RETURNING {APPLICATION_FIELDS}"""  # noqa: S608

INSERT_EVENT = """INSERT INTO outbox_events (id, type, payload, brand_id, creator_id, occurred_at)
VALUES ($1, 'application.created', $2, $3, $4, $5)"""

INSERT_ACTIVITY = """INSERT INTO activity (id, action, actor_user_id, request_id, brand_id,
    brief_id, application_id, occurred_at)
VALUES ($1, 'application.created', $2, $3, $4, $5, $6, $7)"""


# --- JSON and problems ------------------------------------------------------------------------


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


class Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, errors: list[Any] | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.errors = status, code, detail, errors


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers, media_type="application/json")


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    body: dict[str, Any] = {"type": "about:blank", "status": exc.status, "code": exc.code}
    body["detail"] = exc.detail
    if exc.errors:
        body["errors"] = exc.errors
    return Response(dumps(body), exc.status, media_type="application/problem+json")


class Values(dict[str, Any]):
    """A row as a mapping that the shared pure rules can also read by attribute."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# --- auth -------------------------------------------------------------------------------------


async def _caller(request: Request, conn: asyncpg.Connection, admin_scope: bool = False) -> Values:
    """The JWT's checks (pinned algorithm, exp/iat/sub/aud/iss, typ, gen) and the caller's row."""
    settings: Settings = request.app.state.settings
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > 4096:
        raise Problem(401, "unauthorized", "sign in first: send `Authorization: Bearer <token>`")
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={f"require_{c}": True for c in ("exp", "iat", "sub", "aud", "iss")},
        )
        if claims.get("typ") != "access":
            raise ValueError("not an access token")
        check_time_claims(settings, claims)
        user_id = uuid.UUID(str(claims["sub"]))
        generation = claims["gen"]
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise ValueError("gen must be an integer")
    except (JWTError, KeyError, ValueError, TypeError):
        raise Problem(401, "invalid_token", "the access token is invalid or expired") from None
    row = await conn.fetchrow(CALLER, user_id)
    if row is None or row["token_generation"] != generation:
        raise Problem(401, "invalid_token", "the access token is invalid or expired")
    if row["suspended_at"] is not None:
        raise Problem(401, "account_suspended", "the account is suspended")
    caller = Values(row)
    caller["id"] = user_id
    caller["brands"] = {uuid.UUID(k): v for k, v in row["brands"].items()}
    return caller


def _may_see(caller: Mapping[str, Any], brief: Mapping[str, Any]) -> bool:
    if caller["role"] == "admin" or brief["brand_id"] in caller["brands"]:
        return True
    return brief["status"] in ("open", "closed", "completed")


def _presented(brief: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An open brief past its deadline reads as closed, as the sweep will write it."""
    deadline = brief["application_deadline"]
    if brief["status"] == "open" and deadline is not None and deadline <= now:
        brief.update(
            status="closed",
            closed_reason="deadline",
            closed_at=deadline,
            version=brief["version"] + 1,
            updated_at=max(brief["updated_at"], deadline),
        )
    return brief


# --- brief by id ------------------------------------------------------------------------------


async def get_brief(request: Request) -> Response:
    brief_id = request.path_params["brief_id"]
    async with request.app.state.pool.acquire() as conn:
        caller = await _caller(request, conn)
        record = await conn.fetchrow(BRIEF_BY_ID, brief_id)
    if record is None:
        raise Problem(404, "not_found", "brief not found")
    brief = _presented(dict(record), datetime.now(UTC))
    if not _may_see(caller, brief):
        raise Problem(404, "not_found", "brief not found")
    return _json(brief, headers={"ETag": f'"{brief["version"]}"'})


# --- search -----------------------------------------------------------------------------------

_KEY = {
    "newest": ("b.published_at", True),
    "deadline": ("b.application_deadline", False),
    "publish_date": ("b.publish_start_date", False),
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sign(settings: Settings, payload: str) -> str:
    key = hmac.new(settings.jwt_secret.encode(), b"briefboard/cursor/v1", hashlib.sha256).digest()
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16])


def encode_cursor(settings: Settings, values: list[Any]) -> str:
    out = [v.isoformat() if isinstance(v, datetime | date) else v for v in values]
    payload = _b64(json.dumps([*out[:-1], str(out[-1])], separators=(",", ":")).encode())
    return f"{payload}.{_sign(settings, payload)}"


def decode_cursor(settings: Settings, cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    payload, _, signature = cursor.partition(".")
    try:
        if not hmac.compare_digest(signature.encode(), _sign(settings, payload).encode()):
            raise ValueError("unsigned")
        order, key, last = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if order != sort or key is None:
            raise ValueError("another order")
        parse: Callable[[Any], Any] = {
            "newest": datetime.fromisoformat,
            "deadline": datetime.fromisoformat,
            "publish_date": date.fromisoformat,
        }.get(sort, float)
        value = parse(key)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not a number")
        return value, uuid.UUID(last)
    except (ValueError, TypeError) as exc:
        raise Problem(422, "invalid_cursor", "the cursor is invalid or expired") from exc


def _tier_clause(settings: Settings, tiers: list[str], args: list[Any]) -> str:
    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    overlaps = []
    for band in settings.tiers:
        if band.name in tiers:
            upper = (
                "true"
                if band.max_followers is None
                else f"b.min_followers <= {arg(band.max_followers)}"
            )
            overlaps.append(
                f"((b.min_followers IS NULL OR {upper})"
                f" AND (b.max_followers IS NULL OR b.max_followers >= {arg(band.min_followers)}))"
            )
    bounds = "(b.min_followers IS NOT NULL OR b.max_followers IS NOT NULL)"
    by_bounds = f"({bounds} AND ({' OR '.join(overlaps) or 'false'}))"
    by_tiers = (
        f"(NOT {bounds} AND (b.tiers && {arg(tiers)}::varchar[] OR cardinality(b.tiers) = 0))"
    )
    return f"({by_bounds} OR {by_tiers})"


async def search_briefs(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    query = request.query_params
    known = {"platform", "niche", "tier", "creator_country", "q", "sort", "limit", "cursor"}
    if set(query) - known:
        raise Problem(422, "unsupported", f"the baseline filters only by {sorted(known)}")
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    # The status as a parameter, as the app sends it: PostgreSQL then keeps planning each
    # execution with its values (a literal let it settle on a generic plan that ignores the
    # cursor's selectivity: twice the database CPU on deep pages).
    where = [f"b.status = {arg('open')}", "b.application_deadline > now()"]
    for name, column in (("platform", "platforms"), ("niche", "niches")):
        if query.getlist(name):
            where.append(f"b.{column} && {arg(query.getlist(name))}::varchar[]")
    if query.getlist("tier"):
        where.append(_tier_clause(settings, query.getlist("tier"), args))
    if query.getlist("creator_country"):
        countries = arg(query.getlist("creator_country"))
        where.append(
            f"(b.creator_countries && {countries}::varchar[]"
            " OR cardinality(b.creator_countries) = 0)"
        )
    text = query.get("q")
    sort = query.get("sort") or ("relevance" if text is not None else "newest")
    if text is not None:
        tsquery = f"websearch_to_tsquery('english'::regconfig, {arg(text)})"
        where.append(f"b.search @@ {tsquery}")
    if sort == "relevance":
        if text is None:
            raise Problem(422, "validation_error", "relevance needs a text query (q)")
        key, descending = f"ts_rank(b.search, {tsquery})", True
    elif sort in _KEY:
        key, descending = _KEY[sort]
    else:
        raise Problem(422, "unsupported", "the baseline sorts by newest, deadline, publish_date")
    limit = int(query.get("limit") or settings.default_page_size)
    if not 1 <= limit <= settings.max_page_size:
        raise Problem(422, "page_size_too_large", "limit out of range")
    cursor = query.get("cursor")
    if cursor:
        value, last_id = decode_cursor(settings, cursor, sort)
        op = "<" if descending else ">"
        v = arg(value)
        where.append(f"({key} {op} {v} OR {key} = {v} AND b.id {op} {arg(last_id)})")
    direction = "DESC" if descending else "ASC"
    # Constants and $n placeholders only: every value is an argument.
    sql = f"SELECT {BRIEF_FIELDS}, {DELIVERABLES}, {key} AS sort_key FROM briefs b"  # noqa: S608
    sql += f" WHERE {' AND '.join(where)} ORDER BY {key} {direction}, b.id {direction}"
    sql += f" LIMIT {arg(limit + 1)}"
    async with request.app.state.pool.acquire() as conn:
        await _caller(request, conn)
        rows = await conn.fetch(sql, *args)
    kept = rows[:limit]
    next_cursor = None
    if len(rows) > limit and kept:
        next_cursor = encode_cursor(settings, [sort, kept[-1]["sort_key"], kept[-1]["id"]])
    items = []
    for row in kept:
        item = dict(row)
        del item["sort_key"]
        items.append(item)
    return _json({"items": items, "next_cursor": next_cursor})


# --- apply ------------------------------------------------------------------------------------


def _body(raw: bytes) -> dict[str, Any]:
    """The application body, checked as the API's schema does for the fields used here."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise Problem(422, "validation_error", "the body is not JSON") from None
    allowed = {"pitch", "account_ids", "proposed_fee_minor", "answers"}
    allowed |= {"available_for_publish_date", "deliverable_choices"}
    errors = []
    if not isinstance(data, dict) or set(data) - allowed:
        raise Problem(422, "validation_error", "unknown fields")
    pitch = data.get("pitch")
    if not isinstance(pitch, str) or not 1 <= len(pitch.strip()) <= 2000:
        errors.append({"loc": ["body", "pitch"], "msg": "required text", "type": "missing"})
    ids = data.get("account_ids")
    try:
        if not isinstance(ids, list) or not 1 <= len(ids) <= 10:
            raise ValueError
        data["account_ids"] = [uuid.UUID(i) for i in ids]
    except (ValueError, TypeError, AttributeError):
        errors.append({"loc": ["body", "account_ids"], "msg": "1-10 ids", "type": "value_error"})
    fee = data.get("proposed_fee_minor")
    if fee is not None and (not isinstance(fee, int) or isinstance(fee, bool) or fee < 0):
        errors.append({"loc": ["body", "proposed_fee_minor"], "msg": "int", "type": "int_type"})
    if data.get("answers") or data.get("deliverable_choices"):
        raise Problem(422, "unsupported", "the baseline takes no answers or choices")
    if errors:
        raise Problem(422, "validation_error", "the request is invalid", errors)
    return data


def _pays_a_fee(brief: Mapping[str, Any]) -> bool:
    if brief["compensation_type"] == "paid":
        return True
    return brief["compensation_type"] == "hybrid" and brief["fee_max_minor"] is not None


async def apply(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    brief_id = request.path_params["brief_id"]
    data = _body(await request.body())
    fee = data.get("proposed_fee_minor")
    account_ids = sorted(set(data["account_ids"]))
    async with request.app.state.pool.acquire() as conn:
        caller = await _caller(request, conn)
        if caller["role"] != "creator":
            raise Problem(403, "creator_only", "only creators may do this")
        async with conn.transaction():
            record = await conn.fetchrow(CREATOR_OF_USER, caller["id"])
            if record is None:
                raise Problem(403, "creator_only", "no creator profile for this account")
            creator = Values(record)
            now = datetime.now(UTC)
            found = await conn.fetchrow(BRIEF_BY_ID, brief_id)
            if found is None or not _may_see(caller, found):
                raise Problem(404, "not_found", "brief not found")
            brief = Values(_presented(dict(found), now))
            if brief.status != "open":
                raise Problem(409, "brief_not_open", f"the brief is {brief.status}, not open")
            if _pays_a_fee(brief) != (fee is not None):
                raise Problem(422, "validation_error", "the application is invalid")
            if any(q.get("required", True) for q in brief.screening_questions):
                raise Problem(422, "validation_error", "answer the brief's questions")
            accounts = [
                Values(r) for r in await conn.fetch(OFFERED_ACCOUNTS, account_ids, creator.id)
            ]
            if len(accounts) != len(account_ids):
                raise Problem(422, "unknown_account", "offer your own social accounts")
            # The same pure rules as the app: requirements and score on the match features.
            found_features = await conn.fetchrow(BRIEF_FEATURES, brief.id)
            if found_features is None:
                raise Problem(404, "not_found", "brief not found")
            features = dict(found_features)
            rows = [
                dict(r)
                for r in await conn.fetch(ACCOUNT_FEATURES, creator.id, [a.id for a in accounts])
            ]
            b = Side(features)
            offered = [Side(r) for r in rows]
            you = Side(
                {
                    "country": country_code(creator.country) if creator.country else None,
                    "accepts_gifting": creator.accepts_gifting,
                }
            )
            unmet = unmet_requirements(b, offered, you, settings)
            if unmet:
                errors = [e.model_dump() for e in unmet]
                raise Problem(
                    422, "ineligible", f"you miss {len(unmet)} requirement(s) of this brief", errors
                )
            fitting = [r for r, a in zip(rows, offered, strict=True) if eligible(b, a, settings)]
            score, parts = max(
                (evaluate(features, r, settings, proposed_fee=fee) for r in fitting),
                key=lambda scored: scored[0],
            )
            score, parts = round(score, 4), rounded_parts(parts)
            invitation_id = await conn.fetchval(CONSUME_INVITATION, brief.id, creator.id, now)
            row = await conn.fetchrow(
                INSERT_APPLICATION,
                uuid.uuid4(),
                brief.id,
                creator.id,
                invitation_id,
                data["pitch"],
                account_ids,
                fee,
                brief.currency if fee is not None else None,
                [],
                data.get("available_for_publish_date", True),
                [],
                score,
                parts,
                now,
            )
            if row is None:
                raise Problem(409, "already_applied", "you already applied to this brief")
            body = json.loads(dumps(dict(row)))
            await conn.execute(INSERT_EVENT, uuid.uuid4(), body, brief.brand_id, creator.id, now)
            await conn.execute(
                INSERT_ACTIVITY,
                uuid.uuid4(),
                caller["id"],
                request.headers.get("x-request-id"),
                brief.brand_id,
                brief.id,
                row["id"],
                now,
            )
    return _json(body, status=201)


# --- the app ----------------------------------------------------------------------------------


async def _keep(_conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool: transactions are closed by
    their context managers, and nothing here LISTENs, locks or changes session settings
    (asyncpg's default reset is one more round trip per request)."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=dumps, decoder=json.loads, schema="pg_catalog")


def libpq(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://`) as asyncpg takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    assert settings.database_url, "the baseline needs DATABASE_URL"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The same pool size and session settings as `api.db.create_engine`.
        async with asyncpg.create_pool(
            libpq(settings.database_url or ""),
            min_size=1,
            max_size=settings.db_pool_size + settings.db_max_overflow,
            init=_init_connection,
            reset=_keep,
            server_settings={
                "application_name": "briefboard-baseline",
                "jit": "off",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "lock_timeout": str(settings.db_lock_timeout_ms),
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
        exception_handlers={Problem: _problem},
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
