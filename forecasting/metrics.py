"""Accuracy and calibration metrics for count forecasts (pooled over backtest points; NaN actuals skipped)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecasting.data import Prepared
from forecasting.distribution import count_quantile, level_label, poisson_mad

PINBALL_QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def naive_scale(train: Prepared) -> float:
    """MASE denominator: in-sample mean |y_t - y_(same local weekday and time a week earlier)| of the history."""
    k = train.keys
    y = train.y
    day0 = int(k.day.min())
    table = np.full((int(k.day.max()) - day0 + 1, train.n_slots), np.nan)
    table[k.day - day0, k.slot] = y
    prev = np.full(len(y), np.nan)
    src = k.day - day0 - 7
    ok = src >= 0
    prev[ok] = table[src[ok], k.slot[ok]]
    d = np.abs(y - prev)
    d = d[np.isfinite(d)]
    return float(d.mean()) if len(d) else float("nan")


def pinball(y: np.ndarray, q_values: np.ndarray, q: float) -> np.ndarray:
    """Pinball (quantile) loss per point of the q-quantile forecast."""
    diff = y - q_values
    return np.maximum(q * diff, (q - 1.0) * diff)


def score_points(
    y: np.ndarray,
    mu: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    scale: np.ndarray | float | None = None,
    levels: Sequence[float] = (80.0,),
    pinball_quantiles: Sequence[float] = PINBALL_QUANTILES,
) -> dict[str, float]:
    """MAE, RMSE, MASE (needs `scale`), Poisson-floor ratio, sMAPE (%), bias, and with `alpha` the interval
    coverage per level and the mean pinball loss over `pinball_quantiles`. Points with NaN actuals are skipped.

    Floor ratio = sum |y - mu| / sum E|Y - mu| for Y ~ Poisson(mu), exact (see `poisson_mad`): 1.0 is what a
    forecast equal to the true Poisson rate would score on average.
    """
    ok = np.isfinite(y) & np.isfinite(mu)
    y, mu = y[ok], mu[ok]
    n = len(y)
    out: dict[str, float] = {"n_points": float(n)}
    if n == 0:
        return out
    err = np.abs(y - mu)
    out["mae"] = float(err.mean())
    out["rmse"] = float(np.sqrt(((y - mu) ** 2).mean()))
    out["bias"] = float((mu - y).mean())
    if scale is not None:
        sc = np.broadcast_to(np.asarray(scale, dtype=float), ok.shape)[ok]
        out["mase"] = float((err / sc).mean())
    out["floor_ratio"] = float(err.sum() / max(poisson_mad(mu).sum(), 1e-12))
    denom = y + mu
    with np.errstate(divide="ignore", invalid="ignore"):
        sm = np.where(denom > 0, 2.0 * err / denom, 0.0)
    out["smape"] = float(100.0 * sm.mean())
    if alpha is not None:
        a = np.broadcast_to(np.asarray(alpha, dtype=float), ok.shape)[ok]
        for level in levels:
            tail = (1.0 - level / 100.0) / 2.0
            lo, hi = count_quantile(tail, mu, a), count_quantile(1.0 - tail, mu, a)
            out[f"coverage_{level_label(level)}"] = float(((y >= lo) & (y <= hi)).mean())
        losses = [pinball(y, count_quantile(q, mu, a), q).mean() for q in pinball_quantiles]
        out["pinball"] = float(np.mean(losses))
    return out
