"""The job kinds this service runs, each a function of a JobContext returning a JSON-serialisable result."""

from __future__ import annotations

from app.jobs import Handler
from app.services.forecasts import run_backtest, run_forecast
from app.services.rosters import run_roster


def default_handlers() -> dict[str, Handler]:
    """Handlers registered in every app."""
    return {"forecast": run_forecast, "backtest": run_backtest, "roster": run_roster}
