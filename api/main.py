"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute
from swagger_ui_bundle import swagger_ui_path

from api import openapi
from api.db import (
    RetryLostConnection,
    WriteSlots,
    create_engine,
    create_read_sessionmaker,
    create_sessionmaker,
)
from api.edge import EdgeMiddleware
from api.embedded import database_url
from api.errors import install_error_handlers
from api.idempotency import IdempotencyMiddleware
from api.maintenance import run_forever
from api.matching.brief_index import BriefIndex
from api.matching.creator_index import CreatorIndex
from api.matching.shared import Host
from api.matching.sync import keep_fresh
from api.migrations_state import head_revisions
from api.observability import RequestContextMiddleware, configure_logging
from api.request_body import RequestBodyMiddleware
from api.routers import (
    activity,
    admin,
    applications,
    auth,
    brands,
    briefs,
    budgets,
    bulk,
    conversations,
    creators,
    deals,
    deliverables,
    events,
    matches,
    me,
    memberships,
    ops,
    reports,
    shipments,
    webhooks,
)
from api.routers.webhook_docs import install_webhook_docs
from api.services.access_cache import AccessCache, listen_forever
from api.services.webhook_dispatch import run_forever as dispatch_forever
from api.settings import Settings, get_settings

log = logging.getLogger(__name__)
# Redoc's standalone bundle, as the fastapi-offline package ships it.
REDOC_PATH = Path(fastapi_offline.__file__).parent / "static"
REDOC_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:"
)

DESCRIPTION = """
Briefboard connects brands that run influencer campaigns with creators.
Brands post **briefs**; creators **apply**; each accepted application becomes a **deal**
whose terms, deliverables and content-licensing (usage-rights) terms are versioned.

* Authenticate at `POST /v1/auth/token` (OAuth2 password flow) or with a scoped API token.
* Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.
* Lists are cursor-paginated: pass `next_cursor` back as `cursor`.
"""


async def _first_copy(copied: asyncio.Event, wait_seconds: float) -> None:
    """Wait until the match indexes hold their first copy, at most `wait_seconds`.

    Uvicorn serves a worker's socket only once its lifespan start-up is over, so a
    (re)started worker takes no request that would wait for the copy (seconds at a million
    creators): with several workers behind one port, the others serve meanwhile. Past the
    timeout (the database is down, say) the worker serves anyway and `/readyz` answers
    503 `match_indexes_warming_up` until the copy is made.
    """
    started = time.monotonic()
    try:
        await asyncio.wait_for(copied.wait(), wait_seconds)
    except TimeoutError:
        log.warning(
            "serving before the match indexes hold their first copy (waited %.0f s);"
            " /readyz answers 503 until they do",
            wait_seconds,
        )
    else:
        log.info("match indexes copied in %.1f s", time.monotonic() - started)


_heap_frozen = False


