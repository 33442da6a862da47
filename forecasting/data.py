"""A validated history on its regular grid with local keys and special days, shared by all models of one fit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from forecasting.calendar import HOLIDAY, SpecialDays
from forecasting.grid import LocalKeys, date_to_day, day_to_date, local_keys, regularize


@dataclass
class Prepared:
    """History of counts on a complete regular grid (NaN = missing) with its local keys and calendar."""

    series: pd.Series
    interval_minutes: int
    timezone: str
    calendar: SpecialDays
    keys: LocalKeys = field(init=False)
    cache: dict = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.keys = local_keys(self.series.index, self.interval_minutes, self.timezone)

    @classmethod
    def from_history(
        cls, history: pd.Series, interval_minutes: int, timezone: str, calendar: SpecialDays
    ) -> Prepared:
        """Validate and regularize `history` (see `grid.regularize`)."""
        return cls(regularize(history, interval_minutes, timezone), interval_minutes, timezone, calendar)

    @property
    def y(self) -> np.ndarray:
        """Counts as a float array (NaN = missing)."""
        return self.series.to_numpy()

    @property
    def index(self) -> pd.DatetimeIndex:
        """Interval starts (tz-aware, in the control room's timezone)."""
        return self.series.index

    @property
    def step(self) -> pd.Timedelta:
        """The interval length."""
        return pd.Timedelta(minutes=self.interval_minutes)

    @property
    def n_slots(self) -> int:
        """Slots in a standard (24-hour) local day."""
        return 1440 // self.interval_minutes

    @property
    def end(self) -> pd.Timestamp:
        """End of the last interval (exclusive)."""
        return self.index[-1] + self.step

    def observed_span(self) -> timedelta:
        """Time from the first observed interval's start to the last observed interval's end."""
        obs = np.flatnonzero(~np.isnan(self.y))
        if len(obs) == 0:
            return timedelta(0)
        return (self.index[obs[-1]] + self.step - self.index[obs[0]]).to_pytimedelta()

    def head(self, end: pd.Timestamp) -> Prepared:
        """The history before `end` (for a backtest origin); special days and settings unchanged."""
        return Prepared(self.series[self.series.index < end], self.interval_minutes, self.timezone, self.calendar)

    def tail_weeks(self, weeks: float) -> Prepared:
        """The last `weeks` of history."""
        return self.head_from(self.end - pd.Timedelta(weeks=weeks))

    def head_from(self, start: pd.Timestamp) -> Prepared:
        """The history from `start` on."""
        return Prepared(self.series[self.series.index >= start], self.interval_minutes, self.timezone, self.calendar)

    def special_days(self, days: np.ndarray) -> dict[int, list[str]]:
        """Names of the special days among local day codes `days` (day code -> names)."""
        if len(days) == 0:
            return {}
        first, last = day_to_date(int(np.min(days))), day_to_date(int(np.max(days)))
        return {date_to_day(d): names for d, names in self.calendar.by_date(first, last).items()}

    def name_kinds(self, days: np.ndarray) -> dict[str, str]:
        """Kind of each special-day name among `days`."""
        if len(days) == 0:
            return {}
        return self.calendar.kinds(day_to_date(int(np.min(days))), day_to_date(int(np.max(days))))

    def holiday_names(self, days: np.ndarray) -> set[str]:
        """Names that are public holidays (not events) among `days`."""
        return {n for n, k in self.name_kinds(days).items() if k == HOLIDAY}
