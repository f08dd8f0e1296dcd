"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from api.db import create_engine, create_read_sessionmaker, create_sessionmaker
from api.embedded import database_url
from api.errors import install_error_handlers
from api.idempotency import IdempotencyMiddleware
from api.maintenance import run_forever
from api.matching.brief_index import BriefIndex
from api.matching.creator_index import CreatorIndex
from api.matching.sync import keep_fresh
from api.migrations_state import head_revisions
from api.observability import BodyLimitMiddleware, RequestContextMiddleware, configure_logging
from api.routers import (
    admin,
    applications,
    auth,
    brands,
    briefs,
    creators,
    deals,
    deliverables,
    matches,
    me,
    ops,
    reports,
    shipments,
)
from api.settings import Settings, get_settings

DESCRIPTION = """
Briefboard connects brands that run influencer campaigns with creators.
Brands post **briefs**; creators **apply**; each accepted application becomes a **deal**
whose terms, deliverables and content-licensing (usage-rights) terms are versioned.

* Authenticate at `POST /v1/auth/token` (OAuth2 password flow) or with a scoped API token.
* Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.
* Lists are cursor-paginated: pass `next_cursor` back as `cursor`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    with ExitStack() as stack:
        engine = create_engine(stack.enter_context(database_url(settings)), settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.read_sessionmaker = create_read_sessionmaker(engine)
        app.state.migration_heads = head_revisions()
        tasks = []
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
                    ),
                    name="match indexes",
                )
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
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
    # This worker's copies of the open briefs and of every account, for ranking briefs for
    # creators and creators for briefs.
    app.state.brief_index = BriefIndex()
    app.state.creator_index = CreatorIndex()
    install_error_handlers(app)
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=["ETag", "Retry-After", "X-Request-ID", "Location"],
        )
    # Outermost last: request id and logs, then the body limit, then idempotent replays.
    app.add_middleware(IdempotencyMiddleware, settings=settings)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)

    for module in (
        ops,
        auth,
        me,
        brands,
        creators,
        briefs,
        applications,
        matches,
        deals,
        deliverables,
        shipments,
        reports,
        admin,
    ):
        app.include_router(module.router)

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

    return app
