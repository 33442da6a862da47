"""`auto`: choose or blend models by a rolling-origin backtest on the channel's own history, and say why.

For each candidate whose minimum history is met, the history is cut at `n_origins` local midnights a week apart
(the newest leaving the requested horizon after it), the candidate is fitted on each head and forecasts the
requested horizon at the requested interval. Candidates are ranked by pooled MAE; equal-weight blends of the best
two and best three are scored on the same points, and so is the default: the equal blend of `profile` and
`prophet`, two structurally different models (a local level with a nonparametric weekday x time-of-day shape, and
a global regression with trend, yearly seasonality and holidays) whose errors partly cancel. The default is kept
unless another option's backtest MAE is lower by more than `switch_margin` (2%): with a few origins a week
apart, smaller differences are mostly noise (measured on the benchmark data, picking the plain minimum did worse
than keeping the default). Every candidate is also fitted on the whole history alongside the backtest, so the
winner is ready when the backtest ends; its pooled backtest errors calibrate the count distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Self

import numpy as np
import pandas as pd

from forecasting.calendar import Event, SpecialDays
from forecasting.calibration import Dispersion, Fold, fit_dispersion, fold_task, make_folds, run_tasks
from forecasting.data import Prepared
from forecasting.grid import LocalKeys
from forecasting.metrics import naive_scale, score_points
from forecasting.models import (
    ARIMA,
    DEFAULT_HORIZON,
    ETS,
    CountModel,
    MSTLModel,
    Profile,
    Progress,
    SeasonalNaive,
    as_prepared,
    in_sample_dispersion,
)
from forecasting.prophet_model import ProphetDefault, ProphetModel

DEFAULT_CANDIDATES = ("profile", "ets", "mstl", "prophet")
DEFAULT_BLEND = ("profile", "prophet")
CANDIDATE_CLASSES: dict[str, type[CountModel]] = {
    c.name: c for c in (SeasonalNaive, Profile, ETS, ARIMA, MSTLModel, ProphetModel, ProphetDefault)
}


class AutoModel(CountModel):
    """Chooses (or blends) candidates by rolling-origin backtest; `scores`, `choice` and `why` explain it."""

    name = "auto"
    description = "best of (or blend of) the candidates by rolling-origin backtest on this history"
    min_history = timedelta(weeks=1)

    def __init__(
        self,
        *,
        candidates: Sequence[str] = DEFAULT_CANDIDATES,
        n_origins: int = 3,
        step_days: int = 7,
        blend: bool = True,
        default_blend: Sequence[str] = DEFAULT_BLEND,
        switch_margin: float = 0.02,
        **params: Any,
    ) -> None:
        super().__init__(candidates=tuple(candidates), n_origins=n_origins, step_days=step_days, blend=blend,
                         default_blend=tuple(default_blend), switch_margin=switch_margin, **params)
        self.members: list[tuple[CountModel, float]] = []
        self.scores: pd.DataFrame = pd.DataFrame()
        self.choice: str = ""
        self.why: str = ""

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
        """Backtest the candidates on `history` at `horizon`, pick the best (or a blend), refit it on everything."""
        data = as_prepared(history, interval_minutes, timezone, calendar, events)
        self.check_history(data)
        span = data.observed_span()
        m = data.interval_minutes
        cands = [CANDIDATE_CLASSES[c](**self._candidate_params(c)) for c in self.params["candidates"]]
        eligible = [c for c in cands if c.required_history(m) <= span]
        if not eligible:
            eligible = [Profile()]
        folds, used, h_eff = self._plan(data, eligible, horizon)
        if not folds:
            best = Profile()
            self._finish(data, [(best, 1.0)], in_sample_dispersion(data), progress)
            need = min(c.required_history(m) for c in eligible) + timedelta(days=7)
            self.choice = best.name
            self.why = (f"history ({span.days} days) too short to backtest (needs about {need.days} days for one "
                        f"origin with a week ahead); used {best.name}, which needs the least history")
            self.scores = pd.DataFrame()
            return self
        ref = SeasonalNaive()
        runners = sorted([*used, ref] if all(c.name != ref.name for c in used) else used,
                         key=lambda c: -c.cost)
        full: dict[str, CountModel] = {}
        full_errors: dict[str, str] = {}

        def full_fit(c: CountModel) -> Callable[[], None]:
            def run() -> None:  # every candidate is fitted on the whole history alongside the backtest (2 cores)
                try:
                    mdl = c.clone()
                    mdl._fit(data)
                    mdl.data = data
                    full[c.name] = mdl
                except Exception as exc:
                    full_errors[c.name] = f"{type(exc).__name__}: {exc}"
            return run

        tasks: list[Callable[[], None]] = []
        for c in runners:
            if c.name != ref.name:
                tasks.append(full_fit(c))
            tasks += [fold_task(f, c.name, c.mean_forecast) for f in folds]
        run_tasks(tasks, n_jobs=n_jobs, progress=progress, progress_span=(0.0, 0.95), message="backtesting candidates")
        ok_names = [c.name for c in used if all(c.name in f.mu for f in folds) and c.name in full]
        failed = {c.name: full_errors.get(c.name) or next(f.errors[c.name] for f in folds if c.name in f.errors)
                  for c in used if c.name not in ok_names}
        if not ok_names:
            raise RuntimeError(f"every auto candidate failed: {failed}")
        scores, combos = self._score(folds, ok_names)
        best_single = min(ok_names, key=lambda n: scores.loc[n, "mae"])
        options = [n for n in scores.index if n != "seasonal_naive" and (n in ok_names or n in combos)]
        best_option = min(options, key=lambda n: scores.loc[n, "mae"])
        default = self._default_name(combos)
        if default is not None:
            margin = self.params["switch_margin"]
            beats = scores.loc[best_option, "mae"] < scores.loc[default, "mae"] * (1 - margin)
            chosen = best_option if beats else default
            reason = (f"{best_option} beat the default {default} by more than {100 * margin:g}%" if beats else
                      f"the default {default} was kept (no option beat it by more than {100 * margin:g}%)")
        else:
            chosen = best_option
            reason = f"{chosen} had the lowest MAE"
        parts = combos.get(chosen, [chosen])
        y = np.concatenate([f.y for f in folds])
        mu = np.concatenate([np.mean([f.mu[p] for p in parts], axis=0) for f in folds])
        h = np.concatenate([f.horizon_days for f in folds])
        disp = fit_dispersion(y, mu, h, source=f"auto backtest, {len(folds)} origin(s)")
        self.members = [(full[p], 1.0 / len(parts)) for p in parts]
        self.data = data
        self.dispersion = disp
        if progress:
            progress(1.0, "fitted")
        self.scores = scores
        self.choice = chosen
        naive = scores.loc["seasonal_naive", "mae"] if "seasonal_naive" in scores.index else float("nan")
        self.why = (
            f"rolling-origin backtest on this history: {len(folds)} origin(s) a week apart, {_days(h_eff)} ahead at "
            f"{m}-minute intervals; {reason}. MAE per interval: {chosen} {scores.loc[chosen, 'mae']:.3f}, best "
            f"single model {best_single} {scores.loc[best_single, 'mae']:.3f}, weekly seasonal naive {naive:.3f}"
        )
        used_names = {c.name for c in used}
        skipped = [c.name for c in cands if c.name not in used_names]
        if skipped:
            self.why += f"; not enough history to backtest {', '.join(skipped)}"
        if failed:
            self.why += "; failed: " + "; ".join(f"{k} ({v})" for k, v in failed.items())
        return self

    # -----------------------------------------------------------------------------------------------------------
    def _candidate_params(self, name: str) -> dict[str, Any]:
        return dict(self.params.get("candidate_params", {}).get(name, {}))

    def _plan(self, data: Prepared, eligible: list[CountModel], horizon: timedelta
              ) -> tuple[list[Fold], list[CountModel], timedelta]:
        """Folds at the requested horizon (shortened to what the history allows, at least a week), dropping the
        most demanding candidates when even that leaves no origin."""
        m = data.interval_minutes
        span = data.observed_span()
        pool = sorted(eligible, key=lambda c: c.required_history(m))
        while pool:
            need = max(c.required_history(m) for c in pool)
            h_eff = min(horizon, timedelta(days=(span - need).days))
            if h_eff >= timedelta(days=7) or (h_eff >= timedelta(days=1) and horizon < timedelta(days=7)):
                folds = make_folds(data, h_eff, self.params["n_origins"], timedelta(days=self.params["step_days"]),
                                   need)
                if folds:
                    return folds, pool, h_eff
            pool = pool[:-1]
        return [], [], horizon

    def _score(self, folds: list[Fold], names: list[str]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
        y = np.concatenate([f.y for f in folds])
        h = np.concatenate([f.horizon_days for f in folds])
        scale = np.concatenate([np.full(len(f.y), naive_scale(f.train)) for f in folds])  # type: ignore[arg-type]
        secs = {n: float(np.mean([f.seconds.get(n, np.nan) for f in folds])) for n in [*names, "seasonal_naive"]}
        rows: dict[str, dict[str, float]] = {}

        def add(name: str, mu: np.ndarray, members: list[str]) -> None:
            disp = fit_dispersion(y, mu, h)
            r = score_points(y, mu, disp.alpha(h), scale=scale)
            r["seconds"] = float(sum(secs.get(p, 0.0) for p in members))
            rows[name] = r

        mus = {n: np.concatenate([f.mu[n] for f in folds]) for n in names}
        for n in names:
            add(n, mus[n], [n])
        if "seasonal_naive" not in names and all("seasonal_naive" in f.mu for f in folds):
            add("seasonal_naive", np.concatenate([f.mu["seasonal_naive"] for f in folds]), ["seasonal_naive"])
        combos: dict[str, list[str]] = {}
        ranked = sorted(names, key=lambda n: rows[n]["mae"])
        ranked = [n for n in ranked if n != "seasonal_naive"]
        if self.params["blend"]:
            blends = [ranked[:k] for k in (2, 3) if len(ranked) >= k]
            default = [p for p in self.params["default_blend"] if p in names]
            if len(default) == len(self.params["default_blend"]) > 1:
                blends.append(default)
            for parts in blends:
                name = _blend_name(parts)
                if name not in combos:
                    combos[name] = list(parts)
                    add(name, np.mean([mus[p] for p in parts], axis=0), list(parts))
        table = pd.DataFrame(rows).T
        table.index.name = "candidate"
        return table.sort_values("mae"), combos

    def _default_name(self, combos: dict[str, list[str]]) -> str | None:
        """Name of the default blend if it was scored (all its members ran), else None."""
        name = _blend_name(list(self.params["default_blend"]))
        return name if name in combos else None

    def _finish(self, data: Prepared, members: list[tuple[CountModel, float]], disp: Dispersion,
                progress: Progress | None) -> None:
        for mdl, _ in members:
            mdl._fit(data)
            mdl.data = data
        if progress:
            progress(1.0, "fitted")
        self.members = members
        self.data = data
        self.dispersion = disp

    def _fit(self, data: Prepared) -> None:  # used when auto itself is backtested as a plain mean model
        self.fit(data, calibration_origins=0)

    def _predict_mean(self, index: pd.DatetimeIndex, keys: LocalKeys) -> np.ndarray:
        return np.sum([w * mdl.predict_mean(index) for mdl, w in self.members], axis=0)


def _blend_name(parts: Sequence[str]) -> str:
    """'blend(a+b)' with members in a canonical order, so the same blend found twice has one name."""
    return "blend(" + "+".join(sorted(parts)) + ")"


def _days(td: timedelta) -> str:
    d = td.total_seconds() / 86400
    return f"{d:g} days" if d % 7 else f"{int(d // 7)} week{'s' if d != 7 else ''}"

