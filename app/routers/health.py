"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.errors import problem_response
from app.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and migrated to head")
def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the newest migration, else 503 saying which."""
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(engine)
    except Exception as exc:  # any driver error means "not ready", reported, never a 500
        return problem_response(503, f"database unreachable: {type(exc).__name__}")
    head = head_revision()
    if current != head:
        return problem_response(503, f"database at migration {current}, code expects {head}: run fcr-planner migrate")
    return JSONResponse({"status": "ready", "migration": current})
