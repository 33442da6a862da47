"""The model interface (`CountModel`: fit on a history, predict a horizon as count distributions) and the
statistical models: weekly seasonal naive, the weekday x time-of-day profile, ETS and ARIMA on daily volumes with
the intraday profile, and MSTL (daily and weekly seasons).

Every model forecasts a mean per interval; `CountModel.fit` then calibrates a negative-binomial dispersion that
grows with the horizon on the model's own rolling-origin errors on the history (see `calibration`), so every
forecast point is a count distribution with intervals at any level and any quantile.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from forecasting.calendar import Event, SpecialDays, make_calendar
from forecasting.calibration import (
    MIN_GROWTH_PER_DAY,
    Dispersion,
    Fold,
    fit_dispersion,
    fold_task,
    make_folds,
    run_tasks,
)
from forecasting.data import Prepared
from forecasting.distribution import CountForecast
from forecasting.errors import InsufficientHistoryError, InvalidHistoryError, InvalidRequestError
from forecasting.grid import LocalKeys, local_keys
from forecasting.metrics import naive_scale, score_points
from forecasting.profile import Baseline, baseline, robust_day_weights

Progress = Callable[[float, str], None]
DEFAULT_HORIZON = timedelta(days=28)


def infer_interval(index: pd.DatetimeIndex) -> int:
    """The interval length in minutes of a history index (the smallest gap between consecutive starts)."""
    if len(index) < 2:
        raise InvalidHistoryError("cannot infer interval_minutes from fewer than two intervals: pass it")
    gaps = np.diff(np.sort(index.asi8)) // (60 * 10**9)
    return int(gaps[gaps > 0].min())


def as_prepared(
    history: pd.Series | Prepared,
    interval_minutes: int | None,
    timezone: str,
    calendar: SpecialDays | None = None,
    events: Sequence[Event] = (),
) -> Prepared:
    """Validate a history Series (or pass a `Prepared` through) with its calendar of special days."""
    if isinstance(history, Prepared):
        return history
    if interval_minutes is None:
        interval_minutes = infer_interval(history.index)
    cal = calendar if calendar is not None else make_calendar()
    if events:
        cal = cal.with_events(events)
    return Prepared.from_history(history, interval_minutes, timezone, cal)


class CountModel(ABC):
    """A forecasting model for call counts, statsforecast style: `fit(history)` then `predict(h)`.

    Subclasses implement `_fit` (learn from a `Prepared` history) and `_predict_mean` (mean calls per target
    interval, never negative), and declare `name` and `min_history`. `fit` checks the history is long enough
    (else `InsufficientHistoryError`) and calibrates the count distribution; `predict` returns a `CountForecast`.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    min_history: ClassVar[timedelta] = timedelta(weeks=1)
    cost: ClassVar[int] = 0  # rough relative fit cost, to schedule the slowest fits first

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.data: Prepared | None = None
        self.dispersion: Dispersion | None = None
        self.info: dict[str, Any] = {}
        self.scores: pd.DataFrame = pd.DataFrame()
        self.why: str = ""

    # -- public interface -------------------------------------------------------------------------------------
    @classmethod
    def required_history(cls, interval_minutes: int = 15) -> timedelta:
        """How much observed history this model needs (first to last observed interval)."""
        return cls.min_history

    def fit(
        self,
        history: pd.Series | Prepared,
        *,
        interval_minutes: int | None = None,
        timezone: str = "Europe/London",
        events: Sequence[Event] = (),
        calendar: SpecialDays | None = None,
        horizon: timedelta = DEFAULT_HORIZON,
        calibration_origins: int = 2,
        n_jobs: int = 1,
        progress: Progress | None = None,
    ) -> Self:
        """Fit on `history` (counts per interval, tz-aware index, NaN = missing) and calibrate its intervals.

        `horizon` is how far ahead forecasts will go: the dispersion is calibrated on `calibration_origins`
        rolling origins of that horizon within the history (0 = in-sample fallback, faster, less honest).
        """
        data = as_prepared(history, interval_minutes, timezone, calendar, events)
        self.check_history(data)
        if progress:
            progress(0.0, f"fitting {self.name}")
        folds = make_folds(data, horizon, calibration_origins, timedelta(days=7),
                           self.required_history(data.interval_minutes)) if calibration_origins > 0 else []
        errors: list[BaseException] = []

        def fit_all() -> None:
            try:
                self._fit(data)
            except BaseException as exc:  # re-raised below, outside the worker thread
                errors.append(exc)

        # the fit on the whole history runs alongside the calibration folds (slowest first: it is the longest)
        tasks = [fit_all, *[fold_task(f, self.name, self.mean_forecast) for f in folds]]
        run_tasks(tasks, n_jobs=n_jobs, progress=progress, progress_span=(0.0, 0.95), message=f"fitting {self.name}")
        if errors:
            raise errors[0]
        self.data = data
        self.dispersion = self._calibrate(data, folds)
        if progress:
            progress(1.0, f"fitted {self.name}")
        return self

    def predict(self, h: int | pd.DatetimeIndex) -> CountForecast:
        """Forecast `h` intervals after the history (or the given interval starts) as count distributions."""
        if self.data is None or self.dispersion is None:
            raise InvalidRequestError(f"model {self.name!r} must be fitted before predict")
        index = self._target_index(h)
        mu = self.predict_mean(index)
        ahead = (index - self.data.end).total_seconds().to_numpy() / 86400.0
        return CountForecast(index, mu, self.dispersion.alpha(ahead))

    def predict_mean(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Mean calls per interval start in `index` (tz-aware), clipped at zero."""
        assert self.data is not None
        keys = local_keys(index, self.data.interval_minutes, self.data.timezone)
        mu = np.asarray(self._predict_mean(index, keys), dtype=float)
        return np.maximum(np.nan_to_num(mu, nan=0.0, posinf=0.0), 0.0)

    def clone(self) -> Self:
        """An unfitted copy with the same parameters."""
        return type(self)(**self.params)

    def mean_forecast(self, train: Prepared, index: pd.DatetimeIndex) -> np.ndarray:
        """Fit an unfitted copy on `train` (no calibration) and return its mean forecast for `index`."""
        m = self.clone()
        m.check_history(train)
        m._fit(train)
        m.data = train
        return m.predict_mean(index)

    def check_history(self, data: Prepared) -> None:
        """Raise `InsufficientHistoryError` when the observed history is shorter than `required_history`."""
        need = self.required_history(data.interval_minutes)
        given = data.observed_span()
        if given < need:
            raise InsufficientHistoryError(self.name, need, given)

    # -- to implement -----------------------------------------------------------------------------------------
    @abstractmethod
    def _fit(self, data: Prepared) -> None:
        """Learn from the history."""

    @abstractmethod
    def _predict_mean(self, index: pd.DatetimeIndex, keys: LocalKeys) -> np.ndarray:
        """Mean per target interval."""

    # -- helpers ----------------------------------------------------------------------------------------------
    def _target_index(self, h: int | pd.DatetimeIndex) -> pd.DatetimeIndex:
        assert self.data is not None
        if isinstance(h, pd.DatetimeIndex):
            if h.tz is None:
                raise InvalidRequestError("target interval starts must be tz-aware")
            return h.tz_convert(self.data.timezone)
        if int(h) < 1:
            raise InvalidRequestError(f"horizon must be at least one interval, got {h}")
        start = self.data.end.tz_convert("UTC")
        return pd.date_range(start, periods=int(h), freq=self.data.step).tz_convert(self.data.timezone)

    def _calibrate(self, data: Prepared, folds: list[Fold]) -> Dispersion:
        if folds:
            ok = [f for f in folds if self.name in f.mu]
            if ok:
                y = np.concatenate([f.y for f in ok])
                mu = np.concatenate([f.mu[self.name] for f in ok])
                h = np.concatenate([f.horizon_days for f in ok])
                disp = fit_dispersion(y, mu, h, source=f"backtest, {len(ok)} origin(s)")
                scale = np.concatenate([np.full(len(f.y), naive_scale(f.train)) for f in ok])  # type: ignore[arg-type]
                row = score_points(y, mu, disp.alpha(h), scale=scale)
                row["seconds"] = float(np.mean([f.seconds[self.name] for f in ok]))
                self.scores = pd.DataFrame({self.name: row}).T.rename_axis("candidate")
                self.why = (f"model {self.name} as requested; intervals calibrated on {len(ok)} rolling origin(s) "
                            f"of the history ({_span_days(h)} ahead)")
                return disp
        self.why = f"model {self.name} as requested; history too short to backtest: in-sample intervals"
        return in_sample_dispersion(data)


def _span_days(h: np.ndarray) -> str:
    return f"{np.ceil(float(np.max(h))):g} days" if len(h) else "0 days"


def in_sample_dispersion(data: Prepared) -> Dispersion:
    """Fallback when the history is too short to backtest: NB dispersion of the in-sample profile fit, growing
    by a week's worth of that every week ahead (an assumption, stated in the forecast's notes)."""
    base = baseline(data)
    mu = base.expected(data)
    d = fit_dispersion(data.y, mu, np.zeros(len(mu)), source="in-sample")
    growth = max(d.a / 7.0, MIN_GROWTH_PER_DAY, 0.002)
    return Dispersion(d.a, growth, source="in-sample (history too short to backtest)")


# ---------------------------------------------------------------------------------------------------------------
class SeasonalNaive(CountModel):
    """Weekly seasonal naive: each interval gets the count of the same local weekday and time one week earlier
    (the latest observed week; missing weeks are skipped). The baseline every forecast must beat."""

    name = "seasonal_naive"
    description = "same local weekday and time in the latest observed week"
    min_history = timedelta(weeks=1)

    def _fit(self, data: Prepared) -> None:
        k = data.keys
        self._day0 = int(k.day.min())
        n_days = int(k.day.max()) - self._day0 + 1
        table = np.zeros((n_days, data.n_slots))
        count = np.zeros((n_days, data.n_slots))
        obs = ~np.isnan(data.y)
        np.add.at(table, (k.day[obs] - self._day0, k.slot[obs]), data.y[obs])
        np.add.at(count, (k.day[obs] - self._day0, k.slot[obs]), 1.0)
        with np.errstate(invalid="ignore"):
            self._table = np.where(count > 0, table / np.maximum(count, 1), np.nan)
        cell = k.weekday[obs] * data.n_slots + k.slot[obs]
        s = np.bincount(cell, weights=data.y[obs], minlength=7 * data.n_slots)
        c = np.bincount(cell, minlength=7 * data.n_slots)
        overall = float(np.nanmean(data.y))
        self._fallback = np.where(c > 0, s / np.maximum(c, 1), overall).reshape(7, data.n_slots)

    def _predict_mean(self, index: pd.DatetimeIndex, keys: LocalKeys) -> np.ndarray:
        out = np.full(len(index), np.nan)
        n_days = self._table.shape[0]
        rel = keys.day - self._day0
        max_k = max(1, int(np.max(rel, initial=0)) // 7 + 1)
        for k in range(1, max_k + 1):
            todo = np.isnan(out)
            if not todo.any():
                break
            src = rel - 7 * k
            ok = todo & (src >= 0) & (src < n_days)
            out[ok] = self._table[src[ok], keys.slot[ok]]
        todo = np.isnan(out)
        out[todo] = self._fallback[keys.weekday[todo], keys.slot[todo]]
        return out


# ---------------------------------------------------------------------------------------------------------------
def _baseline_params(params: dict[str, Any]) -> dict[str, Any]:
    keys = ("window_weeks", "half_life_weeks", "shrink_days", "smooth_minutes")
    return {k: params[k] for k in keys if k in params}


def _clean_levels(base: Baseline, max_days: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Daily levels (adjusted scale) for every history day, last `max_days`: anomalous days (robust z > 3.5
    against the same weekday in the surrounding weeks) replaced by that median, unknown days filled likewise."""
    days, level = base.days, base.level.copy()
    if max_days is not None and len(days) > max_days:
        days, level = days[-max_days:], level[-max_days:]
    wd = (days + 3) % 7
    w = robust_day_weights(level, wd)
    bad = (w < 1.0) | ~np.isfinite(level)
    if bad.any():
        fixed = level.copy()
        for i in np.flatnonzero(bad):
            same = np.flatnonzero((wd == wd[i]) & ~bad)
            near = same[np.argsort(np.abs(same - i))[:4]]
            fixed[i] = np.median(level[near]) if len(near) else np.nanmedian(level[~bad]) if (~bad).any() else 1.0
        level = fixed
    return days, level


