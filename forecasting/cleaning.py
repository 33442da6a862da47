"""History cleaning: find feed outages recorded as runs of zeros, so models treat them as missing, not as lulls."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.grid import local_keys


def find_outages(
    series: pd.Series, interval_minutes: int, timezone: str, *, min_minutes: int = 60, max_probability: float = 1e-6
) -> np.ndarray:
    """Boolean mask of intervals in zero-runs that cannot be real quiet spells.

    A run of at least `min_minutes` of zeros is an outage when, under Poisson counts at the usual rate for those
    weekday/time slots (the mean over the history), all zeros would have probability below `max_probability`
    (expected calls over the run above -ln p = 13.8). A line that is normally quiet then (a 101 line overnight) is
    left alone. `series` must be on its complete regular grid (NaN = missing).
    """
    y = series.to_numpy(dtype=float)
    mask = np.zeros(len(y), dtype=bool)
    zero = y == 0
    if not zero.any():
        return mask
    k = local_keys(series.index, interval_minutes, timezone)
    n_slots = 1440 // interval_minutes
    obs = ~np.isnan(y)
    cell = k.weekday * n_slots + k.slot
    s = np.bincount(cell[obs], weights=y[obs], minlength=7 * n_slots)
    c = np.bincount(cell[obs], minlength=7 * n_slots)
    rate = np.where(c > 0, s / np.maximum(c, 1), 0.0)[cell]
    min_len = max(1, min_minutes // interval_minutes)
    threshold = -np.log(max_probability)
    edges = np.diff(np.concatenate([[0], zero.astype(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if b - a >= min_len and rate[a:b].sum() > threshold:
            mask[a:b] = True
    return mask
