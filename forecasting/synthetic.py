"""Synthetic call histories (Poisson counts with a weekday-specific daily curve) for tests, demos and docs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import numpy as np
import pandas as pd

from forecasting.grid import interval_grid, local_keys


def daily_curve(minute_of_day: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Relative call rate by local time and weekday: night trough, day plateau, an evening bump, and a later,
    flatter morning at weekends (so a Monday morning differs from a Sunday morning). Mean about 1."""
    h = minute_of_day / 60.0
    weekend = weekday >= 5
    rise = np.where(weekend, 9.5, 7.5)
    base = 0.25 + 1.2 / (1.0 + np.exp(-(h - rise) * 1.5)) - 0.5 / (1.0 + np.exp(-(h - 23.0) * 2.0))
    evening = 0.35 * np.exp(-0.5 * ((h - 19.0) / 1.5) ** 2) * np.where(weekday >= 4, 1.6, 1.0)
    return base + evening


def synthetic_history(
    start: datetime | date | str,
    end: datetime | date | str,
    *,
    interval_minutes: int = 60,
    timezone: str = "Europe/London",
    calls_per_day: float = 400.0,
    weekday_factor: tuple[float, ...] = (1.05, 1.0, 1.0, 1.0, 1.05, 0.95, 0.85),
    day_factors: Mapping[date, float] | None = None,
    trend_per_week: float = 0.0,
    seed: int = 0,
) -> pd.Series:
    """Poisson counts per interval in [start, end) (local), indexed by tz-aware interval starts in `timezone`.

    The rate is calls_per_day x weekday factor x daily curve (normalised per weekday) x optional per-date factors
    (e.g. bank holidays at 0.7) x (1 + trend_per_week) ** weeks.
    """
    idx = interval_grid(start, end, interval_minutes, timezone)
    k = local_keys(idx, interval_minutes, timezone)
    minute = k.slot * interval_minutes
    slots = np.arange(0, 1440, interval_minutes)
    norm = np.array([daily_curve(slots.astype(float), np.full(len(slots), w)).sum() for w in range(7)])
    curve = daily_curve(minute.astype(float), k.weekday) / norm[k.weekday]
    weeks = (k.day - k.day[0]) / 7.0
    rate = calls_per_day * np.asarray(weekday_factor)[k.weekday] * curve * (1.0 + trend_per_week) ** weeks
    if day_factors:
        ref = pd.Timestamp("1970-01-01")
        for d, f in day_factors.items():
            rate = np.where(k.day == (pd.Timestamp(d) - ref).days, rate * f, rate)
    rng = np.random.default_rng(seed)
    return pd.Series(rng.poisson(rate).astype(float), index=idx, name="calls")
