"""Rolling-origin backtest of any registered models on one history: the same folds, metrics and timing for all.

Used by `POST /v1/channels/{channel}/backtest` and `bench/forecast.py`. Each origin is a local midnight; the
newest leaves `horizon` of history after it and the others are `step` apart before it. At each origin every model
is fitted on the history before it only (its own inner calibration, and `auto`'s inner selection, see nothing
later) and forecasts the next `horizon`; errors are pooled over all origins.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from forecasting.calendar import Event, SpecialDays, make_calendar
from forecasting.calibration import origins_for
from forecasting.cleaning import find_outages
from forecasting.distribution import check_level, level_label
from forecasting.errors import InsufficientHistoryError, InvalidRequestError
from forecasting.grid import interval_grid
from forecasting.metrics import naive_scale, score_points
from forecasting.models import DEFAULT_HORIZON, Progress, as_prepared
from forecasting.registry import make_model

DEFAULT_BACKTEST_MODELS = ("seasonal_naive", "prophet_default", "prophet", "profile", "ets", "mstl", "auto")


@dataclass
class BacktestResult:
    """`table`: one row per model (pooled metrics); `per_origin`: one row per (origin, model); `choices`:
    what `auto` picked at each origin."""

    table: pd.DataFrame
    per_origin: pd.DataFrame
    origins: list[pd.Timestamp]
    horizon: timedelta
    interval_minutes: int
    levels: tuple[float, ...]
    choices: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    forecasts: dict[str, list[tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]]] = field(
        default_factory=dict, repr=False)

    def to_markdown(self, columns: Sequence[str] | None = None, floatfmt: str = "{:.3f}") -> str:
        """The table as GitHub Markdown."""
        return markdown_table(self.table.reset_index(), columns, floatfmt)

    def to_records(self) -> list[dict]:
        """The table as JSON-ready rows."""
        t = self.table.reset_index()
        return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                for r in t.to_dict(orient="records")]


def markdown_table(df: pd.DataFrame, columns: Sequence[str] | None = None, floatfmt: str = "{:.3f}") -> str:
    """A DataFrame as a GitHub Markdown table (numbers right-aligned)."""
    cols = list(columns) if columns is not None else list(df.columns)
    num = [pd.api.types.is_numeric_dtype(df[c]) for c in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---:" if n else "---" for n in num) + "|"]
    for _, row in df[cols].iterrows():
        cells = []
        for c, n in zip(cols, num, strict=True):
            v = row[c]
            cells.append(floatfmt.format(v) if n and isinstance(v, float) and np.isfinite(v) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def backtest(
    history: pd.Series,
    *,
    models: Sequence[str] = DEFAULT_BACKTEST_MODELS,
    horizon: timedelta = DEFAULT_HORIZON,
    interval_minutes: int | None = None,
    timezone: str = "Europe/London",
    n_origins: int = 8,
    step: timedelta | None = None,
    levels: Sequence[float] = (80.0,),
    events: Sequence[Event] = (),
    holiday_country: str | None = "GB",
    holiday_subdiv: str | None = "ENG",
    calendar: SpecialDays | None = None,
    actuals: pd.Series | None = None,
    mask_outages: bool = True,
    calibration_origins: int = 2,
    n_jobs: int = 2,
    progress: Progress | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of `models` on `history`: pooled MAE, MASE, floor ratio, sMAPE, coverage, pinball,
    seconds per fit+predict, per model (see the module docstring).

    `actuals` (same index convention) are the values scored when they differ from what models train on (e.g.
    censored hours: train on a filled series, score only the recorded hours); default: `history`. With
    `mask_outages`, zero runs that cannot be real are treated as missing in both. `step` defaults to the horizon,
    shortened so that `n_origins` fit in the history. Holidays as in `forecast` (or pass a `calendar`).
    """
    levels = tuple(check_level(lv) for lv in levels)
    if n_origins < 1:
        raise InvalidRequestError("n_origins must be at least 1")
    names = list(dict.fromkeys(models))
    protos = {n: make_model(n) for n in names}
    if calendar is None:
        calendar = make_calendar(country=holiday_country, subdiv=holiday_subdiv)
    data = as_prepared(history, interval_minutes, timezone, calendar, events)
    notes: list[str] = []
    truth = data.series if actuals is None else actuals.astype(float).tz_convert(data.timezone).reindex(data.index)
    if mask_outages:
        out = find_outages(data.series, data.interval_minutes, data.timezone)
        if out.any():
            data = type(data)(data.series.mask(out), data.interval_minutes, data.timezone, data.calendar)
            truth = truth.mask(out)
            notes.append(f"{int(out.sum())} intervals in zero runs treated as missing (feed outage)")
    m = data.interval_minutes
    need = max(p.required_history(m) for p in protos.values())
    span = data.observed_span()
    room = span - horizon - need
    if room < timedelta(0):
        raise InsufficientHistoryError("backtest", need + horizon, span,
                                       f"the most demanding model needs {need.days} days before the first origin")
    if step is None:
        step = horizon if n_origins == 1 else min(horizon, timedelta(days=max(1, room.days // (n_origins - 1))))
    origins = [o for o in origins_for(data.end, data.timezone, horizon, n_origins, step)
               if data.head(o).observed_span() >= need]
    origins = sorted(origins)
    if len(origins) < n_origins:
        notes.append(f"only {len(origins)} origin(s) fit in the history")
    rows = []
    pooled: dict[str, list[tuple[np.ndarray, ...]]] = {n: [] for n in names}
    choices: dict[str, list[str]] = {}
    forecasts: dict[str, list[tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]]] = {n: [] for n in names}
    total = len(origins) * len(names)
    done = 0
    for o in origins:
        train = data.head(o)
        idx = interval_grid(o, min(o + pd.Timedelta(horizon), data.end), m, data.timezone)
        y = truth.reindex(idx).to_numpy()
        scale = naive_scale(train)
        for n in names:
            model = protos[n].clone()
            t0 = time.perf_counter()
            model.fit(train, horizon=horizon, calibration_origins=calibration_origins, n_jobs=n_jobs)
            fc = model.predict(idx)
            secs = time.perf_counter() - t0
            r = score_points(y, fc.mean, fc.alpha, scale=scale, levels=levels)
            r.update(model=n, origin=o, seconds=secs)
            if hasattr(model, "choice"):
                r["choice"] = model.choice
                choices.setdefault(n, []).append(model.choice)
            rows.append(r)
            pooled[n].append((y, fc.mean, fc.alpha, np.full(len(y), scale), np.array([secs])))
            forecasts[n].append((idx, y, fc.mean))
            done += 1
            if progress:
                progress(done / total, f"origin {o.date()}: {n}")
    table_rows = {}
    for n in names:
        parts = pooled[n]
        y = np.concatenate([p[0] for p in parts])
        mu = np.concatenate([p[1] for p in parts])
        al = np.concatenate([p[2] for p in parts])
        sc = np.concatenate([p[3] for p in parts])
        r = score_points(y, mu, al, scale=sc, levels=levels)
        r["seconds"] = float(np.mean([p[4][0] for p in parts]))
        r["n_origins"] = float(len(parts))
        table_rows[n] = r
    table = pd.DataFrame(table_rows).T
    table.index.name = "model"
    cols = ["mae", "mase", "floor_ratio", "smape", *[f"coverage_{level_label(lv)}" for lv in levels], "pinball",
            "seconds", "rmse", "bias", "n_points", "n_origins"]
    table = table[[c for c in cols if c in table.columns]]
    return BacktestResult(table, pd.DataFrame(rows), origins, horizon, m, levels, choices, notes, forecasts)
