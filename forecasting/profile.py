"""The shared intraday model: expected calls = day level x weekday time-of-day shape x special-day factor.

`fit_shape` is the Poisson maximum-likelihood fit of y[d, s] ~ Poisson(L[d] * S[weekday(d), s]) by alternating
closed-form updates (iterative proportional fitting), which copes with missing intervals and with 23/25-hour days
because each day's level is fitted from the intervals it has. Shapes use recent weeks with exponential decay,
shrink each weekday toward the all-days shape (a Monday morning may differ from a Sunday morning, but a weekday
with little data borrows from the others), give anomalous days (e.g. a blizzard) little weight, leave special
days out, and are smoothed over the time of day (a triangular kernel of 2-hour half-width: per-slot means at 15
minutes are mostly Poisson noise, and the true rate changes smoothly). `SpecialEffects` learns a multiplicative
factor per special-day name and 3-hour block from that name's past occurrences relative to this baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.data import Prepared
from forecasting.grid import day_to_date

BLOCK_MINUTES = 180
# Shrinkage of special-day factors: a block's own evidence counts against this many calls' worth of the prior
# (the pooled public-holiday factor for a holiday, else 1), so one quiet occurrence with 45 calls in a block moves
# the factor about 60% of the way.
PRIOR_CALLS = 30.0


def _week_smooth(a: np.ndarray, width: int) -> np.ndarray:
    """Triangular moving average (half-width `width` slots at the base) over slots of a (7, n) weekly array,
    circular over the week (Sunday 23:45 runs into Monday 00:00). Hand-written: np.convolve on a wrapped copy."""
    if width <= 1:
        return a
    k = np.concatenate([np.arange(1, width + 1), np.arange(width - 1, 0, -1)]).astype(float)
    k /= k.sum()
    flat = a.reshape(-1)
    pad = len(k) // 2
    ext = np.concatenate([flat[-pad:], flat, flat[:pad]])
    return np.convolve(ext, k, mode="valid").reshape(a.shape)


def robust_day_weights(level: np.ndarray, weekday: np.ndarray, z_max: float = 3.5) -> np.ndarray:
    """Weights in (0, 1] per day: 1 for ordinary days, small for days whose level is far from its neighbours'.

    A day's log level is compared with the median of the same weekday over the surrounding five weeks, scaled
    by the median absolute deviation (a robust z-score); days beyond `z_max` get weight 0.05.
    """
    w = np.ones(len(level))
    ok = np.isfinite(level) & (level > 0)
    if ok.sum() < 14:
        return w
    lg = np.full(len(level), np.nan)
    lg[ok] = np.log(level[ok])
    dev = np.full(len(level), np.nan)
    for i in range(len(level)):
        if not ok[i]:
            continue
        same = np.flatnonzero((weekday == weekday[i]) & ok)
        near = same[np.abs(same - i) <= 17]
        near = near[near != i]
        if len(near) >= 2:
            dev[i] = lg[i] - np.median(lg[near])
    good = np.isfinite(dev)
    if good.sum() < 10:
        return w
    mad = 1.4826 * np.median(np.abs(dev[good] - np.median(dev[good])))
    mad = max(mad, 0.02)
    z = np.abs(dev) / mad
    w[good & (z > z_max)] = 0.05
    return w


@dataclass
class ShapeFit:
    """Result of `fit_shape`: shape (7, n_slots; rows sum to 1), per-day levels and weekday factors."""

    shape: np.ndarray
    days: np.ndarray
    level: np.ndarray
    weekday_factor: np.ndarray
    day_weight: np.ndarray
    interval_minutes: int

    def expected(self, day: np.ndarray, weekday: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Fitted mean per interval for days inside the fit (NaN for days without a level)."""
        pos = np.searchsorted(self.days, day)
        pos = np.clip(pos, 0, len(self.days) - 1)
        lev = np.where(self.days[pos] == day, self.level[pos], np.nan)
        return lev * self.shape[weekday, slot]

    def deseasonalized(self) -> np.ndarray:
        """Day level divided by its weekday factor (a weekly-flat level series; NaN where unknown)."""
        return self.level / self.weekday_factor[(self.days + 3) % 7]


