"""forecast(): the API the web app calls - DST grids, events, quantiles, AHT, outages, errors."""

from __future__ import annotations

import itertools
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecasting import (
    Event,
    ForecastResult,
    InsufficientHistoryError,
    InvalidRequestError,
    UnknownModelError,
    find_outages,
    forecast,
)
from forecasting.synthetic import synthetic_history

TZ = "Europe/London"


@pytest.fixture(scope="module")
def autumn() -> pd.Series:
    """Six weeks of 15-minute counts up to the UK autumn clock change (UTC index, as the app passes it)."""
    return synthetic_history("2024-09-16", "2024-10-26", interval_minutes=15, timezone=TZ, seed=11).tz_convert("UTC")


@pytest.fixture(scope="module")
def autumn_result(autumn) -> ForecastResult:
    events = [Event(date(2024, 11, 2), "Derby match")]
    return forecast(autumn, start="2024-10-26", end="2024-11-09", interval_minutes=15, timezone=TZ,
                    model="profile", levels=(80, 95), events=events, default_aht=300.0)


def test_points_have_the_documented_columns(autumn_result) -> None:
    p = autumn_result.points
    assert list(p.columns) == ["interval_start", "calls", "lower_80", "upper_80", "lower_95", "upper_95",
                               "aht_seconds", "events"]
    assert str(p.interval_start.dt.tz) == TZ
    assert (p.calls >= 0).all() and (p.lower_80 >= 0).all()
    assert (p.lower_95 <= p.lower_80).all() and (p.upper_80 <= p.upper_95).all()
    assert (p.aht_seconds == 300.0).all() and autumn_result.aht_source == "default"


def test_dst_day_in_output_has_100_quarter_hours(autumn_result) -> None:
    local = autumn_result.points.interval_start
    per_day = local.dt.date.value_counts()
    assert per_day[date(2024, 10, 27)] == 100
    assert per_day[date(2024, 10, 28)] == 96
    assert len(autumn_result.points) == 14 * 96 + 4


def test_spring_forward_forecast_has_92_quarter_hours() -> None:
    h = synthetic_history("2024-02-19", "2024-03-25", interval_minutes=15, timezone=TZ, seed=2)
    r = forecast(h, start="2024-03-25", end="2024-04-08", interval_minutes=15, timezone=TZ, model="seasonal_naive")
    per_day = r.points.interval_start.dt.date.value_counts()
    assert per_day[date(2024, 3, 31)] == 92
    # the day after (history has a 92-interval day too) is a normal 96
    assert per_day[date(2024, 4, 1)] == 96


def test_events_are_visible_per_point(autumn_result) -> None:
    p = autumn_result.points
    day = p.interval_start.dt.date
    assert all("Bonfire Night" in ev for ev in p.events[day == date(2024, 11, 5)])
    assert all("Derby match" in ev for ev in p.events[day == date(2024, 11, 2)])
    assert all(ev == () for ev in p.events[day == date(2024, 11, 4)])
    assert autumn_result.events_by_day()[date(2024, 11, 5)] == ["Bonfire Night"]


def test_bank_holidays_are_visible_and_lower_when_history_shows_it() -> None:
    """A year of hourly history where bank holidays run at 60%: the next one is forecast lower than a normal
    Monday, and carries its name."""
    import holidays

    years = holidays.country_holidays("GB", subdiv="ENG", years=[2023, 2024])
    factors = {d: 0.6 for d in years}
    h = synthetic_history("2023-04-03", "2024-05-13", interval_minutes=60, timezone=TZ, day_factors=factors, seed=4)
    h = h[h.index < pd.Timestamp("2024-05-06", tz=TZ)]  # stop before the May Day holiday
    r = forecast(h, start="2024-05-06", end="2024-05-20", interval_minutes=60, timezone=TZ, model="profile")
    p = r.points
    day = p.interval_start.dt.date
    assert all("May Day" in ev for ev in p.events[day == date(2024, 5, 6)])
    holiday_total = p.calls[day == date(2024, 5, 6)].sum()
    normal_monday = p.calls[day == date(2024, 5, 13)].sum()
    assert holiday_total < 0.8 * normal_monday


def test_user_event_factor_scales_that_day(autumn) -> None:
    base = forecast(autumn, start="2024-10-28", end="2024-11-04", interval_minutes=15, timezone=TZ, model="profile")
    ev = [Event(date(2024, 10, 30), "Festival", factor=1.5)]
    up = forecast(autumn, start="2024-10-28", end="2024-11-04", interval_minutes=15, timezone=TZ, model="profile",
                  events=ev)
    d = base.points.interval_start.dt.date == date(2024, 10, 30)
    assert up.points.calls[d].sum() == pytest.approx(1.5 * base.points.calls[d].sum())
    assert (up.points.calls[~d].to_numpy() == base.points.calls[~d].to_numpy()).all()


def test_any_quantile_is_available_and_monotone(autumn_result) -> None:
    qs = [autumn_result.quantile(q).to_numpy() for q in (0.05, 0.25, 0.5, 0.75, 0.9, 0.99)]
    assert all((b >= a).all() for a, b in itertools.pairwise(qs))
    lo, hi = autumn_result.interval(80)
    np.testing.assert_allclose(lo.to_numpy(), autumn_result.points.lower_80.to_numpy())
    np.testing.assert_allclose(autumn_result.quantile(0.9).to_numpy(), hi.to_numpy())