class Profile(CountModel):
    """Weekday x time-of-day profile: day level x shape (Poisson fit over recent weeks, see `profile`), with the
    level an exponentially weighted mean of recent de-seasonalized daily volumes and special-day effects."""

    name = "profile"
    description = "recent level x weekday time-of-day shape (Poisson fixed effects), special-day effects"
    min_history = timedelta(weeks=1)

    def __init__(self, *, level_half_life_days: float = 14.0, **params: Any) -> None:
        super().__init__(level_half_life_days=level_half_life_days, **params)

    def _fit(self, data: Prepared) -> None:
        self._base = baseline(data, **_baseline_params(self.params))
        days, level = _clean_levels(self._base, max_days=8 * 7)
        des = level / self._base.fit.weekday_factor[(days + 3) % 7]
        age = days[-1] - days
        w = 0.5 ** (age / self.params["level_half_life_days"])
        self._level = float(np.average(des, weights=w))

    def _predict_mean(self, index: pd.DatetimeIndex, keys: LocalKeys) -> np.ndarray:
        fit = self._base.fit
        f = self._base.future_factor(self.data, keys.day, keys.slot)  # type: ignore[arg-type]
        return self._level * fit.weekday_factor[keys.weekday] * fit.shape[keys.weekday, keys.slot] * f


