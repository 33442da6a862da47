"""Prophet models: `prophet` (tuned for call counts) and `prophet_default` (Prophet's defaults, the reference).

`prophet`: multiplicative seasonality (a busier day scales its whole intraday curve), a daily curve per day type
(conditional seasonalities for Mon-Thu, Fri, Sat and Sun: a Monday morning is not a Sunday morning; per weekday
was no better and 1.6x slower), weekly seasonality, yearly seasonality only with two years of history (set
explicitly: Prophet turns it off itself below that), and the special days as Prophet holidays: each name (bank
holidays of England and Wales, New Year's Eve, Bonfire Night, user events) plus one pooled "public holiday"
effect so a holiday never seen before still moves. Anomalous days (a blizzard) are dropped first, as Prophet's
documentation advises for outliers. It runs on local wall-clock time (`ds` naive local), so the daily curve
follows the local clock across DST. `uncertainty_samples=0`: Prophet's own intervals are Gaussian and cost most
of its predict time; ours are the calibrated negative binomial around its mean. Prophet's cost grows with the
series, so it fits at most the last two years, and a sub-hourly history longer than `native_max_points` is
fitted as hourly totals and split back into intervals by the weekday profile's shares within the hour.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.calendar import HOLIDAY
from forecasting.data import Prepared
from forecasting.grid import LocalKeys
from forecasting.models import CountModel
from forecasting.profile import baseline

POOLED_HOLIDAY = "public holiday (any)"


def _quiet() -> None:
    """Silence Prophet's and cmdstanpy's chatter (the plotly notice, chain start/stop lines); errors still raise.

    cmdstanpy installs its own INFO handler unless its logger already has one, so it gets a NullHandler first.
    """
    for name, level in (("prophet", logging.ERROR), ("prophet.plot", logging.CRITICAL),
                        ("prophet.models", logging.ERROR), ("cmdstanpy", logging.ERROR)):
        lg = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in lg.handlers):
            lg.addHandler(logging.NullHandler())
        lg.setLevel(level)
        lg.propagate = False


def _new_prophet(**kw: Any) -> Any:
    _quiet()
    from prophet import Prophet

    _quiet()
    return Prophet(**kw)


def _naive_local(index: pd.DatetimeIndex, timezone: str) -> pd.Series:
    return pd.Series(index.tz_convert(timezone).tz_localize(None))



class ProphetDefault(CountModel):
    """Prophet with its default settings (the issue's reference), on local wall-clock time, NaN rows dropped."""

    name = "prophet_default"
    description = "Prophet() with default settings (reference)"
    min_history = timedelta(weeks=2)
    cost = 3

    def _frame(self, data: Prepared) -> pd.DataFrame:
        df = pd.DataFrame({"ds": _naive_local(data.index, data.timezone), "y": data.y})
        return df[df.y.notna()].reset_index(drop=True)

    def _fit(self, data: Prepared) -> None:
        self._m = _new_prophet(uncertainty_samples=0)
        self._m.fit(self._frame(data))

    def _predict_mean(self, index: pd.DatetimeIndex, keys: LocalKeys) -> np.ndarray:
        assert self.data is not None
        f = self._m.predict(pd.DataFrame({"ds": _naive_local(index, self.data.timezone)}))
        return f["yhat"].to_numpy()


class ProphetModel(ProphetDefault):
    """Prophet tuned for call counts (see the module docstring)."""

    name = "prophet"
    description = "Prophet: multiplicative, daily curve per day type, weekly, yearly (2+ years), special days"
    min_history = timedelta(weeks=3)

    def __init__(
        self,
        *,
        seasonality_mode: str = "multiplicative",
        daily_order: int = 6,
        weekly_order: int = 3,
        yearly_order: int = 10,
        per_weekday: bool | str = "groups",
        max_points: int = 35_000,
        max_days: int = 731,
        native_max_points: int = 20_000,
        **params: Any,
    ) -> None:
        super().__init__(seasonality_mode=seasonality_mode, daily_order=daily_order, weekly_order=weekly_order,
                         yearly_order=yearly_order, per_weekday=per_weekday, max_points=max_points, max_days=max_days,
                         native_max_points=native_max_points, **params)

    def _blocks(self, index: pd.DatetimeIndex, keys: LocalKeys, minutes: int) -> pd.DatetimeIndex:
        """Start instant of the local `minutes` block holding each interval (whole-hour DST shifts)."""
        off = (keys.slot * self.data_interval) % minutes
        return index - pd.to_timedelta(off, unit="min")

    def _holidays(self, data: Prepared, first: pd.Timestamp) -> pd.DataFrame | None:
        start = first.tz_convert(data.timezone).date()
        end = (data.end + pd.Timedelta(days=800)).tz_convert(data.timezone).date()
        rows = []
        for d, n, kind in data.calendar.entries(start, end):
            rows.append((n, pd.Timestamp(d)))
            if kind == HOLIDAY:
                rows.append((POOLED_HOLIDAY, pd.Timestamp(d)))
        if not rows:
            return None
        return pd.DataFrame(rows, columns=["holiday", "ds"]).drop_duplicates().reset_index(drop=True)

    def _conditions(self, ds: pd.Series) -> dict[str, np.ndarray]:
        pw = self.params["per_weekday"]
        if not pw:
            return {}
        wd = ds.dt.dayofweek.to_numpy()
        if pw == "groups":  # Mon-Thu, Fri, Sat, Sun
            return {"monthu": wd <= 3, "fri": wd == 4, "sat": wd == 5, "sun": wd == 6}
        return {f"wd{i}": wd == i for i in range(7)}

    def _fit(self, data: Prepared) -> None:
        p = self.params
        self.data_interval = data.interval_minutes
        self._base = baseline(data)
        if p["max_days"] and data.observed_span() > timedelta(days=p["max_days"]):
            data = data.head_from(data.end - pd.Timedelta(days=p["max_days"]))
        # anomalous days (a blizzard) are removed, as Prophet's documentation advises for outliers: its trend
        # would otherwise chase them, worst when they fall near the end of the history
        outliers = np.isin(data.keys.day, self._base.outlier_days)
        data = Prepared(data.series.mask(outliers), data.interval_minutes, data.timezone, data.calendar)
        long = len(data.y) > p["native_max_points"]
        self._agg = 60 if long else data.interval_minutes
        if self._agg > data.interval_minutes:
            # long sub-hourly history: Prophet fits complete hours (cost / 4 at 15 minutes); predictions are split
            # back into intervals by the weekday profile's shares within the hour
            blk = self._blocks(data.index, data.keys, self._agg)
            g = pd.DataFrame({"b": blk, "y": data.y}).groupby("b")["y"]
            need = self._agg // data.interval_minutes
            hourly = g.sum(min_count=need).where(g.count() == need)
            df = pd.DataFrame({"ds": _naive_local(pd.DatetimeIndex(hourly.index), data.timezone),
                               "y": hourly.to_numpy()})
            df = df[df.y.notna()].reset_index(drop=True)
        else:
            df = self._frame(data)
        if len(df) > p["max_points"]:
            df = df.iloc[-p["max_points"]:].reset_index(drop=True)
        yearly = p["yearly_order"] if data.observed_span() >= timedelta(days=730) else False
        m = _new_prophet(
            uncertainty_samples=0,
            seasonality_mode=p["seasonality_mode"],
            yearly_seasonality=yearly,
            weekly_seasonality=p["weekly_order"],
            daily_seasonality=False if p["per_weekday"] else p["daily_order"],
            holidays=self._holidays(data, data.index[0]),
        )
        for col, v in self._conditions(df.ds).items():
            df[col] = v
            m.add_seasonality(name=f"daily_{col}", period=1, fourier_order=p["daily_order"], condition_name=col)
        m.fit(df)
        self._m = m

    def _predict_mean(self, index: pd.DatetimeIndex, keys: LocalKeys) -> np.ndarray:
        assert self.data is not None
        if self._agg > self.data.interval_minutes:
            blk = self._blocks(index, keys, self._agg)
            ublk, inv = np.unique(blk.asi8, return_inverse=True)
            hourly = self._yhat(pd.DatetimeIndex(ublk, tz="UTC"))
            shape = self._base.fit.shape
            per = self._agg // self.data.interval_minutes
            first = keys.slot - (keys.slot % per)
            within = sum(shape[keys.weekday, first + j] for j in range(per))
            return hourly[inv] * shape[keys.weekday, keys.slot] / np.maximum(within, 1e-12)
        return self._yhat(index)

    def _yhat(self, index: pd.DatetimeIndex) -> np.ndarray:
        assert self.data is not None
        fut = pd.DataFrame({"ds": _naive_local(index, self.data.timezone)})
        for col, v in self._conditions(fut.ds).items():
            fut[col] = v
        return np.maximum(self._m.predict(fut)["yhat"].to_numpy(), 0.0)

