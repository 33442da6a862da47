"""AHT forecast: weekday x hour profile with shrinkage, default fallback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import InvalidHistoryError, forecast_aht

TZ = "Europe/London"


def _aht_history(weeks: int = 8, seed: int = 0) -> pd.Series:
    idx = pd.date_range("2024-01-01", periods=weeks * 7 * 96, freq="15min", tz=TZ)
    rng = np.random.default_rng(seed)
    base = np.where(idx.hour < 7, 420.0, 300.0) + np.where(idx.dayofweek >= 5, 30.0, 0.0)
    noise = rng.lognormal(0.0, 0.25, len(idx))  # long-tailed call lengths
    return pd.Series(base * noise, index=idx)


def test_profile_recovers_night_and_weekend_handle_times() -> None:
    h = _aht_history()
    target = pd.date_range("2024-03-04", periods=7 * 96, freq="15min", tz=TZ)
    f = forecast_aht(target, h, timezone=TZ, default_aht=250.0)
    s = pd.Series(f.seconds, index=target)
    assert f.source == "history"
    night = s[(s.index.hour < 7) & (s.index.dayofweek < 5)].mean()
    day = s[(s.index.hour >= 9) & (s.index.dayofweek < 5)].mean()
    weekend_day = s[(s.index.hour >= 9) & (s.index.dayofweek >= 5)].mean()
    # the noise is lognormal with median 1, so cell medians recover the base handle times
    assert night == pytest.approx(420, rel=0.08)
    assert day == pytest.approx(300, rel=0.08)
    assert weekend_day > day


def test_sparse_cells_shrink_toward_overall() -> None:
    h = _aht_history(weeks=8)
    h.iloc[:] = 300.0
    odd = (h.index.dayofweek == 2) & (h.index.hour == 3)
    h = h[~odd | (h.index >= h.index[-1] - pd.Timedelta(days=7))]  # one week of Wednesday 03:00
    h[(h.index.dayofweek == 2) & (h.index.hour == 3)] = 900.0  # 4 intervals at 900 s
    target = pd.date_range("2024-03-06T03:00", periods=4, freq="15min", tz=TZ)
    f = forecast_aht(target, h, timezone=TZ, shrink=10.0)
    assert f.seconds[0] == pytest.approx((4 * 900 + 10 * 300) / 14)


def test_default_when_history_is_missing_or_thin() -> None:
    target = pd.date_range("2024-03-04", periods=8, freq="h", tz=TZ)
    assert forecast_aht(target, None, timezone=TZ, default_aht=300.0).seconds.tolist() == [300.0] * 8
    thin = _aht_history().iloc[:10]
    f = forecast_aht(target, thin, timezone=TZ, default_aht=360.0)
    assert f.source == "default" and (f.seconds == 360.0).all()
    assert forecast_aht(target, None, timezone=TZ).source == "none"
    with pytest.raises(InvalidHistoryError):
        forecast_aht(target, _aht_history().tz_localize(None), timezone=TZ)
