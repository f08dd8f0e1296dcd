"""Operations: liveness, readiness, metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from api.errors import NotFound, ServiceUnavailable, Unauthorized, problem_responses
from api.migrations_state import current_revisions
from api.observability import METRICS_CONTENT_TYPE, metrics_payload

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", operation_id="healthz", summary="The process is alive")
async def healthz() -> Health:
    """Answers 200 while the process runs; it does not touch the database (see `/readyz`)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="The database answers, its schema is at head, the match indexes are copied",
    description=(
        "Ready once the database answers at the latest migration and, on a worker that"
        " keeps its in-memory match indexes fresh in the background, once both hold their"
        " first copy (at a million creators that takes seconds after start-up): until then"
        " match requests would wait for it."
    ),
    responses=problem_responses(503),
)
async def readyz(request: Request) -> Health:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            current = await current_revisions(conn)
    except Exception:  # any failure to reach or read the database means "not ready"
        raise ServiceUnavailable(
            "the database is unreachable", code="database_unavailable"
        ) from None
    if current != request.app.state.migration_heads:
        raise ServiceUnavailable("the schema is not at head", code="migrations_pending")
    state = request.app.state
    if state.settings.maintenance_interval_seconds > 0 and not all(
        index.ready for index in (state.brief_index, state.creator_index)
    ):
        raise ServiceUnavailable(
            "the match indexes are still being copied", code="match_indexes_warming_up"
        )
    return Health(status="ready")


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    description=(
        "Open unless the operator sets `METRICS_TOKEN` (then `Authorization: Bearer <token>`"
        " is required) or `METRICS_PORT` (then metrics are served on that port only, and"
        " this path answers 404)."
    ),
    response_class=Response,
    responses={200: {"content": {METRICS_CONTENT_TYPE: {}}}, **problem_responses(401, 404)},
)
async def metrics(request: Request) -> Response:
    """Prometheus text format: request counts and latencies by route, and more. With several
    workers the answer sums them all."""
    settings = request.app.state.settings
    if settings.metrics_port is not None:
        raise NotFound("metrics are served on their own port")
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise Unauthorized("metrics need the metrics token")
    return Response(metrics_payload(), media_type=METRICS_CONTENT_TYPE)
