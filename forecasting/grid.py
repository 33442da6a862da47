"""Interval grids on a local clock: exact instants, DST-correct, and per-interval local keys (day, weekday, slot).

An interval is identified by its start instant. A local day holds every instant from local midnight to the next
local midnight, so a spring-forward day has one hour fewer (92 quarter-hours in Europe/London) and a fall-back
day one hour more (100). Intervals must divide an hour, so they stay aligned to the local clock across changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from forecasting.errors import InvalidHistoryError, InvalidRequestError

VALID_INTERVALS = (5, 10, 15, 20, 30, 60)
NS_PER_DAY = 86_400 * 10**9


def check_interval(interval_minutes: int) -> int:
    """Validate an interval length (a divisor of 60 minutes, so grids stay on the local clock across DST)."""
    if interval_minutes not in VALID_INTERVALS:
        raise InvalidRequestError(f"interval_minutes must be one of {VALID_INTERVALS}, got {interval_minutes!r}")
    return int(interval_minutes)


def check_timezone(timezone: str) -> str:
    """Validate an IANA timezone name."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidRequestError(f"unknown timezone {timezone!r}") from exc
    return timezone


def to_local(value: datetime | date | str | pd.Timestamp, timezone: str) -> pd.Timestamp:
    """A Timestamp in `timezone`; naive values are local wall-clock time and a bare date means local midnight."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        return ts.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    return ts.tz_convert(timezone)


def _on_grid(ts: pd.Timestamp, interval_minutes: int) -> bool:
    return ts.second == 0 and ts.microsecond == 0 and ts.nanosecond == 0 and ts.minute % interval_minutes == 0


def interval_grid(
    start: datetime | date | str | pd.Timestamp,
    end: datetime | date | str | pd.Timestamp,
    interval_minutes: int,
    timezone: str = "Europe/London",
) -> pd.DatetimeIndex:
    """Interval starts in [start, end) as tz-aware instants in `timezone` (DST days get 23 or 25 hours)."""
    check_interval(interval_minutes)
    check_timezone(timezone)
    s, e = to_local(start, timezone), to_local(end, timezone)
    if not _on_grid(s, interval_minutes) or not _on_grid(e, interval_minutes):
        raise InvalidRequestError(f"start and end must lie on the local {interval_minutes}-minute grid: {s}, {e}")
    if e <= s:
        raise InvalidRequestError(f"end ({e}) must be after start ({s})")
    # Whole-hour DST shifts and intervals dividing an hour: a UTC grid anchored at `start` is the local grid.
    grid = pd.date_range(s.tz_convert("UTC"), e.tz_convert("UTC"), freq=f"{interval_minutes}min", inclusive="left")
    return grid.tz_convert(timezone)


@dataclass(frozen=True)
class LocalKeys:
    """Local-calendar keys of each interval: `day` (days since 1970-01-01 of the local date), `weekday` (Mon=0)
    and `slot` (local wall-clock minutes since midnight // interval)."""

    day: np.ndarray
    weekday: np.ndarray
    slot: np.ndarray


def local_keys(index: pd.DatetimeIndex, interval_minutes: int, timezone: str) -> LocalKeys:
    """Local day, weekday and time-of-day slot of every instant in `index` (tz-aware)."""
    wall = index.tz_convert(timezone).tz_localize(None)
    ns = wall.asi8
    day = ns // NS_PER_DAY
    minute = (ns - day * NS_PER_DAY) // (60 * 10**9)
    return LocalKeys(day=day.astype(np.int64), weekday=((day + 3) % 7).astype(np.int64),
                     slot=(minute // interval_minutes).astype(np.int64))


def day_to_date(day: int) -> date:
    """Inverse of `LocalKeys.day`: the local calendar date."""
    return date.fromordinal(date(1970, 1, 1).toordinal() + int(day))


def date_to_day(d: date) -> int:
    """The `LocalKeys.day` code of a local calendar date."""
    return d.toordinal() - date(1970, 1, 1).toordinal()


def regularize(history: pd.Series, interval_minutes: int, timezone: str, *, name: str = "history") -> pd.Series:
    """Validate a count history and return it on its complete regular grid (float, NaN where missing).

    The index must be tz-aware interval starts on the local `interval_minutes` grid, without duplicates. Values
    may be NaN (missing, e.g. a feed outage); negative or infinite counts are rejected.
    """
    check_interval(interval_minutes)
    check_timezone(timezone)
    if not isinstance(history, pd.Series):
        raise InvalidHistoryError(f"{name} must be a pandas Series indexed by interval start")
    idx = history.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise InvalidHistoryError(f"{name} must be indexed by a DatetimeIndex of interval starts")
    if idx.tz is None:
        raise InvalidHistoryError(f"{name} index must be tz-aware instants (naive times are ambiguous at DST)")
    values = pd.to_numeric(history, errors="coerce").astype(float)
    if len(values) == 0 or values.notna().sum() == 0:
        raise InvalidHistoryError(f"{name} has no observed intervals")
    if idx.has_duplicates:
        dup = idx[idx.duplicated()][:3]
        raise InvalidHistoryError(f"{name} has duplicate interval starts, e.g. {[str(t) for t in dup]}")
    local = idx.tz_convert(timezone)
    step = pd.Timedelta(minutes=interval_minutes)
    off = (local.minute % interval_minutes != 0) | (local.second != 0) | (local.microsecond != 0)
    if off.any():
        raise InvalidHistoryError(
            f"{name} has interval starts off the local {interval_minutes}-minute grid, e.g. {local[off][0]}"
        )
    v = values.to_numpy()
    if np.isinf(v).any() or (v[~np.isnan(v)] < 0).any():
        raise InvalidHistoryError(f"{name} has negative or infinite values")
    s = pd.Series(v, index=local).sort_index()
    full = pd.date_range(s.index[0].tz_convert("UTC"), s.index[-1].tz_convert("UTC"), freq=step).tz_convert(timezone)
    return s.reindex(full)
