"""Interval grids on the local clock: DST days, alignment, history validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import InvalidHistoryError, InvalidRequestError, interval_grid
from forecasting.grid import local_keys, regularize


@pytest.mark.parametrize(
    ("day", "minutes", "expected"),
    [
        ("2024-03-31", 15, 92),  # last Sunday of March: 23 hours
        ("2024-10-27", 15, 100),  # last Sunday of October: 25 hours
        ("2024-06-12", 15, 96),
        ("2024-03-31", 30, 46),
        ("2024-10-27", 30, 50),
        ("2024-03-31", 60, 23),
        ("2024-10-27", 60, 25),
        ("2026-03-29", 15, 92),
        ("2026-10-25", 15, 100),
    ],
)
def test_dst_days_have_the_right_number_of_intervals(day: str, minutes: int, expected: int) -> None:
    start = pd.Timestamp(day)
    grid = interval_grid(start, start + pd.Timedelta(days=1), minutes, "Europe/London")
    assert len(grid) == expected
    assert grid.tz is not None and str(grid.tz) == "Europe/London"
    assert (np.diff(grid.asi8) == minutes * 60 * 10**9).all()  # exact instants, no gap, no overlap


def test_fall_back_day_repeats_the_local_hour_as_distinct_instants() -> None:
    grid = interval_grid("2024-10-27", "2024-10-28", 15, "Europe/London")
    one_am = grid[(grid.hour == 1) & (grid.minute == 0)]
    assert len(one_am) == 2 and one_am[0] != one_am[1]
    assert {str(t.utcoffset()) for t in one_am} == {"1:00:00", "0:00:00"}
    keys = local_keys(grid, 15, "Europe/London")
    assert len(np.unique(keys.day)) == 1  # all 100 belong to the same local day


def test_spring_forward_day_has_no_one_am_hour() -> None:
    grid = interval_grid("2024-03-31", "2024-04-01", 15, "Europe/London")
    assert not (grid.hour == 1).any()


def test_other_timezone_and_offset_aware_bounds() -> None:
    grid = interval_grid("2024-03-10", "2024-03-11", 15, "America/New_York")
    assert len(grid) == 92
    utc = interval_grid(pd.Timestamp("2024-03-30T23:00Z"), pd.Timestamp("2024-03-31T23:00Z"), 60, "Europe/London")
    assert len(utc) == 24 and utc[0].hour == 23  # 23:00 UTC = 23:00 GMT on the 30th


@pytest.mark.parametrize("bad", [7, 0, 45, 90])
def test_invalid_interval(bad: int) -> None:
    with pytest.raises(InvalidRequestError):
        interval_grid("2024-01-01", "2024-01-02", bad)


def test_off_grid_and_empty_period_are_rejected() -> None:
    with pytest.raises(InvalidRequestError):
        interval_grid("2024-01-01T00:10", "2024-01-02", 15)
    with pytest.raises(InvalidRequestError):
        interval_grid("2024-01-02", "2024-01-01", 15)


def _hist(n: int = 10) -> pd.Series:
    idx = pd.date_range("2024-01-01", periods=n, freq="15min", tz="UTC")
    return pd.Series(np.arange(n, dtype=float), index=idx)


def test_regularize_fills_absent_rows_with_nan() -> None:
    h = _hist(10).drop(_hist(10).index[[3, 4]])
    out = regularize(h, 15, "Europe/London")
    assert len(out) == 10 and out.isna().sum() == 2
    assert str(out.index.tz) == "Europe/London"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.tz_localize(None),  # naive
        lambda s: pd.concat([s, s.iloc[:1]]),  # duplicate
        lambda s: s.set_axis(s.index + pd.Timedelta(minutes=5)),  # off grid
        lambda s: s.where(s.index != s.index[2], -1.0),  # negative
        lambda s: s * np.nan,  # nothing observed
    ],
)
def test_regularize_rejects_bad_histories(mutate) -> None:
    with pytest.raises(InvalidHistoryError):
        regularize(mutate(_hist()), 15, "Europe/London")
