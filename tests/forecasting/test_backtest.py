"""Backtest and metrics: the same folds and metrics for every model; metrics checked against known answers."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from forecasting import InsufficientHistoryError, backtest
from forecasting.calibration import fit_dispersion
from forecasting.metrics import score_points
from forecasting.synthetic import synthetic_history

TZ = "Europe/London"


def test_perfect_rate_scores_the_poisson_floor() -> None:
    rng = np.random.default_rng(7)
    mu = rng.uniform(0.5, 30.0, 60_000)
    y = rng.poisson(mu).astype(float)
    r = score_points(y, mu, np.zeros_like(mu), scale=1.0)
    assert r["floor_ratio"] == pytest.approx(1.0, abs=0.02)
    assert r["coverage_80"] == pytest.approx(0.8, abs=0.02)
    worse = score_points(y, mu * 1.3, np.zeros_like(mu))
    assert worse["floor_ratio"] > 1.1


def test_metrics_ignore_missing_actuals_and_handle_zeros() -> None:
    y = np.array([0.0, 2.0, np.nan, 4.0])
    mu = np.array([0.0, 1.0, 3.0, 4.0])
    r = score_points(y, mu, scale=2.0)
    assert r["n_points"] == 3
    assert r["mae"] == pytest.approx(1 / 3)
    assert r["mase"] == pytest.approx(1 / 6)
    assert r["smape"] == pytest.approx(100 * (2 * 1 / 3) / 3)


def test_dispersion_fit_recovers_overdispersion_and_growth() -> None:
    rng = np.random.default_rng(3)
    n = 40_000
    h = rng.uniform(0, 28, n)
    mu = rng.uniform(2, 40, n)
    alpha = 0.03 + 0.004 * h
    y = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu)).astype(float)
    d = fit_dispersion(y, mu, h)
    assert d.a == pytest.approx(0.03, abs=0.015)
    assert d.b == pytest.approx(0.004, abs=0.0015)
    r = score_points(y, mu, d.alpha(h), levels=(50, 80, 95))
    for lv in (50, 80, 95):
        assert r[f"coverage_{lv}"] == pytest.approx(lv / 100, abs=0.02)


@pytest.fixture(scope="module")
def result():
    h = synthetic_history("2024-01-01", "2024-04-01", interval_minutes=60, timezone=TZ, seed=9)
    return backtest(h, models=["seasonal_naive", "profile", "auto"], horizon=timedelta(days=14), interval_minutes=60,
                    timezone=TZ, n_origins=3, step=timedelta(days=7), levels=(80, 95), calibration_origins=1)


def test_backtest_table(result) -> None:
    t = result.table
    assert list(t.index) == ["seasonal_naive", "profile", "auto"]
    for col in ("mae", "mase", "floor_ratio", "smape", "coverage_80", "coverage_95", "pinball", "seconds"):
        assert col in t.columns
    assert (t.n_origins == 3).all()
    assert len(result.origins) == 3 and all(o.hour == 0 for o in result.origins)
    assert len(result.choices["auto"]) == 3
    # on Poisson data a pooled profile beats last week's counts, and sits near the floor
    assert t.loc["profile", "mae"] < 0.85 * t.loc["seasonal_naive", "mae"]
    assert t.loc["profile", "floor_ratio"] < 1.1
    assert 0.65 < t.loc["profile", "coverage_80"] < 0.95
    md = result.to_markdown()
    assert md.startswith("| model | mae |") and md.count("\n") == 4


def test_backtest_keeps_the_forecasts_it_scored(result) -> None:
    for name in result.table.index:
        parts = result.forecasts[name]
        assert [idx[0] for idx, _, _ in parts] == result.origins  # one forecast per origin, starting at it
        y = np.concatenate([y for _, y, _ in parts])
        mu = np.concatenate([mu for _, _, mu in parts])
        ok = np.isfinite(y)
        assert np.abs(y[ok] - mu[ok]).mean() == pytest.approx(result.table.loc[name, "mae"], rel=1e-9)


def test_backtest_uses_separate_actuals_for_scoring() -> None:
    h = synthetic_history("2024-01-01", "2024-03-04", interval_minutes=60, timezone=TZ, seed=9)
    actual = h.copy()
    actual[actual < 5] = np.nan  # score only the recorded hours
    r = backtest(h, models=["profile"], horizon=timedelta(days=7), interval_minutes=60, timezone=TZ, n_origins=2,
                 actuals=actual, calibration_origins=0)
    r_all = backtest(h, models=["profile"], horizon=timedelta(days=7), interval_minutes=60, timezone=TZ,
                     n_origins=2, calibration_origins=0)
    assert r.table.loc["profile", "n_points"] < r_all.table.loc["profile", "n_points"]


def test_backtest_needs_enough_history() -> None:
    h = synthetic_history("2024-01-01", "2024-01-20", interval_minutes=60, timezone=TZ)
    with pytest.raises(InsufficientHistoryError):
        backtest(h, models=["mstl"], horizon=timedelta(days=14), interval_minutes=60, timezone=TZ)
    assert isinstance(h, pd.Series)
