"""Forecast accuracy and speed on real call data (issue #5): rolling-origin backtests and a speed run.

Run: `.venv/bin/python bench/forecast.py` (full: about half an hour on 2 cores) or `--quick` (3 origins, fewer
models and data sets: a few minutes). Data: `../shared/data` (or `--data DIR`), read as its README.md says:

- Montgomery County, PA 911 (`call_type` ALL, 15-minute, America/New_York, 28.5 weeks). The feed outage
  2016-05-01 13:00 to 2016-05-02 03:00 (zeros) is set to missing before anything sees it; the 2016-03-13 02:00
  bins that did not exist are dropped. Scored at 15 and at 60 minutes (hours summed from complete quarters).
  US public holidays (Pennsylvania) are the holiday calendar, since the data is American.
- Denver EMS (hourly, America/Denver, 7 years). Models train on `calls_filled` (censored hours set to 1) and are
  scored only on hours where `calls` is recorded. The fall-back 01:00 row holds two hours: both are missing.

Per data set: 8 origins (local midnights) of 4-week horizons, every model fitted only on the history before each
origin (including its own interval calibration and `auto`'s own inner backtest). Metrics pooled over all scored
points: MAE; MASE (MAE over the in-sample MAE of the weekly seasonal naive); floor ratio (MAE over the exact
E|Y - mu| of Poisson counts with mean mu, the forecast); sMAPE; coverage of the 80% interval; mean pinball loss
over the 10%..90% quantiles; seconds per fit+predict. The `oracle_*` rows (Montgomery only) are not forecasts:
`auto`'s forecasts rescaled to the *actual* totals of the window, of each weekday over it, of each week, of each
day: what a forecaster told those volumes in advance would score (ORACLES).

The speed run times `forecast(model="auto")` of 4 weeks at 15 minutes from two years of 15-minute history.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from forecasting import backtest, forecast, make_calendar
from forecasting.backtest import markdown_table
from forecasting.grid import local_keys
from forecasting.metrics import score_points
from forecasting.synthetic import synthetic_history

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HORIZON = timedelta(weeks=4)
FULL_MODELS = ["seasonal_naive", "prophet_default", "prophet", "profile", "ets", "mstl", "auto"]
QUICK_MODELS = ["seasonal_naive", "prophet_default", "profile", "auto"]


def load_montco(data_dir: Path) -> pd.Series:
    """The ALL series as 15-minute counts on UTC instants; the feed outage and non-existent bins removed."""
    df = pd.read_csv(data_dir / "montco_pa_911_calls_15min.csv")
    df = df[df.call_type == "ALL"]
    wall = pd.to_datetime(df.interval_start)
    idx = pd.DatetimeIndex(wall.dt.tz_localize("America/New_York", nonexistent="NaT", ambiguous="NaT"))
    s = pd.Series(df.calls.to_numpy(dtype=float), index=idx)
    s = s[s.index.notna()].tz_convert("UTC")
    tz = "America/New_York"
    outage = (s.index >= pd.Timestamp("2016-05-01 13:00", tz=tz)) & (s.index < pd.Timestamp("2016-05-02 03:00", tz=tz))
    s[outage] = np.nan
    return s


def to_hourly(s: pd.Series, timezone: str) -> pd.Series:
    """Hours summed from complete quarter-hours on the local clock (an hour with a missing quarter is missing)."""
    local = s.tz_convert(timezone)
    g = local.resample("60min")
    return g.sum(min_count=4).where(g.count() == 4).tz_convert("UTC")


def load_denver(data_dir: Path) -> tuple[pd.Series, pd.Series]:
    """(train, actuals): calls_filled and calls (NaN where censored) on UTC instants; doubled fall-back hours NaN."""
    df = pd.read_csv(data_dir / "denver_ems_calls_hourly.csv")
    wall = pd.to_datetime(df.interval_start)
    idx = pd.DatetimeIndex(wall.dt.tz_localize("America/Denver", nonexistent="NaT", ambiguous="NaT"))
    keep = idx.notna()
    calls = pd.Series(df.calls.to_numpy(dtype=float), index=idx)[keep].tz_convert("UTC")
    filled = pd.Series(df.calls_filled.to_numpy(dtype=float), index=idx)[keep].tz_convert("UTC")
    full = pd.date_range(calls.index[0], calls.index[-1], freq="h")
    return filled.reindex(full), calls.reindex(full)


#: Oracle references (not forecasts): `auto`'s own backtest forecast rescaled so that each group of test intervals
#: sums to its *actual* total. Each knows a little of the future a forecaster cannot: the whole 4-week volume, each
#: weekday's volume over the 4 weeks, each week's volume, each day's volume.
ORACLES = {
    "oracle_window_total": "the 4-week window's total",
    "oracle_weekday_totals": "each weekday's total over the window",
    "oracle_week_totals": "each week's total",
    "oracle_day_totals": "each day's total",
}


def oracles(forecasts: list[tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]], minutes: int,
            timezone: str) -> dict[str, dict]:
    """Score `auto`'s backtest forecasts rescaled to the actual totals of each oracle's groups (see ORACLES)."""
    pooled: dict[str, tuple[list, list]] = {name: ([], []) for name in ORACLES}
    for idx, y, mu0 in forecasts:
        day = local_keys(idx, minutes, timezone).day
        _, d = np.unique(day, return_inverse=True)  # 0, 1, ... per local day of the window
        ok = np.isfinite(y)
        for name, groups in (("oracle_window_total", np.zeros_like(d)), ("oracle_weekday_totals", d % 7),
                             ("oracle_week_totals", d // 7), ("oracle_day_totals", d)):
            mu = np.asarray(mu0, dtype=float).copy()
            for g in np.unique(groups):
                sel = (groups == g) & ok
                if mu[sel].sum() > 0:
                    mu[groups == g] *= y[sel].sum() / mu[sel].sum()
            pooled[name][0].append(y)
            pooled[name][1].append(mu)
    return {name: score_points(np.concatenate(ys), np.concatenate(mus)) for name, (ys, mus) in pooled.items()}


def day_residual_acf(history: pd.Series, timezone: str, lags: int = 7) -> tuple[float, float, list[float]]:
    """How predictable a day's volume is beyond its weekday and level: the log ratio of each day's total to its
    weekday's median times the centred 28-day median level (days over 50% off, e.g. the blizzard, left out);
    returns (its standard deviation, the Poisson part of it, its autocorrelation at lags 1..``lags`` days)."""
    local = history.tz_convert(timezone)
    g = local.resample("D")
    per_slot = 24 * 60 // int((local.index[1] - local.index[0]).total_seconds() // 60)
    days = g.sum(min_count=1).where(g.count() >= 0.9 * per_slot)
    ratio = days / days.groupby(days.index.weekday).transform("median")
    res = np.log(ratio / ratio.rolling(28, center=True, min_periods=14).median())
    res = res.where(res.abs() < np.log(1.5))
    return float(res.std()), float(1 / np.sqrt(days.mean())), [float(res.autocorr(k)) for k in range(1, lags + 1)]


def run_dataset(name: str, history: pd.Series, minutes: int, timezone: str, calendar, models, n_origins: int,
                step: timedelta, actuals: pd.Series | None = None, oracle: bool = False) -> tuple[str, pd.DataFrame]:
    t0 = time.perf_counter()

    def progress(frac: float, msg: str) -> None:
        print(f"  [{name}] {100 * frac:5.1f}% {msg} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)

    res = backtest(history, models=models, horizon=HORIZON, interval_minutes=minutes, timezone=timezone,
                   n_origins=n_origins, step=step, calendar=calendar, actuals=actuals, mask_outages=False,
                   progress=progress)
    table = res.table.copy()
    if oracle and "auto" in res.forecasts:
        for key, r in oracles(res.forecasts["auto"], minutes, timezone).items():
            table.loc[key, ["mae", "floor_ratio", "smape", "n_points"]] = [
                r["mae"], r["floor_ratio"], r["smape"], r["n_points"]]
    cols = ["mae", "mase", "floor_ratio", "smape", "coverage_80", "pinball", "seconds"]
    out = table[cols].reset_index()
    out.columns = ["model", "MAE", "MASE", "floor ratio", "sMAPE %", "80% coverage", "pinball", "s/fit"]
    first, last = res.origins[0], res.origins[-1]
    head = (f"### {name}\n\n{len(res.origins)} origins {first.date()} .. {last.date()} (every {step.days} days), "
            f"4-week horizon, {minutes}-minute intervals, {int(table.loc[models[0], 'n_points'])} scored points "
            f"per model; auto chose: {', '.join(res.choices.get('auto', [])) or '-'}; "
            f"{time.perf_counter() - t0:.0f} s\n\n")
    return head + markdown_table(out, floatfmt="{:.3f}"), table


def targets(name: str, t: pd.DataFrame, short: bool) -> list[str]:
    """Plain statements of each issue target against the table."""
    out = []
    if "auto" not in t.index:
        return out
    a = t.loc["auto"]
    cov = a["coverage_80"]
    ok = "met" if 0.75 <= cov <= 0.85 else "NOT met"
    out.append(f"- {name}: auto 80% coverage {cov:.3f} (target 0.75-0.85): {ok}")
    if "prophet_default" in t.index:
        r = a["mae"] / t.loc["prophet_default", "mae"]
        goal = 0.90 if short else 1.0
        out.append(f"- {name}: auto MAE / Prophet-default MAE = {r:.3f} (target <= {goal:.2f}): "
                   f"{'met' if r <= goal else 'NOT met'}")
    if short and "seasonal_naive" in t.index:
        r = a["mae"] / t.loc["seasonal_naive", "mae"]
        out.append(f"- {name}: auto MAE / seasonal-naive MAE = {r:.3f} (target <= 0.85): "
                   f"{'met' if r <= 0.85 else 'NOT met'}")
    if not short:
        out.append(f"- {name}: auto floor ratio {a['floor_ratio']:.3f} (target <= 1.10): "
                   f"{'met' if a['floor_ratio'] <= 1.10 else 'NOT met'}")
    if "prophet_default" in t.index:
        for key, what in ORACLES.items():
            if key in t.index:
                r = t.loc[key, "mae"] / t.loc["prophet_default", "mae"]
                out.append(f"- {name}: `auto` told {what} in advance ({key}) reaches {r:.3f} x Prophet-default MAE")
    return out


def speed_run(seed: int = 0) -> str:
    """`forecast(model='auto')`, 4 weeks at 15 minutes from two years of 15-minute history (synthetic counts)."""
    hist = synthetic_history("2023-01-02", "2025-01-06", interval_minutes=15, timezone="Europe/London",
                             calls_per_day=400.0, trend_per_week=0.001, seed=seed).tz_convert("UTC")
    t0 = time.perf_counter()
    r = forecast(hist, start="2025-01-06", end="2025-02-03", interval_minutes=15, timezone="Europe/London",
                 model="auto", default_aht=300.0)
    secs = time.perf_counter() - t0
    verdict = "met" if secs < 30 else "NOT met"
    return (f"### Speed: 4-week 15-minute forecast (`auto`) from two years of 15-minute history\n\n"
            f"{len(hist)} history intervals, {len(r.points)} forecast intervals: **{secs:.1f} s** "
            f"(target < 30 s on 2 cores: {verdict}); chosen: {r.model}\n\n{r.why}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 origins, fewer models, Montgomery 60-min and Denver")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--datasets", default="montco15,montco60,denver60",
                    help="comma-separated subset of montco15, montco60, denver60, speed")
    ap.add_argument("--models", default=None, help="comma-separated model names (default: all, or a quick subset)")
    ap.add_argument("--origins", type=int, default=None)
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args()
    models = args.models.split(",") if args.models else (QUICK_MODELS if args.quick else FULL_MODELS)
    n_origins = args.origins or (3 if args.quick else 8)
    sets = args.datasets.split(",")
    if args.quick and args.datasets == ap.get_default("datasets"):
        sets = ["montco60", "denver60"]
    us_pa = make_calendar(country="US", subdiv="PA")
    us_co = make_calendar(country="US", subdiv="CO")
    blocks, notes = [], []
    t_all = time.perf_counter()
    if any(s.startswith("montco") for s in sets):
        m15 = load_montco(args.data)
        tz = "America/New_York"
        for minutes in (15, 60):
            key = f"montco{minutes}"
            if key not in sets:
                continue
            h = m15 if minutes == 15 else to_hourly(m15, tz)
            name = f"Montgomery County 911, {minutes}-minute (28.5 weeks, short history)"
            text, t = run_dataset(name, h, minutes, tz, us_pa, models, n_origins, timedelta(days=14), oracle=True)
            blocks.append(text)
            notes += targets(f"Montgomery {minutes}-min", t, short=True)
        sd, poisson, acf = day_residual_acf(m15, tz)
        notes.append(f"- Montgomery daily volume beyond weekday and 28-day level: sd {100 * sd:.1f}% (Poisson alone "
                     f"{100 * poisson:.1f}%), autocorrelation at lags 1-7 days "
                     + ", ".join(f"{a:.2f}" for a in acf))
    if "denver60" in sets:
        train, actual = load_denver(args.data)
        name = "Denver EMS, 60-minute (7 years, long history)"
        text, t = run_dataset(name, train, 60, "America/Denver", us_co, models, n_origins, timedelta(days=42),
                              actuals=actual)
        blocks.append(text)
        notes += targets("Denver 60-min", t, short=False)
    if not args.no_speed and ("speed" in sets or not args.quick):
        blocks.append(speed_run())
    print(f"## Forecast benchmark (`.venv/bin/python bench/forecast.py{' --quick' if args.quick else ''}`)\n")
    print("\n\n".join(blocks))
    if notes:
        print("\n### Targets\n")
        print("\n".join(notes))
    print(f"\nTotal {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
