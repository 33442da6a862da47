"""Count distributions: quantiles, intervals, variance, the Poisson floor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecasting import CountForecast, InvalidRequestError, poisson_mad
from forecasting.distribution import count_quantile


def _fc(mu, alpha) -> CountForecast:
    mu = np.asarray(mu, dtype=float)
    return CountForecast(pd.date_range("2024-01-01", periods=len(mu), freq="h", tz="UTC"), mu, alpha)


def test_quantiles_are_monotone_in_q_and_non_negative() -> None:
    fc = _fc([0.0, 0.2, 1.0, 4.0, 16.0, 120.0], [0.0, 0.05, 0.1, 0.1, 0.02, 0.3])
    qs = np.linspace(0.01, 0.99, 60)
    values = np.array([fc.quantile(q).to_numpy() for q in qs])
    assert (values >= 0).all()
    assert (np.diff(values, axis=0) >= -1e-12).all()
    assert (np.diff(values[:, 1:], axis=0).sum(axis=0) > 0).all()  # and they actually move


def test_intervals_nest_by_level_and_contain_the_median() -> None:
    fc = _fc([3.0, 25.0], 0.05)
    lo80, hi80 = fc.interval(80)
    lo95, hi95 = fc.interval(95)
    med = fc.quantile(0.5)
    assert (lo95 <= lo80).all() and (hi80 <= hi95).all()
    assert (lo80 <= med).all() and (med <= hi80).all()


def test_variance_grows_with_the_level_and_with_dispersion() -> None:
    fc = _fc([1.0, 10.0, 100.0], 0.05)
    assert (np.diff(fc.variance) > 0).all()
    w_lo = np.subtract(*reversed(_fc([10.0], 0.01).interval(80)))
    w_hi = np.subtract(*reversed(_fc([10.0], 0.2).interval(80)))
    assert float(w_hi.iloc[0]) > float(w_lo.iloc[0])


def test_mid_quantile_interval_covers_its_level_for_poisson_counts() -> None:
    rng = np.random.default_rng(1)
    for mu in (0.7, 2.5, 4.0, 9.0, 30.0):
        y = rng.poisson(mu, 40_000)
        lo = count_quantile(0.1, np.full(1, mu), np.zeros(1))[0]
        hi = count_quantile(0.9, np.full(1, mu), np.zeros(1))[0]
        cover = np.mean((y >= lo) & (y <= hi))
        assert abs(cover - 0.8) < 0.09, (mu, cover)


def test_discrete_quantiles_match_scipy() -> None:
    mu, alpha = np.array([4.0, 12.0]), np.array([0.0, 0.1])
    q = count_quantile(0.9, mu, alpha, discrete=True)
    assert q[0] == stats.poisson.ppf(0.9, 4.0)
    assert q[1] == stats.nbinom.ppf(0.9, 10.0, 1 / (1 + 0.1 * 12.0))


def test_poisson_mad_is_exact() -> None:
    for mu in (0.3, 1.0, 3.7, 16.0):
        k = np.arange(0, 200)
        brute = float((np.abs(k - mu) * stats.poisson.pmf(k, mu)).sum())
        assert poisson_mad(np.array([mu]))[0] == pytest.approx(brute, rel=1e-9)


def test_bad_quantile_and_level() -> None:
    fc = _fc([1.0], 0.0)
    with pytest.raises(InvalidRequestError):
        fc.quantile(1.0)
    with pytest.raises(InvalidRequestError):
        fc.interval(100)
    with pytest.raises(ValueError):
        _fc([-1.0], 0.0)
