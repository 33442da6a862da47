"""Handle-time (AHT) forecast per interval: a robust weekday x hour-of-day profile with shrinkage.

Chosen method: over the last `window_weeks` of the channel's AHT history, each (local weekday, local hour) cell
takes the median of its intervals' AHT (robust to a few very long calls), shrunk toward the overall median by
`shrink` pseudo-observations: estimate = (n * cell_median + shrink * overall) / (n + shrink), so a cell with
little data stays near the overall level. Hours rather than slots: AHT varies slowly within the day and an hour
cell gathers 4x the data at 15 minutes. With fewer than `min_points` observed intervals the channel default is
used for every interval (and if there is no default, the overall median of what there is).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import InvalidHistoryError
from forecasting.grid import local_keys


@dataclass(frozen=True)
class AhtForecast:
    """AHT seconds per target interval and how it was obtained (`source`: 'history', 'default' or 'none')."""

    seconds: np.ndarray
    source: str
    note: str


def forecast_aht(
    index: pd.DatetimeIndex,
    aht_history: pd.Series | None,
    *,
    timezone: str,
    default_aht: float | None = None,
    window_weeks: float = 12.0,
    shrink: float = 10.0,
    min_points: int = 48,
) -> AhtForecast:
    """AHT per interval start in `index` from `aht_history` (seconds per interval, tz-aware, NaN = none)."""
    n = len(index)
    if default_aht is not None and not default_aht > 0:
        raise InvalidHistoryError("default AHT must be positive")
    vals = None
    if aht_history is not None and len(aht_history):
        idx = aht_history.index
        if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
            raise InvalidHistoryError("AHT history must be indexed by tz-aware interval starts")
        v = pd.to_numeric(aht_history, errors="coerce").astype(float)
        if (v[v.notna()] < 0).any():
            raise InvalidHistoryError("AHT history has negative values")
        v = v[v.notna() & (v > 0)]
        v = v[v.index >= v.index.max() - pd.Timedelta(weeks=window_weeks)] if len(v) else v
        vals = v
    if vals is None or len(vals) < min_points:
        have = 0 if vals is None else len(vals)
        if default_aht is not None:
            return AhtForecast(np.full(n, float(default_aht)), "default",
                               f"channel default AHT ({default_aht:g} s): {have} AHT intervals in history, "
                               f"{min_points} needed for a profile")
        if have:
            med = float(np.median(vals.to_numpy()))
            return AhtForecast(np.full(n, med), "history", f"median of the {have} AHT intervals in history")
        return AhtForecast(np.full(n, np.nan), "none", "no AHT history and no channel default")
    k = local_keys(vals.index, 60, timezone)
    cell = k.weekday * 24 + k.slot
    y = vals.to_numpy()
    overall = float(np.median(y))
    est = np.full(168, overall)
    order = np.argsort(cell, kind="stable")
    cs, ys = cell[order], y[order]
    bounds = np.flatnonzero(np.diff(cs)) + 1
    for grp_c, grp_y in zip(np.split(cs, bounds), np.split(ys, bounds), strict=True):
        m = len(grp_y)
        est[grp_c[0]] = (m * float(np.median(grp_y)) + shrink * overall) / (m + shrink)
    tk = local_keys(index, 60, timezone)
    return AhtForecast(est[tk.weekday * 24 + tk.slot], "history",
                       f"weekday x hour median profile of {len(y)} AHT intervals (last {window_weeks:g} weeks), "
                       f"shrunk toward the overall median {overall:.0f} s")
