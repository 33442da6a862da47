"""`forecast()`: the one call the web app makes for `POST /v1/forecasts`, returning a `ForecastResult`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.aht import forecast_aht
from forecasting.calendar import Event, SpecialDays, make_calendar
from forecasting.calibration import Dispersion
from forecasting.cleaning import find_outages
from forecasting.data import Prepared
from forecasting.distribution import CountForecast, check_level
from forecasting.errors import InvalidRequestError
from forecasting.grid import check_interval, check_timezone, interval_grid, local_keys
from forecasting.models import Progress, infer_interval
from forecasting.registry import make_model

TimeLike = datetime | date | str | pd.Timestamp


def default_jobs() -> int:
    """Worker threads for backtests: at most 2 (the target machine has 2 cores)."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass
class ForecastResult:
    """A forecast: per-interval points with count distributions, AHT and events, plus how the model was chosen.

    `points` columns: interval_start (tz-aware, in `timezone`), calls (mean), lower_<level>/upper_<level> for each
    requested level, aht_seconds, events (names of the special days on that point's local day).
    `quantile(q)` gives calls at any quantile (e.g. to staff at the 90th percentile rather than the mean).
    `scores` is the backtest table that chose the model (one row per candidate, or the model's own row).
    """

    model: str
    requested_model: str
    why: str
    scores: pd.DataFrame
    points: pd.DataFrame
    distribution: CountForecast
    interval_minutes: int
    timezone: str
    levels: tuple[float, ...]
    dispersion: Dispersion
    history_end: pd.Timestamp
    aht_source: str = ""
    notes: list[str] = field(default_factory=list)

    def quantile(self, q: float, *, discrete: bool = False) -> pd.Series:
        """Calls per interval at quantile q (0 < q < 1), indexed by interval start."""
        return self.distribution.quantile(q, discrete=discrete)

    def interval(self, level: float) -> tuple[pd.Series, pd.Series]:
        """(lower, upper) calls per interval for a central interval at `level` percent (any level)."""
        return self.distribution.interval(level)

    def events_by_day(self) -> dict[date, list[str]]:
        """Special days in the forecast period: local date -> names."""
        out: dict[date, list[str]] = {}
        for ts, ev in zip(self.points["interval_start"], self.points["events"], strict=True):
            if ev:
                out.setdefault(ts.date(), list(ev))
        return out

    def scores_records(self) -> list[dict[str, Any]]:
        """Backtest scores as JSON-ready rows (candidate, mae, mase, floor_ratio, smape, coverage_80, ...)."""
        if self.scores.empty:
            return []
        t = self.scores.reset_index()
        return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                for r in t.to_dict(orient="records")]

    def to_records(self) -> list[dict[str, Any]]:
        """Points as JSON-ready dicts (interval_start as ISO 8601 with the local offset; NaN -> None)."""
        out = []
        cols = [c for c in self.points.columns if c not in ("interval_start", "events")]
        for row in self.points.itertuples(index=False):
            d = row._asdict()
            rec: dict[str, Any] = {"interval_start": d["interval_start"].isoformat()}
            for c in cols:
                v = float(d[c])
                rec[c] = v if np.isfinite(v) else None
            rec["events"] = list(d["events"])
            out.append(rec)
        return out