def freeze_startup_heap() -> None:
    """Move what start-up built (modules, the app, its routes and models, the first copy
    of the match indexes) out of the garbage collector's reach, once per process.

    Those objects live as long as the worker, yet every full collection walked them all:
    at ~110,000 objects a full collection took 30-130 ms on a busy core, and every request
    in flight waited for it (the p99 of a brief read at a fixed rate was 133 ms against
    the bare baseline's 5 ms). Frozen objects are still freed by reference counting; only
    cycles among them would be kept. Once per process: a test run builds many apps, and
    freezing each would keep their garbage for the run.
    """
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    with ExitStack() as stack:
        engine = create_engine(stack.enter_context(database_url(settings)), settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.read_sessionmaker = create_read_sessionmaker(engine)
        app.state.write_slots = WriteSlots(settings)
        app.state.access_cache = AccessCache()
        app.state.migration_heads = head_revisions()
        tasks = [
            asyncio.create_task(
                listen_forever(
                    app.state.access_cache,
                    engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                    ping_seconds=settings.access_listener_ping_seconds,
                    retry_seconds=settings.access_listener_retry_seconds,
                ),
                name="access listener",
            )
        ]
        copied = asyncio.Event()
        if settings.maintenance_interval_seconds > 0:
            tasks.append(
                asyncio.create_task(
                    run_forever(app.state.sessionmaker, settings), name="maintenance"
                )
            )
            tasks.append(
                asyncio.create_task(
                    keep_fresh(
                        [app.state.brief_index, app.state.creator_index],
                        app.state.sessionmaker,
                        settings.maintenance_interval_seconds,
                        copied,
                    ),
                    name="match indexes",
                )
            )
        if settings.webhooks_dispatch_interval_seconds > 0:
            tasks.append(
                asyncio.create_task(
                    dispatch_forever(app.state.sessionmaker, settings), name="webhook dispatcher"
                )
            )
        try:
            if settings.maintenance_interval_seconds > 0:
                await _first_copy(copied, settings.index_warmup_timeout_seconds)
            freeze_startup_heap()
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for index in (app.state.brief_index, app.state.creator_index):
                await index.close()
            app.state.match_host.close()
            await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    secret_problem = settings.secrets_problem()
    if secret_problem is not None:
        raise RuntimeError(secret_problem)
    if os.environ.get("BRIEFBOARD_CONFIGURE_LOGGING", "1") == "1":
        configure_logging(settings.log_level)
    app = FastAPI(
        title="Briefboard API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url="/docs/oauth2-redirect",
    )
    app.state.settings = settings
    openapi.install(app, settings)
    # The host's copies of the open briefs and of every account, for ranking briefs for
    # creators and creators for briefs: shared by the workers through the run directory.
    app.state.match_host = Host(settings.match_index_dir)
    app.state.brief_index = BriefIndex(host=app.state.match_host)
    app.state.creator_index = CreatorIndex(host=app.state.match_host, settings=settings)
    install_error_handlers(app)
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=["ETag", "Retry-After", "X-Request-ID", "Location"],
        )
    # Innermost: a GET whose pooled connection turned out dead runs once more.
    app.add_middleware(RetryLostConnection)
    # Outermost last: idempotent replays inside the body reader, the limit, the request id.
    app.add_middleware(IdempotencyMiddleware, settings=settings)
    # The body read within a time limit, JSON with no duplicate keys (inside the size limit).
    app.add_middleware(RequestBodyMiddleware, timeout=settings.body_read_timeout_seconds)
    # Request id, logs and metrics, and the body size limit. Every route, flat, for the
    # metrics' route labels (included routers match as a whole).
    label_routes: list[BaseRoute] = []
    app.add_middleware(
        RequestContextMiddleware,
        routes=lambda: [*label_routes, *app.routes],
        max_bytes=settings.max_body_bytes,
    )
    # Outermost, on every answer (replays and early refusals included): 304 for a GET
    # whose ETag the client holds, gzip above ~1 KB, the security headers.
    app.add_middleware(EdgeMiddleware)

    # The hot routers first: a request is matched against the included routers in this
    # order, and a brief read or an application walked five others before its own.
    # (No path of one router matches another's; OpenAPI lists paths sorted.)
    for module in (
        briefs,
        applications,
        ops,
        auth,
        me,
        brands,
        creators,
        matches,
        deals,
        deliverables,
        shipments,
        reports,
        admin,
        memberships,
        conversations,
        activity,
        bulk,
        budgets,
        webhooks,
        events,
    ):
        app.include_router(module.router)
        label_routes.extend(module.router.routes)

    install_webhook_docs(app)

    # Interactive docs served from the app itself: they work with no internet access.
    app.mount("/docs/static", StaticFiles(directory=str(swagger_ui_path)), name="swagger-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Briefboard API — docs",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.mount("/redoc/static", StaticFiles(directory=str(REDOC_PATH)), name="redoc-static")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url="/openapi.json",
            title="Briefboard API — reference",
            redoc_js_url="/redoc/static/redoc.standalone.js",
            redoc_favicon_url="/docs/static/favicon-32x32.png",
            with_google_fonts=False,
        )
        # Redoc's footer loads its logo from a CDN: the page may only load from here.
        page.headers["Content-Security-Policy"] = REDOC_CSP
        return page

    return app
