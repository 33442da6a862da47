"""Forecasting library (volume, handle time, abandonment, backtesting); plain Python, never imports `app`.

Public API (see docs/forecasting.md):

- `forecast(history, start=, end=, interval_minutes=, timezone=, model="auto", levels=(80,), events=[Event(...)],
  aht_history=, default_aht=, progress=)` -> `ForecastResult` (points, quantile(q), model, why, scores).
- `backtest(history, models=[...], horizon=, interval_minutes=, n_origins=, ...)` -> `BacktestResult` (table).
- Models by name: `make_model(name)`, `model_names()`, `min_history(name)`, `model_catalog()`; each is a
  `CountModel` with `fit(history, ...)` and `predict(h)` -> `CountForecast` (mean, quantile(q), interval(level)).
- `interval_grid(start, end, interval_minutes, timezone)`: DST-correct interval starts.
- Errors: `ForecastError` > `InsufficientHistoryError`, `InvalidHistoryError`, `InvalidRequestError`,
  `UnknownModelError`.
"""

from forecasting.aht import AhtForecast, forecast_aht
from forecasting.api import ForecastResult, forecast
from forecasting.backtest import DEFAULT_BACKTEST_MODELS, BacktestResult, backtest
from forecasting.calendar import Event, SpecialDays, make_calendar
from forecasting.calibration import Dispersion
from forecasting.cleaning import find_outages
from forecasting.distribution import CountForecast, poisson_mad
from forecasting.errors import (
    ForecastError,
    InsufficientHistoryError,
    InvalidHistoryError,
    InvalidRequestError,
    UnknownModelError,
)
from forecasting.grid import VALID_INTERVALS, interval_grid
from forecasting.models import CountModel
from forecasting.registry import MODELS, make_model, min_history, model_catalog, model_names

__all__ = [
    "DEFAULT_BACKTEST_MODELS",
    "MODELS",
    "VALID_INTERVALS",
    "AhtForecast",
    "BacktestResult",
    "CountForecast",
    "CountModel",
    "Dispersion",
    "Event",
    "ForecastError",
    "ForecastResult",
    "InsufficientHistoryError",
    "InvalidHistoryError",
    "InvalidRequestError",
    "SpecialDays",
    "UnknownModelError",
    "backtest",
    "find_outages",
    "forecast",
    "forecast_aht",
    "interval_grid",
    "make_calendar",
    "make_model",
    "min_history",
    "model_catalog",
    "model_names",
    "poisson_mad",
]
