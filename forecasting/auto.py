"""`auto`: choose or blend models by a rolling-origin backtest on the channel's own history, and say why.

For each candidate whose minimum history is met, the history is cut at `n_origins` local midnights a week apart
(the newest leaving the requested horizon after it), the candidate is fitted on each head and forecasts the
requested horizon at the requested interval. Candidates are ranked by pooled MAE; equal-weight blends of the best
two and best three are scored on the same points (combining forecasts whose errors differ usually helps). The
lowest MAE wins; a blend must beat the best single model by `blend_margin` to be preferred (simpler otherwise).
The winner is refitted on the whole history, and its pooled backtest errors calibrate the count distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Self

import numpy as np
import pandas as pd

from forecasting.calendar import Event, SpecialDays
from forecasting.calibration import Dispersion, Fold, fit_dispersion, make_folds, run_folds
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
        blend_margin: float = 0.002,
        **params: Any,
    ) -> None:
        super().__init__(candidates=tuple(candidates), n_origins=n_origins, step_days=step_days, blend=blend,
                         blend_margin=blend_margin, **params)
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
        fitters = {c.name: c.mean_forecast for c in used}
        ref = SeasonalNaive()
        fitters.setdefault(ref.name, ref.mean_forecast)
        run_folds(folds, fitters, n_jobs=n_jobs, progress=progress, progress_span=(0.0, 0.85))
        ok_names = [c.name for c in used if all(c.name in f.mu for f in folds)]
        failed = {c.name: next(f.errors[c.name] for f in folds if c.name in f.errors)
                  for c in used if c.name not in ok_names}
        if not ok_names:
            raise RuntimeError(f"every auto candidate failed: {failed}")
        scores, combos = self._score(folds, ok_names)
        best_single = min(ok_names, key=lambda n: scores.loc[n, "mae"])
        chosen = best_single
        if self.params["blend"]:
            for name in combos:
                if scores.loc[name, "mae"] < scores.loc[chosen, "mae"] * (1 - self.params["blend_margin"]):
                    chosen = name
        parts = combos.get(chosen, [best_single])
        y = np.concatenate([f.y for f in folds])
        mu = np.concatenate([np.mean([f.mu[p] for p in parts], axis=0) for f in folds])
        h = np.concatenate([f.horizon_days for f in folds])
        disp = fit_dispersion(y, mu, h, source=f"auto backtest, {len(folds)} origin(s)")
        members = [(next(c for c in used if c.name == p).clone(), 1.0 / len(parts)) for p in parts]
        self._finish(data, members, disp, progress)
        self.scores = scores
        self.choice = chosen
        naive = scores.loc["seasonal_naive", "mae"] if "seasonal_naive" in scores.index else float("nan")
        best_mae = scores.loc[chosen, "mae"]
        self.why = (
            f"rolling-origin backtest on this history: {len(folds)} origin(s) a week apart, "
            f"{_days(h_eff)} ahead at {m}-minute intervals; {chosen} had the lowest MAE ({best_mae:.3f} calls per "
            f"interval; weekly seasonal naive {naive:.3f}, best single model {best_single} "
            f"{scores.loc[best_single, 'mae']:.3f})"
        )
        skipped = [c.name for c in cands if c not in eligible]
        if skipped:
            self.why += f"; not enough history for {', '.join(skipped)}"
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
            for k in (2, 3):
                if len(ranked) >= k:
                    parts = ranked[:k]
                    name = "blend(" + "+".join(parts) + ")"
                    combos[name] = parts
                    add(name, np.mean([mus[p] for p in parts], axis=0), parts)
        table = pd.DataFrame(rows).T
        table.index.name = "candidate"
        return table.sort_values("mae"), combos

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


def _days(td: timedelta) -> str:
    d = td.total_seconds() / 86400
    return f"{d:g} days" if d % 7 else f"{int(d // 7)} week{'s' if d != 7 else ''}"

