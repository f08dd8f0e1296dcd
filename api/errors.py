"""Domain errors and their one mapping to RFC 9457 problem details."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

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


class ServiceUnavailable(AppError):
    status_code = 503
    code = "unavailable"


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
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
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
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


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        request, exc.status_code, exc.code, exc.detail, errors=exc.errors, headers=exc.headers
    )


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
    """Every method of the path as the OpenAPI document lists it. FastAPI makes one route per
    method, and Starlette's 405 names only the first route's methods."""
    methods: set[str] = set()
    for template, item in request.app.openapi()["paths"].items():
        pattern = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^/}]+\})", template)
        )
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in item if method in _OPERATION_METHODS}
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


# SQLSTATE class 22 (data exception): out-of-range numbers, NUL bytes, bad encodings. The
# schemas reject these first; this is the net under them.
async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    sqlstate = str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")
    if sqlstate.startswith("22"):
        return problem_response(request, 422, "invalid_value", "a value is out of range or invalid")
    if sqlstate == "57014":
        return problem_response(request, 503, "timeout", "the request took too long")
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(request, 500, "internal_error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    app.add_exception_handler(Exception, _unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting a route's problem answers."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out
