"""Per-interval count distributions: negative binomial with mean `mu` and dispersion `alpha` (variance
mu + alpha*mu^2; alpha = 0 is Poisson), with quantiles at any level for staffing at a chosen quantile.

Quantiles are *mid-distribution* (continuity-corrected) quantiles: the probability mass of each count k is spread
evenly over [k - 1/2, k + 1/2] and the result is clipped at 0. They are continuous and strictly increasing in q,
so an 80% interval covers close to 80% of integer outcomes instead of over-covering because of discreteness
(for Poisson(4) the integer 10%-90% interval [2, 7] covers 86%). `discrete=True` gives the usual integer ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.errors import InvalidRequestError

_TINY_ALPHA = 1e-8
_TINY_MU = 1e-9


def _check_q(q: float) -> float:
    if not 0.0 < float(q) < 1.0:
        raise InvalidRequestError(f"quantile must be strictly between 0 and 1, got {q!r}")
    return float(q)


def check_level(level: float) -> float:
    """Validate an interval level in percent (0 < level < 100)."""
    if not 0.0 < float(level) < 100.0:
        raise InvalidRequestError(f"interval level must be a percentage strictly between 0 and 100, got {level!r}")
    return float(level)


def level_label(level: float) -> str:
    """Column suffix for a level: 80 -> '80', 97.5 -> '97.5'."""
    return f"{float(level):g}"


def _frozen(mu: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, object, object]:
    """scipy distributions for the negative-binomial and the Poisson (alpha ~ 0) points."""
    nb = alpha > _TINY_ALPHA
    a = np.where(nb, alpha, 1.0)
    n = 1.0 / a
    p = 1.0 / (1.0 + a * mu)
    return nb, stats.nbinom(n, p), stats.poisson(mu)


def count_quantile(q: float, mu: np.ndarray, alpha: np.ndarray, *, discrete: bool = False) -> np.ndarray:
    """The q-quantile of NB(mu, alpha) per point: mid-distribution (continuous) or, if `discrete`, integer."""
    q = _check_q(q)
    mu = np.maximum(np.asarray(mu, dtype=float), 0.0)
    alpha = np.maximum(np.broadcast_to(np.asarray(alpha, dtype=float), mu.shape), 0.0)
    nb, dnb, dpo = _frozen(np.maximum(mu, _TINY_MU), alpha)
    k = np.where(nb, dnb.ppf(q), dpo.ppf(q))
    if discrete:
        return np.where(mu <= _TINY_MU, 0.0, k)
    below = np.where(nb, dnb.cdf(k - 1), dpo.cdf(k - 1))
    mass = np.where(nb, dnb.pmf(k), dpo.pmf(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        mid = k - 0.5 + np.where(mass > 0, (q - below) / mass, 0.5)
    return np.where(mu <= _TINY_MU, 0.0, np.maximum(mid, 0.0))


def poisson_mad(mu: np.ndarray) -> np.ndarray:
    """Exact E|Y - mu| for Y ~ Poisson(mu): 2 mu P(Y = floor(mu)) (closed form; ~sqrt(2 mu / pi) for large mu)."""
    mu = np.maximum(np.asarray(mu, dtype=float), 0.0)
    return 2.0 * mu * stats.poisson.pmf(np.floor(mu), mu)


class CountForecast:
    """A forecast as a distribution per interval: `mean`, `alpha` (NB dispersion), quantiles and intervals.

    `index` holds tz-aware interval starts. `quantile(q)` and `interval(level)` return pandas objects on it.
    """

    def __init__(self, index: pd.DatetimeIndex, mean: np.ndarray, alpha: np.ndarray | float) -> None:
        mean = np.asarray(mean, dtype=float)
        if mean.shape != (len(index),):
            raise ValueError("mean must have one value per interval")
        if np.isnan(mean).any() or (mean < 0).any():
            raise ValueError("forecast means must be finite and non-negative")
        self.index = index
        self.mean = mean
        self.alpha = np.maximum(np.broadcast_to(np.asarray(alpha, dtype=float), mean.shape).copy(), 0.0)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def variance(self) -> np.ndarray:
        """Variance per point: mu + alpha mu^2 (grows with the level, as counts' variance does)."""
        return self.mean + self.alpha * self.mean**2

    def quantile(self, q: float, *, discrete: bool = False) -> pd.Series:
        """The q-quantile of calls per interval (e.g. q=0.9 to staff for a busier-than-expected interval)."""
        return pd.Series(count_quantile(q, self.mean, self.alpha, discrete=discrete), index=self.index, name=f"q{q:g}")

    def interval(self, level: float = 80.0) -> tuple[pd.Series, pd.Series]:
        """Central prediction interval at `level` percent: (lower, upper) = quantiles (1-l)/2 and (1+l)/2."""
        tail = (1.0 - check_level(level) / 100.0) / 2.0
        return self.quantile(tail), self.quantile(1.0 - tail)

    def to_frame(self, levels: Sequence[float] = (80.0,)) -> pd.DataFrame:
        """mean, lower_<level>, upper_<level> columns, indexed by interval start."""
        out = pd.DataFrame({"calls": self.mean}, index=self.index)
        for level in levels:
            lo, hi = self.interval(level)
            out[f"lower_{level_label(level)}"] = lo.to_numpy()
            out[f"upper_{level_label(level)}"] = hi.to_numpy()
        return out

    def subset(self, mask: np.ndarray) -> CountForecast:
        """The points where `mask` is true."""
        return CountForecast(self.index[mask], self.mean[mask], self.alpha[mask])
