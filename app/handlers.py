"""The job kinds this service runs, each a function of a JobContext returning a JSON-serialisable result."""

from __future__ import annotations

from app.jobs import Handler


def default_handlers() -> dict[str, Handler]:
    """Handlers registered in every app (forecasts, backtests and roster solves add theirs here)."""
    return {}