def fit_shape(
    data: Prepared,
    *,
    exclude_days: set[int] | frozenset[int] = frozenset(),
    values: np.ndarray | None = None,
    half_life_weeks: float = 8.0,
    window_weeks: float = 26.0,
    shrink_days: float = 2.0,
    smooth_minutes: int = 120,
    iterations: int = 8,
) -> ShapeFit:
    """Fit levels and weekday x time-of-day shapes on the last `window_weeks` (see the module docstring)."""
    y_all = data.y if values is None else values
    keys = data.keys
    n_slots = data.n_slots
    first_day = keys.day[-1] - round(window_weeks * 7) + 1
    sel = keys.day >= first_day
    y, day, wd, slot = y_all[sel], keys.day[sel], keys.weekday[sel], keys.slot[sel]
    days, inv = np.unique(day, return_inverse=True)
    n_days = len(days)
    day_wd = (days + 3) % 7
    obs = ~np.isnan(y)
    yo, invo, wdo, sloto = y[obs], inv[obs], wd[obs], slot[obs]
    age = (days[-1] - days) / 7.0
    decay = 0.5 ** (age / half_life_weeks)
    base_w = decay * np.where(np.isin(days, list(exclude_days)), 0.0, 1.0)
    width = max(1, smooth_minutes // data.interval_minutes)
    cell = wdo * n_slots + sloto
    shape = np.full((7, n_slots), 1.0 / n_slots)
    robust = np.ones(n_days)
    level = np.full(n_days, np.nan)
    for it in range(iterations):
        s_obs = shape[wdo, sloto]
        num_d = np.bincount(invo, weights=yo, minlength=n_days)
        den_d = np.bincount(invo, weights=s_obs, minlength=n_days)
        level = np.where(den_d > 0, num_d / np.maximum(den_d, 1e-12), np.nan)
        if it == 2:
            robust = robust_day_weights(level, day_wd)
        wday = base_w * robust * np.isfinite(level)
        lev0 = np.nan_to_num(level)
        num = np.bincount(cell, weights=wday[invo] * yo, minlength=7 * n_slots).reshape(7, n_slots)
        den = np.bincount(cell, weights=wday[invo] * lev0[invo], minlength=7 * n_slots).reshape(7, n_slots)
        num, den = _week_smooth(num, width), _week_smooth(den, width)
        pooled = num.sum(axis=0) / np.maximum(den.sum(axis=0), 1e-12)
        pooled = pooled / max(pooled.sum(), 1e-12)
        mean_level = np.average(lev0, weights=np.maximum(wday, 1e-12)) if wday.sum() > 0 else 1.0
        kappa = shrink_days * max(mean_level, 1e-9)
        shape = (num + kappa * pooled) / (den + kappa)
        shape = shape / np.maximum(shape.sum(axis=1, keepdims=True), 1e-12)
    wday = base_w * robust * np.isfinite(level)
    lev0 = np.nan_to_num(level)
    overall = np.average(lev0, weights=wday) if wday.sum() > 0 else np.nanmean(level)
    wf = np.ones(7)
    for w in range(7):
        m = (day_wd == w) & (wday > 0)
        if m.any():
            wf[w] = np.average(lev0[m], weights=wday[m]) / max(overall, 1e-12)
    wf = np.where(wf > 0, wf, 1.0)
    wf = wf / wf.mean()
    return ShapeFit(shape, days, level, wf, base_w * robust, data.interval_minutes)


@dataclass
class SpecialEffects:
    """Multiplicative effects of special days per 3-hour block, learned from the history's past occurrences.

    `factors[name]` comes from that name's own occurrences (shrunk toward the pooled holiday factor for a public
    holiday, toward 1 otherwise: see PRIOR_CALLS); a public
    holiday whose name never occurred uses `pooled_holiday` (all past holidays together) or, with no holiday in
    the history, the Sunday pattern (a common planning rule); other new names have no effect unless the user
    gave a factor.
    """

    factors: dict[str, np.ndarray]
    pooled_holiday: np.ndarray | None
    interval_minutes: int

    def day_factor(self, names: list[str], holiday: bool, weekday: int, fit: ShapeFit,
                   user: float = 1.0) -> np.ndarray:
        """Per-slot multiplier for a day carrying `names` (`holiday`: one of them is a public holiday)."""
        n_slots = fit.shape.shape[1]
        block = (np.arange(n_slots) * self.interval_minutes) // BLOCK_MINUTES
        f = np.ones(n_slots)
        learned = [n for n in names if n in self.factors]
        if learned:
            for n in learned:
                f = f * self.factors[n][block]
        elif holiday:
            if self.pooled_holiday is not None:
                f = self.pooled_holiday[block]
            else:
                f = _block_ratio(fit, 6, weekday, self.interval_minutes)[block]
        return f * user


def _block_ratio(fit: ShapeFit, to_wd: int, from_wd: int, interval_minutes: int) -> np.ndarray:
    """Per-block ratio of weekday `to_wd`'s expected calls to weekday `from_wd`'s."""
    n_slots = fit.shape.shape[1]
    block = (np.arange(n_slots) * interval_minutes) // BLOCK_MINUTES
    a = np.bincount(block, weights=fit.shape[to_wd] * fit.weekday_factor[to_wd])
    b = np.bincount(block, weights=fit.shape[from_wd] * fit.weekday_factor[from_wd])
    return a / np.maximum(b, 1e-12)


def _day_levels(data: Prepared, values: np.ndarray, shape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(days, level) for every local day of the history: the closed-form Poisson level with a fixed shape (NaN
    for a day with under a quarter of a day's expected share observed)."""
    keys = data.keys
    days, inv = np.unique(keys.day, return_inverse=True)
    obs = ~np.isnan(values)
    num = np.bincount(inv[obs], weights=values[obs], minlength=len(days))
    den = np.bincount(inv[obs], weights=shape[keys.weekday[obs], keys.slot[obs]], minlength=len(days))
    level = np.where(den >= 0.25, num / np.maximum(den, 1e-12), np.nan)
    return days, level


def learn_special_effects(
    data: Prepared, fit: ShapeFit, special: dict[int, list[str]], days: np.ndarray, level: np.ndarray
) -> SpecialEffects:
    """Learn per-name block factors from every special day in the history (see `SpecialEffects`).

    A special day's expected calls are its weekday's share of the median de-seasonalized level of the ordinary
    days within two weeks of it, spread over the day by that weekday's shape.
    """
    m = data.interval_minutes
    n_blocks = 1440 // BLOCK_MINUTES
    keys = data.keys
    holiday_names = frozenset(data.holiday_names(days))
    wd_all = (days + 3) % 7
    des = level / fit.weekday_factor[wd_all]
    ordinary = np.isfinite(des) & ~np.isin(days, list(special))
    ordinary &= robust_day_weights(level, wd_all) >= 1.0
    obs_by_name: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    pooled: list[tuple[np.ndarray, np.ndarray]] = []
    y = data.y
    for d, names in special.items():
        near = ordinary & (np.abs(days - d) <= 14)
        if near.sum() < 3:
            continue
        ref = float(np.median(des[near]))
        wd = int((d + 3) % 7)
        sel = (keys.day == d) & ~np.isnan(y)
        if sel.sum() < 0.75 * data.n_slots:
            continue
        exp_ = ref * fit.weekday_factor[wd] * fit.shape[wd, keys.slot[sel]]
        blk = (keys.slot[sel] * m) // BLOCK_MINUTES
        yb = np.bincount(blk, weights=y[sel], minlength=n_blocks)
        eb = np.bincount(blk, weights=exp_, minlength=n_blocks)
        for n in names:
            obs_by_name.setdefault(n, []).append((yb, eb))
        if any(n in holiday_names for n in names):
            pooled.append((yb, eb))

    def shrunk(occ: list[tuple[np.ndarray, np.ndarray]], prior: np.ndarray | float) -> np.ndarray:
        ys = np.sum([o[0] for o in occ], axis=0)
        es = np.sum([o[1] for o in occ], axis=0)
        return (ys + PRIOR_CALLS * prior) / np.maximum(es + PRIOR_CALLS, 1e-12)

    pooled_f = shrunk(pooled, 1.0) if pooled else None
    factors = {n: shrunk(occ, pooled_f if (pooled_f is not None and n in holiday_names) else 1.0)
               for n, occ in obs_by_name.items()}
    return SpecialEffects(factors, pooled_f, m)


@dataclass
class Baseline:
    """The shared decomposition of a history: shape fit (recent window), special-day effects, the
    calendar-adjusted values, and the level of every day of the history on the adjusted scale."""

    fit: ShapeFit
    effects: SpecialEffects
    special: dict[int, list[str]]
    adjusted: np.ndarray
    factor: np.ndarray
    days: np.ndarray
    level: np.ndarray
    outlier_days: np.ndarray

    def outlier_mask(self, data: Prepared) -> np.ndarray:
        """True for history intervals on anomalous days (a blizzard; level far from the same weekday nearby)."""
        return np.isin(data.keys.day, self.outlier_days)

    def future_factor(self, data: Prepared, day: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Special-day multipliers for intervals on local days `day` (ones on ordinary days)."""
        out = np.ones(len(day))
        if len(day) == 0:
            return out
        user = data.calendar.factors()
        holidays = data.holiday_names(day)
        for d, names in data.special_days(day).items():
            sel = day == d
            if not sel.any():
                continue
            uf = float(np.prod([user.get((day_to_date(d), n), 1.0) for n in names]))
            is_hol = any(n in holidays for n in names)
            f = self.effects.day_factor(names, is_hol, int((d + 3) % 7), self.fit, uf)
            out[sel] = f[slot[sel]]
        return out

    def expected(self, data: Prepared) -> np.ndarray:
        """Fitted mean of every history interval (day level x shape x special factor; NaN on empty days)."""
        keys = data.keys
        pos = np.searchsorted(self.days, keys.day)
        return self.level[pos] * self.fit.shape[keys.weekday, keys.slot] * self.factor


def baseline(data: Prepared, *, window_weeks: float = 26.0, half_life_weeks: float = 8.0,
             shrink_days: float = 2.0, smooth_minutes: int = 120) -> Baseline:
    """Fit (and cache on `data`) the shape, the special-day effects and the calendar-adjusted history."""
    key = ("baseline", window_weeks, half_life_weeks, shrink_days, smooth_minutes)
    if key in data.cache:
        return data.cache[key]
    keys = data.keys
    special = data.special_days(np.unique(keys.day))
    fit = fit_shape(data, exclude_days=set(special), window_weeks=window_weeks, half_life_weeks=half_life_weeks,
                    shrink_days=shrink_days, smooth_minutes=smooth_minutes)
    days, raw_level = _day_levels(data, data.y, fit.shape)
    effects = learn_special_effects(data, fit, special, days, raw_level)
    factor = np.ones(len(data.y))
    holidays = data.holiday_names(days)
    for d, names in special.items():
        sel = keys.day == d
        f = effects.day_factor(names, any(n in holidays for n in names), int((d + 3) % 7), fit)
        factor[sel] = f[keys.slot[sel]]
    adjusted = data.y / factor
    days, level = _day_levels(data, adjusted, fit.shape)
    outliers = days[robust_day_weights(level, (days + 3) % 7) < 1.0]
    out = Baseline(fit, effects, special, adjusted, factor, days, level, outliers)
    data.cache[key] = out
    return out