class _DailyTopDown(CountModel):
    """Forecast daily volumes with a statsforecast model (weekly season), split them with the intraday profile."""

    max_days: ClassVar[int] = 3 * 365

    @abstractmethod
    def _daily_model(self) -> Any:
        """A statsforecast model instance for the daily series."""

    def _fit(self, data: Prepared) -> None:
        self._base = baseline(data, **_baseline_params(self.params))
        days, level = _clean_levels(self._base, self.max_days)
        self._last_day = int(days[-1])
        self._last_level = float(level[-1])
        model = self._daily_model()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(level.astype(float))
        self._model = model
        self._daily_cache: dict[int, np.ndarray] = {}
        self._floor = 0.05 * float(np.median(level))

    def _daily(self, steps: int) -> np.ndarray:
        if steps not in self._daily_cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = np.asarray(self._model.predict(h=steps)["mean"], dtype=float)
            self._daily_cache[steps] = np.maximum(np.nan_to_num(f, nan=self._floor), self._floor)
        return self._daily_cache[steps]

    def _predict_mean(self, index: pd.DatetimeIndex, keys: LocalKeys) -> np.ndarray:
        step = keys.day - self._last_day
        daily = self._daily(int(max(step.max(), 1)))
        # the rest of a partly observed last day keeps that day's fitted level
        level = np.where(step >= 1, daily[np.clip(step, 1, None) - 1], self._last_level)
        fit = self._base.fit
        f = self._base.future_factor(self.data, keys.day, keys.slot)  # type: ignore[arg-type]
        return level * fit.shape[keys.weekday, keys.slot] * f


