"""Rolling-origin machinery shared by `auto`, dispersion calibration and `backtest`: origins on local midnights,
and the negative-binomial dispersion alpha(h) = a + b*h (h in days ahead) fitted to out-of-sample errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from forecasting.data import Prepared
from forecasting.grid import interval_grid


@dataclass(frozen=True)
class Dispersion:
    """NB2 dispersion growing linearly with the horizon: alpha(h) = a + b * h_days, a, b >= 0.

    The variance of a count is mu + alpha mu^2: the Poisson part plus extra variance from what no model
    foresees (weather, incidents) and from the mean drifting further from the forecast the further ahead it is.
    """

    a: float
    b: float
    source: str = "backtest"

    def alpha(self, horizon_days: np.ndarray) -> np.ndarray:
        """Dispersion per point from its distance ahead of the end of history, in days."""
        return self.a + self.b * np.maximum(np.asarray(horizon_days, dtype=float), 0.0)


# Smallest growth per day: intervals must never narrow with horizon even when a short backtest cannot see it.
MIN_GROWTH_PER_DAY = 2e-4


def nb_loglik(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Log-likelihood of counts y under NB2(mu, alpha), elementwise (alpha > 0)."""
    r = 1.0 / alpha
    mu = np.maximum(mu, 1e-9)
    return (special.gammaln(y + r) - special.gammaln(r) - special.gammaln(y + 1.0)
            + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))


def fit_dispersion(y: np.ndarray, mu: np.ndarray, horizon_days: np.ndarray, *, source: str = "backtest") -> Dispersion:
    """Maximum-likelihood a, b of alpha(h) = a + b*h for out-of-sample counts y with forecast means mu."""
    ok = np.isfinite(y) & np.isfinite(mu) & (mu > 0)
    y, mu, h = y[ok], mu[ok], np.maximum(horizon_days[ok], 0.0)
    if len(y) < 20:
        return Dispersion(0.02, 0.002, source=f"{source} (too few points: default)")

    def nll(theta: np.ndarray) -> float:
        alpha = np.maximum(theta[0] + theta[1] * h, 1e-6)
        return -float(nb_loglik(y, mu, alpha).mean())

    best = None
    for a0 in (0.01, 0.05, 0.2):
        res = optimize.minimize(nll, np.array([a0, 0.001]), method="L-BFGS-B", bounds=[(1e-6, 5.0), (0.0, 0.5)])
        if best is None or res.fun < best.fun:
            best = res
    a, b = (float(v) for v in best.x)
    b = max(b, MIN_GROWTH_PER_DAY)
    # Real errors are more peaked with heavier tails than a negative binomial, so the likelihood fit makes the
    # central intervals too wide; rescale alpha so the 50/80/95% intervals cover what they claim on these points.
    c = _coverage_scale(y, mu, a + b * h)
    return Dispersion(a * c, b * c, source=source)


CALIBRATION_LEVELS = (0.5, 0.8, 0.95)