def test_intervals_widen_with_horizon(autumn_result) -> None:
    p = autumn_result.points.set_index("interval_start")
    wk1 = p[(p.index >= "2024-10-28") & (p.index < "2024-10-29")]
    wk2 = p[(p.index >= "2024-11-04") & (p.index < "2024-11-05")]
    # same weekday, same mean (profile model): the later week is wider
    np.testing.assert_allclose(wk1.calls.to_numpy(), wk2.calls.to_numpy())
    w1 = (wk1.upper_80 - wk1.lower_80).to_numpy()
    w2 = (wk2.upper_80 - wk2.lower_80).to_numpy()
    assert (w2 >= w1 - 1e-9).all() and (w2 > w1).mean() > 0.9


def test_records_are_json_ready(autumn_result) -> None:
    recs = autumn_result.to_records()
    text = json.dumps(recs)
    assert recs[0]["interval_start"].endswith("+01:00")
    assert isinstance(recs[0]["events"], list) and "aht_seconds" in recs[0]
    assert len(json.loads(text)) == len(autumn_result.points)


def test_auto_reports_scores_and_why(autumn) -> None:
    progress = []
    r = forecast(autumn, start="2024-10-26", end="2024-11-09", interval_minutes=15, timezone=TZ, model="auto",
                 progress=lambda f, m: progress.append((f, m)))
    assert r.requested_model == "auto" and r.model
    assert "backtest" in r.why and r.model in r.why
    assert {"mae", "mase", "floor_ratio", "coverage_80", "smape", "pinball"} <= set(r.scores.columns)
    assert "seasonal_naive" in r.scores.index and len(r.scores) >= 4
    assert r.scores_records()[0]["candidate"]
    fr = [f for f, _ in progress]
    assert fr[0] == 0.0 and fr[-1] == 1.0 and all(b >= a for a, b in itertools.pairwise(fr))


def test_auto_with_little_history_falls_back_and_says_so(autumn) -> None:
    ten_days = autumn[autumn.index >= pd.Timestamp("2024-10-16", tz=TZ)]
    r = forecast(ten_days, start="2024-10-26", end="2024-11-02", interval_minutes=15, timezone=TZ, model="auto")
    assert r.model == "profile" and "too short to backtest" in r.why
    assert (r.points.calls > 0).any() and (r.points.upper_80 >= r.points.calls).all()
    four_weeks = autumn[autumn.index >= pd.Timestamp("2024-09-28", tz=TZ)]
    r = forecast(four_weeks, start="2024-10-26", end="2024-11-23", interval_minutes=15, timezone=TZ, model="auto")
    assert "1 week ahead" in r.why and len(r.scores) >= 3  # the inner backtest is shortened to what fits


def test_history_after_start_is_ignored(autumn) -> None:
    a = forecast(autumn, start="2024-10-14", end="2024-10-21", interval_minutes=15, timezone=TZ, model="profile")
    b = forecast(autumn[autumn.index < pd.Timestamp("2024-10-14", tz=TZ)], start="2024-10-14", end="2024-10-21",
                 interval_minutes=15, timezone=TZ, model="profile")
    np.testing.assert_allclose(a.points.calls.to_numpy(), b.points.calls.to_numpy())


def test_outage_zero_run_is_treated_as_missing(autumn) -> None:
    h = autumn.copy()
    out = (h.index >= pd.Timestamp("2024-10-22T10:00", tz=TZ)) & (h.index < pd.Timestamp("2024-10-23T02:00", tz=TZ))
    h[out] = 0.0
    mask = find_outages(h.tz_convert(TZ), 15, TZ)
    assert mask[out].all() and mask.sum() - out.sum() <= 4  # plus any genuine zeros right next to it
    clean = forecast(autumn, start="2024-10-28", end="2024-11-04", interval_minutes=15, timezone=TZ,
                     model="seasonal_naive")
    r = forecast(h, start="2024-10-28", end="2024-11-04", interval_minutes=15, timezone=TZ, model="seasonal_naive")
    assert any("feed outage" in n for n in r.notes)
    tue = r.points.interval_start.dt.date == date(2024, 10, 29)
    assert r.points.calls[tue].sum() > 0.8 * clean.points.calls[tue].sum()


def test_quiet_nights_are_not_outages() -> None:
    idx = pd.date_range("2024-01-01", periods=96 * 28, freq="15min", tz=TZ)
    hour = idx.hour
    y = np.where((hour >= 1) & (hour < 6), 0.0, np.random.default_rng(0).poisson(5.0, len(idx)))
    assert not find_outages(pd.Series(y, index=idx), 15, TZ).any()


def test_errors_are_typed(autumn) -> None:
    with pytest.raises(InsufficientHistoryError) as err:
        forecast(autumn[-96 * 3:], start="2024-10-26", end="2024-10-27", interval_minutes=15, timezone=TZ,
                 model="auto")
    assert err.value.model == "auto" and err.value.needed.days == 7
    with pytest.raises(UnknownModelError):
        forecast(autumn, start="2024-10-26", end="2024-10-27", interval_minutes=15, model="nope")
    with pytest.raises(InvalidRequestError):
        forecast(autumn, start="2024-10-26T00:05", end="2024-10-27", interval_minutes=15)
    with pytest.raises(InvalidRequestError):
        forecast(autumn, start="2024-10-26", end="2024-10-27", interval_minutes=15, levels=(120,))
    with pytest.raises(InvalidRequestError):
        forecast(autumn, start="2024-10-26", end="2024-10-27", interval_minutes=15, holiday_subdiv="XYZ")
