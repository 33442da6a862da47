"""The FastAPI application: `app.main:app`, or `create_app(settings)` for tests and embedding."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app import __version__
from app.audit import AuditMiddleware
from app.auth import KeyCache
from app.cache import ResponseCache
from app.db import make_engine, session_factory
from app.errors import install_error_handlers, use_problem_media_type
from app.handlers import default_handlers
from app.jobs import Handler, JobRunner
from app.limits import BodyLimitMiddleware
from app.routers import channels, forecasts, health, history, jobs, keys, rosters, staffing
from app.settings import Settings, get_settings

DESCRIPTION = """
Forecasts 999 and 101 demand per interval and turns it into Police Control Room Operator (PCRO) requirements
and rosters.

**Times** are ISO 8601 with a UTC offset. Stored in UTC, returned in the control room's local time
(`FCR_TIMEZONE`, default Europe/London), so daylight-saving days have 92 or 100 quarter-hours.

**Errors** are `application/problem+json` (RFC 9457). A rejected batch lists every problem as
`{row, field, message}` and writes nothing.

**Demo data**: the bundled 999 history is the Montgomery County, PA 911 call series
("Montgomery County, PA 911 calls, montcoalert.org", ODbL/DbCL); the 101 history is derived from it
(see the README).
"""


def create_app(settings: Settings | None = None, *, handlers: dict[str, Handler] | None = None) -> FastAPI:
    """Build the app around one engine and one job runner, both stopped when the app shuts down."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    factory = session_factory(engine)
    runner = JobRunner(
        factory,
        {**default_handlers(), **(handlers or {})},
        concurrency=settings.job_concurrency,
        stale_seconds=settings.job_stale_seconds,
        max_attempts=settings.job_max_attempts,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.run_jobs:
            runner.start()
        try:
            yield
        finally:
            runner.stop()
            engine.dispose()

    app = FastAPI(
        title="fcr-planner",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "MIT"},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = factory
    app.state.jobs = runner
    app.state.key_cache = KeyCache(settings.auth_cache_seconds)
    app.state.forecast_cache = ResponseCache(256)
    install_error_handlers(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = use_problem_media_type(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(health.router)
    app.include_router(channels.router)
    app.include_router(history.router)
    app.include_router(jobs.router)
    app.include_router(staffing.router)
    app.include_router(forecasts.router)
    app.include_router(rosters.router)
    app.include_router(keys.router)
    app.add_middleware(AuditMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    return app


app = create_app()