def mid_pit(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Mid-distribution PIT F(y-1) + p(y)/2 under NB2: y lies inside the central mid-quantile interval at level L
    exactly when this is within [(1-L)/2, (1+L)/2] (see `distribution`)."""
    alpha = np.maximum(alpha, 1e-8)
    n = 1.0 / alpha
    p = n / (n + mu)
    return stats.nbinom.cdf(y - 1, n, p) + 0.5 * stats.nbinom.pmf(y, n, p)


def _coverage_scale(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> float:
    """Factor on alpha minimizing the squared gaps between nominal and empirical coverage at CALIBRATION_LEVELS."""
    grid = np.exp(np.linspace(np.log(0.2), np.log(3.0), 29))
    best, best_loss = 1.0, np.inf
    for c in grid:
        u = mid_pit(y, mu, alpha * c)
        loss = sum((np.mean(np.abs(u - 0.5) <= lv / 2) - lv) ** 2 for lv in CALIBRATION_LEVELS)
        if loss < best_loss - 1e-12:
            best, best_loss = float(c), loss
    return best


def origins_for(
    data_end: pd.Timestamp,
    timezone: str,
    horizon: timedelta,
    n_origins: int,
    step: timedelta,
) -> list[pd.Timestamp]:
    """Forecast origins, newest first: local midnights with `horizon` of data after the newest and `step` apart."""
    last = (data_end - pd.Timedelta(horizon)).tz_convert(timezone)
    mid = last.tz_localize(None).normalize()
    out = []
    for k in range(n_origins):
        wall = mid - pd.Timedelta(step) * k
        out.append(wall.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward"))
    return out


@dataclass
class Fold:
    """One origin of a rolling backtest: the forecast means of each model on the points after the origin."""

    origin: pd.Timestamp
    index: pd.DatetimeIndex
    y: np.ndarray
    horizon_days: np.ndarray
    mu: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    train: Prepared | None = field(default=None, repr=False)


def make_folds(data: Prepared, horizon: timedelta, n_origins: int, step: timedelta,
               min_train: timedelta) -> list[Fold]:
    """Folds whose training part (history before the origin) spans at least `min_train` of observations."""
    folds = []
    for o in origins_for(data.end, data.timezone, horizon, n_origins, step):
        train = data.head(o)
        if len(train.y) == 0 or train.observed_span() < min_train:
            continue
        end = min(o + pd.Timedelta(horizon), data.end)
        idx = interval_grid(o, end, data.interval_minutes, data.timezone)
        y = data.series.reindex(idx).to_numpy()
        h = (idx - o).total_seconds().to_numpy() / 86400.0
        folds.append(Fold(o, idx, y, h, train=train))
    return folds


def run_tasks(tasks: list[Callable[[], None]], *, n_jobs: int = 1, progress: Callable[[float, str], None] | None = None,
              progress_span: tuple[float, float] = (0.0, 1.0), message: str = "backtesting") -> None:
    """Run callables on `n_jobs` threads in the given order (put the slowest first). Threads suffice: Prophet's
    work happens in a cmdstan subprocess and numpy releases the GIL."""
    from concurrent.futures import ThreadPoolExecutor

    lo, hi = progress_span
    if n_jobs > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            futures = [pool.submit(t) for t in tasks]
            for done, fut in enumerate(futures, start=1):
                fut.result()
                if progress:
                    progress(lo + (hi - lo) * done / len(tasks), message)
    else:
        for done, t in enumerate(tasks, start=1):
            t()
            if progress:
                progress(lo + (hi - lo) * done / len(tasks), message)


def fold_task(fold: Fold, name: str, fitter: Callable[[Prepared, pd.DatetimeIndex], np.ndarray]) -> Callable[[], None]:
    """A task filling `fold.mu[name]` (or `fold.errors[name]`: a candidate failing on one origin must not sink
    the whole request) and `fold.seconds[name]`."""

    def run() -> None:
        t0 = time.perf_counter()
        try:
            mu = np.asarray(fitter(fold.train, fold.index), dtype=float)  # type: ignore[arg-type]
            fold.mu[name] = np.maximum(np.nan_to_num(mu, nan=0.0), 0.0)
        except Exception as exc:
            fold.errors[name] = f"{type(exc).__name__}: {exc}"
        fold.seconds[name] = time.perf_counter() - t0

    return run


def run_folds(
    folds: list[Fold],
    fitters: dict[str, Callable[[Prepared, pd.DatetimeIndex], np.ndarray]],
    *,
    n_jobs: int = 1,
    progress: Callable[[float, str], None] | None = None,
    progress_span: tuple[float, float] = (0.0, 1.0),
) -> None:
    """Fill each fold's `mu[name]` with `fitters[name](train, index)`; a failing fit is recorded, not raised."""
    tasks = [fold_task(f, name, fitter) for name, fitter in fitters.items() for f in folds]
    run_tasks(tasks, n_jobs=n_jobs, progress=progress, progress_span=progress_span)
