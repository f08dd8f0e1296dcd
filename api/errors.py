"""Domain errors and their one mapping to RFC 9457 problem details."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import CONNECTION_LOST, will_retry

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "https://briefboard.dev/problems/"


class FieldError(BaseModel):
    """One invalid input: where it is, what is wrong, and a stable code."""

    loc: list[str | int] = Field(examples=[["body", "email"]])
    msg: str = Field(examples=["value is not a valid email address"])
    type: str = Field(examples=["value_error"])


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is stable and meant for programs."""

    type: str = Field(examples=[PROBLEM_TYPE_PREFIX + "not_found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["brief not found"])
    code: str = Field(examples=["not_found"])
    instance: str | None = Field(default=None, examples=["/v1/briefs/7f1c..."])
    request_id: str | None = None
    errors: list[FieldError] | None = None


class AppError(Exception):
    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = list(errors) if errors is not None else None
        self.headers = headers


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"

    def __init__(self, detail: str = "not authenticated", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class InvalidState(Conflict):
    code = "invalid_state"


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(AppError):
    status_code = 422
    code = "validation_error"


class Ineligible(Unprocessable):
    code = "ineligible"


class PreconditionRequired(AppError):
    status_code = 428
    code = "precondition_required"


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kwargs)


class TokenError(AppError):
    """An RFC 6749 section 5.2 error of the token endpoint: `error` (and `error_description`)
    beside the problem members, so OAuth2 client libraries and problem readers both understand
    it. 400 unless the status says otherwise (429 while sign-ins are throttled)."""

    status_code = 400

    def __init__(
        self, error: str, detail: str, *, status_code: int | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("code", error)
        super().__init__(detail, **kwargs)
        self.error = error
        if status_code is not None:
            self.status_code = status_code


class TokenProblem(Problem):
    """A problem from the token endpoint, with its RFC 6749 error members."""

    error: str = Field(examples=["invalid_grant"])
    error_description: str = Field(examples=["wrong email or password"])


class ServiceUnavailable(AppError):
    status_code = 503
    code = "unavailable"


# How long a client should wait before retrying a 503 (or a 409 on a locked row): outages
# this app rides out (a restart, a failover, a full pool) last seconds.
RETRY_AFTER_SECONDS = 2

# SQLSTATEs meaning "the database cannot serve this now": class 08 (connection exceptions)
# and 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now: starting up or
# shutting down). Class 53 (insufficient resources: too many connections, out of memory or
# disk) is the server refusing load.
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03")
# lock_not_available: a row stayed locked longer than `lock_timeout` (settings).
_LOCK_NOT_AVAILABLE = "55P03"
_QUERY_CANCELED = "57014"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps: DBAPIError -> adapter error -> asyncpg error."""
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 5:
        out.append(seen)
        seen = getattr(seen, "orig", None) or seen.__cause__
    return out


def _sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error ("" if none)."""
    for link in _chain(exc):
        state = getattr(link, "sqlstate", None)
        if state:
            return str(state)
    return ""


def is_database_unavailable(exc: BaseException) -> bool:
    """The database cannot serve now: down, restarting, unreachable, or no pooled
    connection came free in time. Retrying later will do; nothing about the request is wrong."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = _sqlstate(exc)
    if state.startswith(_UNAVAILABLE_CLASSES) or state in _UNAVAILABLE_STATES:
        return True
    # Connecting failed below the protocol (refused, reset, timed out): asyncpg raises the
    # socket's OSError (TimeoutError is one), which SQLAlchemy's pool passes on as it is.
    # Only when raised in the driver: another OSError (a DNS lookup, a file) is a 500.
    return any(isinstance(link, OSError) and _raised_by_driver(link) for link in _chain(exc))


def _raised_by_driver(exc: BaseException) -> bool:
    """The exception passed through asyncpg's or SQLAlchemy's code."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("asyncpg", "sqlalchemy")):
            return True
        tb = tb.tb_next
    return False


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_TYPE_PREFIX + code,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True) | dict(extra or {}),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_of(exc: AppError) -> Problem:
    """The problem document of one error, for answers that carry several (bulk results)."""
    return Problem(
        type=PROBLEM_TYPE_PREFIX + exc.code,
        title=HTTPStatus(exc.status_code).phrase,
        status=exc.status_code,
        detail=exc.detail,
        code=exc.code,
        errors=exc.errors,
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = [part if isinstance(part, int) else str(part) for part in err.get("loc", ())]
        # The message never echoes the input: it may be huge or hold secrets.
        out.append(FieldError(loc=loc, msg=str(err.get("msg", "invalid")), type=err["type"]))
    return out


def app_error_response(request: Request, exc: AppError) -> JSONResponse:
    """The problem answer for a domain error."""
    extra = None
    if isinstance(exc, TokenError):
        extra = {"error": exc.error, "error_description": exc.detail}
    return problem_response(
        request,
        exc.status_code,
        exc.code,
        exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=extra,
    )


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if exc.errors() and all(err.get("type") == "json_invalid" for err in exc.errors()):
        # Not JSON at all is a syntax error (400); JSON of the wrong shape is a 422.
        return problem_response(request, 400, "malformed_json", "the body is not valid JSON")
    return problem_response(
        request, 422, "validation_error", "the request is invalid", errors=_field_errors(exc)
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404:
        detail = "no such resource"
    headers = exc.headers
    allowed = _allowed_methods(request) if exc.status_code == 405 else None
    if allowed:
        headers = {**(headers or {}), "Allow": allowed}
    return problem_response(request, exc.status_code, code, detail, headers=headers)


def _allowed_methods(request: Request) -> str | None:
    """Every documented method of the routes this path reaches. FastAPI makes one route per
    method, and Starlette's 405 names only the first route's methods. The routes themselves
    are asked (not the document's templates), so a typed parameter (`{message_id:uuid}`)
    does not claim a sibling path such as `…/messages/read`."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        documented = getattr(route, "include_in_schema", False)
        if documented and regex is not None and regex.match(request.url.path):
            methods |= {m for m in route.methods or () if m.lower() in _OPERATION_METHODS}
    return ", ".join(sorted(methods)) if methods else None


_OPERATION_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # The one place a unique violation becomes a Conflict; services may pre-empt it with a
    # clearer code, but a race that slips past them still answers 409, not 500.
    assert isinstance(exc, IntegrityError)
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate == "23505":
        return problem_response(request, 409, "conflict", "the resource already exists")
    if sqlstate == "23503":
        return problem_response(request, 409, "conflict", "a referenced resource does not exist")
    log.warning("integrity error: %s", sqlstate)
    return problem_response(request, 422, "validation_error", "the data violates a constraint")


def _retry_later() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def unexpected_error_response(request: Request, exc: BaseException) -> JSONResponse:
    """The answer to an exception no handler took: 503 when the database cannot serve
    (one warning line, no traceback: an outage fails every request alike), else a 500 that
    reveals nothing (one error line with the traceback). Used by the handlers below and by
    `RequestContextMiddleware`, which catches what escapes the middlewares (Starlette's
    own last resort re-raises to the server, which then logs a plain-text traceback and
    closes the client's connection)."""
    if is_database_unavailable(exc):
        if isinstance(exc, PoolTimeoutError):
            log.warning("no database connection came free in time")
            return problem_response(
                request,
                503,
                "database_busy",
                "the service is overloaded; retry shortly",
                headers=_retry_later(),
            )
        if isinstance(exc, DBAPIError) and exc.connection_invalidated and will_retry(request):
            # The GET runs again on a fresh connection (`RetryLostConnection`); a second
            # failure is logged, as one failed request is one line.
            setattr(request.state, CONNECTION_LOST, True)
        else:
            log.warning("database unavailable: %s (%s)", type(exc).__name__, _sqlstate(exc) or "-")
        return problem_response(
            request,
            503,
            "database_unavailable",
            "the database is unavailable; retry shortly",
            headers=_retry_later(),
        )
    log.error("unhandled error", exc_info=exc)
    return problem_response(request, 500, "internal_error", "an unexpected error occurred")


# SQLSTATE class 22 (data exception): out-of-range numbers, NUL bytes, bad encodings. The
# schemas reject these first; this is the net under them.
async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    sqlstate = _sqlstate(exc)
    if sqlstate.startswith("22"):
        return problem_response(request, 422, "invalid_value", "a value is out of range or invalid")
    if sqlstate == _QUERY_CANCELED:
        return problem_response(request, 503, "timeout", "the request took too long")
    if sqlstate == _LOCK_NOT_AVAILABLE:
        log.warning("a row stayed locked past lock_timeout")
        return problem_response(
            request,
            409,
            "resource_locked",
            "another request is changing this resource; retry shortly",
            headers=_retry_later(),
        )
    return unexpected_error_response(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return unexpected_error_response(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    # Unavailability that is no DBAPIError (a pool timeout, a refused connection) is
    # answered where it is raised; anything else escaping the routes is caught by
    # `RequestContextMiddleware` (`unexpected_error_response`), not by Starlette's
    # outermost handler, which would re-raise it to the server.
    app.add_exception_handler(PoolTimeoutError, _unexpected)
    app.add_exception_handler(OSError, _unexpected)


def problem_responses(
    *statuses: int, model: type[Problem] = Problem
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting a route's problem answers."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {
            "model": model,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": ref}},
        }
    return out