def _progress_span(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    if progress is None:
        return None

    def inner(frac: float, msg: str) -> None:
        progress(lo + (hi - lo) * min(max(frac, 0.0), 1.0), msg)

    return inner


def forecast(
    history: pd.Series,
    *,
    start: TimeLike,
    end: TimeLike,
    interval_minutes: int | None = None,
    timezone: str = "Europe/London",
    model: str = "auto",
    levels: Sequence[float] = (80.0,),
    events: Sequence[Event] = (),
    holiday_country: str | None = "GB",
    holiday_subdiv: str | None = "ENG",
    calendar: SpecialDays | None = None,
    aht_history: pd.Series | None = None,
    default_aht: float | None = None,
    mask_outages: bool = True,
    backtest_origins: int = 3,
    n_jobs: int | None = None,
    progress: Progress | None = None,
) -> ForecastResult:
    """Forecast calls per interval in [start, end) (local times if naive) from a count history.

    `history`: counts indexed by tz-aware interval starts on the `interval_minutes` grid (NaN or absent rows =
    missing); history at or after `start` is ignored, so a past period gives an honest out-of-sample forecast.
    `model`: a registry name (`auto` chooses by backtest). `levels`: central interval levels in percent.
    `events`: user special days; public holidays come from `holiday_country`/`holiday_subdiv` (England and Wales
    by default; None for none), or pass a whole `calendar`. `aht_history` (seconds per interval) gives the AHT
    profile, else `default_aht`. `progress(fraction, message)` is called as work advances (0.0 first, 1.0 last).
    Raises InsufficientHistoryError, InvalidHistoryError, InvalidRequestError, UnknownModelError.
    """
    check_timezone(timezone)
    levels = tuple(check_level(lv) for lv in levels)
    if interval_minutes is None:
        interval_minutes = infer_interval(history.index)
    check_interval(interval_minutes)
    target = interval_grid(start, end, interval_minutes, timezone)
    if len(target) > 400 * 1440 // interval_minutes:
        raise InvalidRequestError("forecast period is longer than 400 days")
    n_jobs = default_jobs() if n_jobs is None else n_jobs
    mdl = make_model(model)
    if progress:
        progress(0.0, "preparing history")
    notes: list[str] = []
    cal = (calendar.with_events(events) if calendar is not None
           else make_calendar(events, country=holiday_country, subdiv=holiday_subdiv))
    if isinstance(history.index, pd.DatetimeIndex) and history.index.tz is not None:
        later = history.index >= target[0]
        if later.any():
            history = history[~later]
            notes.append(f"{int(later.sum())} history intervals at or after the forecast start were ignored")
    data = Prepared.from_history(history, interval_minutes, timezone, cal)
    if mask_outages:
        out = find_outages(data.series, interval_minutes, timezone)
        if out.any():
            data = Prepared(data.series.mask(out), interval_minutes, timezone, cal)
            notes.append(f"{int(out.sum())} intervals in runs of zeros treated as missing (feed outage)")
    horizon = max(target[-1] + pd.Timedelta(minutes=interval_minutes) - data.end, pd.Timedelta(days=1))
    horizon_td = timedelta(days=float(np.ceil(horizon / pd.Timedelta(days=1))))
    mdl.fit(data, horizon=horizon_td, calibration_origins=backtest_origins, n_jobs=n_jobs,
            progress=_progress_span(progress, 0.02, 0.95))
    dist = mdl.predict(target)
    points = dist.to_frame(levels)
    aht = forecast_aht(target, aht_history, timezone=timezone, default_aht=default_aht)
    points["aht_seconds"] = aht.seconds
    keys = local_keys(target, interval_minutes, timezone)
    special = data.special_days(keys.day)
    points["events"] = [tuple(special.get(int(d), ())) for d in keys.day]
    points = points.reset_index(names="interval_start")
    chosen = getattr(mdl, "choice", "") or mdl.name
    if progress:
        progress(1.0, "done")
    assert mdl.dispersion is not None
    notes.append(f"intervals: negative binomial, dispersion {mdl.dispersion.a:.4f} + {mdl.dispersion.b:.5f} per day "
                 f"ahead ({mdl.dispersion.source})")
    notes.append(aht.note)
    return ForecastResult(
        model=chosen, requested_model=model, why=mdl.why, scores=mdl.scores, points=points, distribution=dist,
        interval_minutes=interval_minutes, timezone=timezone, levels=levels, dispersion=mdl.dispersion,
        history_end=data.end, aht_source=aht.source, notes=notes,
    )

