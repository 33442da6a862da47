"""Every registered model through the same interface: fit on a history, predict a horizon as distributions."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from forecasting import (
    CountForecast,
    InsufficientHistoryError,
    UnknownModelError,
    make_model,
    min_history,
    model_names,
)
from forecasting.synthetic import synthetic_history

TZ = "Europe/London"
HORIZON = timedelta(days=14)


@pytest.fixture(scope="module")
def history() -> pd.Series:
    """Eight weeks of hourly Poisson counts ending on a Monday midnight (local)."""
    return synthetic_history("2024-01-08", "2024-03-04", interval_minutes=60, timezone=TZ, seed=3)


@pytest.fixture(scope="module")
def actual() -> pd.Series:
    return synthetic_history("2024-01-08", "2024-03-18", interval_minutes=60, timezone=TZ, seed=3)["2024-03-04":]


@pytest.fixture(scope="module", params=model_names())
def fitted(request, history):
    model = make_model(request.param)
    model.fit(history, interval_minutes=60, timezone=TZ, horizon=HORIZON, n_jobs=2)
    return model


def test_registry_lists_the_required_models() -> None:
    names = set(model_names())
    assert {"seasonal_naive", "prophet", "mstl", "ets", "arima", "auto"} <= names
    assert min_history("seasonal_naive") == timedelta(weeks=1)
    assert min_history("mstl") > min_history("seasonal_naive")
    with pytest.raises(UnknownModelError):
        make_model("crystal_ball")


def test_predict_returns_a_count_distribution_per_interval(fitted, history) -> None:
    fc = fitted.predict(24 * 14)
    assert isinstance(fc, CountForecast) and len(fc) == 24 * 14
    assert fc.index[0] == history.index[-1] + pd.Timedelta(hours=1)
    assert np.isfinite(fc.mean).all() and (fc.mean >= 0).all()
    lo, hi = fc.interval(80)
    assert (lo.to_numpy() >= 0).all()
    assert (lo.to_numpy() <= fc.quantile(0.5).to_numpy()).all()
    assert (fc.quantile(0.5).to_numpy() <= hi.to_numpy()).all()
    # an explicit index works the same way
    idx = fc.index[24:48]
    np.testing.assert_allclose(fitted.predict(idx).mean, fc.mean[24:48])


def test_dispersion_grows_with_horizon(fitted) -> None:
    fc = fitted.predict(24 * 14)
    assert (np.diff(fc.alpha) >= 0).all() and fc.alpha[-1] > fc.alpha[0]
    # same mean one week apart -> strictly wider interval later
    mu = np.full(2, 10.0)
    later = CountForecast(fc.index[[0, 24 * 7]], mu, fc.alpha[[0, 24 * 7]])
    lo, hi = later.interval(80)
    assert (hi - lo).iloc[1] > (hi - lo).iloc[0]


def test_models_beat_nothing_silly(fitted, actual) -> None:
    """Sanity: the forecast is in the right range (mean within 25% of the truth over two weeks)."""
    fc = fitted.predict(actual.index)
    assert abs(fc.mean.sum() / actual.sum() - 1) < 0.25


def test_weekday_shape_differs(fitted, actual) -> None:
    """A Monday 08:00 is busier than a Sunday 08:00 in the synthetic data; every model but the naive sees it."""
    if fitted.name in ("prophet_default",):
        pytest.skip("Prophet's default daily seasonality is the same every day of the week")
    fc = fitted.predict(actual.index)
    s = pd.Series(fc.mean, index=fc.index.tz_convert(TZ))
    monday = s[(s.index.dayofweek == 0) & (s.index.hour == 8)].mean()
    sunday = s[(s.index.dayofweek == 6) & (s.index.hour == 8)].mean()
    assert monday > 1.3 * sunday


@pytest.mark.parametrize("name", model_names())
def test_min_history_error_says_needed_and_given(name, history) -> None:
    need = min_history(name, 60)
    short = history[history.index >= history.index[-1] - need + pd.Timedelta(days=2)]
    with pytest.raises(InsufficientHistoryError) as err:
        make_model(name).fit(short, interval_minutes=60, timezone=TZ)
    assert err.value.needed == need
    assert err.value.given < need
    assert "needs at least" in str(err.value)


@pytest.mark.parametrize("name", ["seasonal_naive", "profile", "ets", "mstl", "prophet"])
def test_missing_intervals_are_missing_not_zero(name, history, actual) -> None:
    """A one-day feed outage in the last week (NaN or absent rows) must not pull the forecast toward zero."""
    gap = history.copy()
    day = (gap.index >= "2024-02-27") & (gap.index < "2024-02-28")
    gap[day] = np.nan
    gap = gap.drop(gap.index[(gap.index >= "2024-02-29T10:00") & (gap.index < "2024-02-29T16:00")])
    full = make_model(name).fit(history, interval_minutes=60, timezone=TZ, calibration_origins=0)
    holed = make_model(name).fit(gap, interval_minutes=60, timezone=TZ, calibration_origins=0)
    idx = actual.index[:24 * 7]
    a, b = full.predict(idx).mean, holed.predict(idx).mean
    tuesday = (idx.tz_convert(TZ).dayofweek == 1) & (idx.tz_convert(TZ).hour >= 9) & (idx.tz_convert(TZ).hour < 18)
    assert b[tuesday].sum() > 0.8 * a[tuesday].sum()
    assert abs(b.sum() / a.sum() - 1) < 0.1


def test_seasonal_naive_is_last_week_local_time() -> None:
    h = synthetic_history("2024-10-07", "2024-10-28", interval_minutes=60, timezone=TZ, seed=5)
    m = make_model("seasonal_naive").fit(h, interval_minutes=60, timezone=TZ, calibration_origins=0)
    idx = pd.date_range("2024-10-28", periods=24 * 7, freq="h", tz=TZ)
    fc = m.predict(idx)
    # after the autumn change, Monday 09:00 local still maps to last Monday 09:00 local (not 08:00)
    expected = h[h.index.tz_convert(TZ) >= pd.Timestamp("2024-10-21", tz=TZ)].iloc[: 24 * 6]
    np.testing.assert_allclose(fc.mean[: 24 * 6], expected.to_numpy())


@pytest.mark.parametrize("name", ["profile", "ets", "mstl", "prophet"])
def test_history_ending_mid_day(name, history) -> None:
    """A history that stops at 13:00 forecasts the rest of that day at that day's level, not the next day's."""
    cut = history[history.index < pd.Timestamp("2024-03-03T13:00", tz=TZ)]  # a Sunday afternoon
    m = make_model(name).fit(cut, interval_minutes=60, timezone=TZ, calibration_origins=0)
    fc = m.predict(24 * 8)
    assert fc.index[0] == pd.Timestamp("2024-03-03T13:00", tz=TZ)
    s = pd.Series(fc.mean, index=fc.index)
    today = s[s.index < pd.Timestamp("2024-03-04", tz=TZ)].sum()
    later = (s.index >= pd.Timestamp("2024-03-10T13:00", tz=TZ)) & (s.index < pd.Timestamp("2024-03-11", tz=TZ))
    next_sunday = s[later].sum()
    assert today == pytest.approx(next_sunday, rel=0.15)