class ETS(_DailyTopDown):
    """AutoETS (statsforecast; weekly season) on daily volumes, split into intervals by the weekday profile."""

    name = "ets"
    description = "statsforecast AutoETS on daily volumes (season 7) x weekday time-of-day profile"
    min_history = timedelta(weeks=3)
    cost = 1

    def _daily_model(self) -> Any:
        from statsforecast.models import AutoETS

        return AutoETS(season_length=7)


class ARIMA(_DailyTopDown):
    """AutoARIMA (statsforecast; weekly season) on daily volumes, split into intervals by the weekday profile."""

    name = "arima"
    description = "statsforecast AutoARIMA on daily volumes (season 7) x weekday time-of-day profile"
    min_history = timedelta(weeks=4)
    max_days = 2 * 365
    cost = 2

    def _daily_model(self) -> Any:
        from statsforecast.models import AutoARIMA

        return AutoARIMA(season_length=7)


# ---------------------------------------------------------------------------------------------------------------
def wall_positions(index: pd.DatetimeIndex, timezone: str, origin: pd.Timestamp, minutes: int) -> np.ndarray:
    """Position of each instant on a wall-clock grid from naive local `origin` (every local day has 1440/m slots;
    the repeated autumn hour maps twice onto the same slots, the skipped spring hour has slots nobody maps to)."""
    wall = index.tz_convert(timezone).tz_localize(None)
    return ((wall - origin) // pd.Timedelta(minutes=minutes)).to_numpy().astype(np.int64)


class MSTLModel(CountModel):
    """statsforecast MSTL with daily and weekly seasons (trend: last week's mean) on a wall-clock grid of the last
    `window_weeks` of the calendar-adjusted history, on the square-root scale (variance-stabilizing for counts).

    STL needs a complete series: missing intervals, anomalous days and the skipped spring hour are filled with
    the profile fit; the repeated autumn hour is averaged. Older history adds nothing to daily and weekly seasons
    and STL's cost grows with length, hence the window.
    """

    name = "mstl"
    description = "statsforecast MSTL (daily + weekly seasons) on the recent weeks, sqrt scale"
    min_history = timedelta(weeks=3)
    cost = 1

    def __init__(self, *, window_weeks_mstl: float = 10.0, transform: str = "sqrt", **params: Any) -> None:
        if transform not in ("sqrt", "none", "log"):
            raise InvalidRequestError(f"unknown transform {transform!r}")
        super().__init__(window_weeks_mstl=window_weeks_mstl, transform=transform, **params)

    def _fit(self, data: Prepared) -> None:
        from statsforecast.models import MSTL, WindowAverage

        self._base = baseline(data, **_baseline_params(self.params))
        exp_adj = self._base.expected(data) / self._base.factor
        fill = self._base.fit.weekday_factor[data.keys.weekday] * self._base.fit.shape[data.keys.weekday,
                                                                                      data.keys.slot]
        fill = fill * float(np.nanmedian(self._base.fit.deseasonalized()))
        exp_adj = np.where(np.isfinite(exp_adj), exp_adj, fill)
        # missing intervals and anomalous days (a blizzard would otherwise echo through the seasonal components)
        bad = np.isnan(self._base.adjusted) | self._base.outlier_mask(data)
        values = np.where(bad, exp_adj, self._base.adjusted)
        m = data.interval_minutes
        n = data.n_slots
        first_day = data.keys.day[-1] - round(self.params["window_weeks_mstl"] * 7) + 1
        first_day = max(first_day, int(data.keys.day[0]) + (1 if data.keys.slot[0] > 0 else 0))
        sel = data.keys.day >= first_day
        origin = pd.Timestamp(first_day, unit="D")
        pos = wall_positions(data.index[sel], data.timezone, origin, m)
        length = int(pos.max()) + 1
        s = np.bincount(pos, weights=values[sel], minlength=length)
        c = np.bincount(pos, minlength=length)
        series = np.where(c > 0, s / np.maximum(c, 1), np.nan)
        gaps = np.isnan(series)
        if gaps.any():  # skipped spring hour: the neighbouring fitted values
            series[gaps] = np.interp(np.flatnonzero(gaps), np.flatnonzero(~gaps), series[~gaps])
        t = self.params["transform"]
        z = np.sqrt(series + 3.0 / 8.0) if t == "sqrt" else np.log1p(series) if t == "log" else series
        # trend: the mean of the last week of the de-seasonalized series (AutoETS, tuned for one step ahead at
        # interval resolution, chases intraday noise and extrapolates it for weeks); LOESS jumps: 10x faster
        jump = max(1, n // 10)
        model = MSTL(season_length=[n, 7 * n], trend_forecaster=WindowAverage(window_size=7 * n),
                     stl_kwargs={"seasonal_jump": jump, "trend_jump": jump, "low_pass_jump": jump})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(z.astype(float))
        self._model, self._origin, self._length = model, origin, length
        self._cache: dict[int, np.ndarray] = {}

    def _predict_mean(self, index: pd.DatetimeIndex, keys: LocalKeys) -> np.ndarray:
        assert self.data is not None
        pos = wall_positions(index, self.data.timezone, self._origin, self.data.interval_minutes) - self._length
        steps = int(max(pos.max(), 0)) + 1
        if steps not in self._cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._cache[steps] = np.asarray(self._model.predict(h=steps)["mean"], dtype=float)
        z = self._cache[steps][np.clip(pos, 0, steps - 1)]
        t = self.params["transform"]
        # back-transforms: Anscombe's (sqrt(y + 3/8) -> z^2 - 1/8 is unbiased to first order), exp for log
        mu = np.maximum(z, 0.0) ** 2 - 1.0 / 8.0 if t == "sqrt" else np.expm1(z) if t == "log" else z
        f = self._base.future_factor(self.data, keys.day, keys.slot)
        return np.maximum(mu, 0.0) * f
