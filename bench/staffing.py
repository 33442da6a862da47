"""Staffing benchmark: speed over a year of 15-minute intervals, and shared-pool analytic vs simulation error.

Run: .venv/bin/python bench/staffing.py   (about half a minute; prints Markdown tables)

Demand shape: the time-of-week profile of /work/shared/data/montco_pa_911_calls_15min.csv (call_type ALL;
Montgomery County PA 911 calls, montcoalert.org) scaled to a large UK force, or a synthetic daily/weekly
shape if the file is absent. 999: 90% within 10 s, AHT 300 s; 101: 80% within 60 s, AHT 360 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduling.priority import ChannelLoad, evaluate_shared_pool, required_agents_shared_pool
from scheduling.queueing import Targets, evaluate, required_agents
from scheduling.simulation import SimChannel, simulate

INTERVALS = 35_040  # a year of 15-minute intervals
DATA = Path("/work/shared/data/montco_pa_911_calls_15min.csv")
T999 = Targets(service_level=0.9, answer_within_seconds=10.0)
T101 = Targets(service_level=0.8, answer_within_seconds=60.0)
AHT999, AHT101 = 300.0, 360.0
PATIENCE999, PATIENCE101 = 90.0, 180.0


def demand_shape() -> tuple[np.ndarray, str]:
    """A year of relative demand per 15-minute interval (mean 1) and where it came from."""
    if DATA.exists():
        import pandas as pd

        df = pd.read_csv(DATA, parse_dates=["interval_start"])
        df = df[df["call_type"] == "ALL"]
        ts = df["interval_start"]
        slot = (ts.dt.dayofweek * 96 + ts.dt.hour * 4 + ts.dt.minute // 15).to_numpy()
        profile = np.bincount(slot, weights=df["calls"].to_numpy(), minlength=672) / np.bincount(slot, minlength=672)
        source = f"time-of-week profile of {DATA.name} (ALL)"
    else:
        k = np.arange(672)
        profile = 1 + 0.6 * np.sin((k % 96) / 96 * 2 * np.pi - 2.0) + 0.1 * (k // 96 >= 5)
        source = "synthetic daily/weekly shape (data file absent)"
    year = np.resize(profile, INTERVALS)
    return year / year.mean(), source


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """Fastest wall time of a few runs, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def speed_table(shape: np.ndarray) -> None:
    calls999, calls101 = 40.0 * shape, 60.0 * shape
    print(f"\n## Speed: {INTERVALS:,} intervals x 2 channels (mean 40 + 60 calls per 15 min), best of 3\n")
    print("| model | requirement (s) | evaluation (s) | mean agents 999 + 101 |")
    print("|---|---:|---:|---:|")
    for model in ("erlang_c", "erlang_a"):
        p999 = PATIENCE999 if model == "erlang_a" else None
        p101 = PATIENCE101 if model == "erlang_a" else None

        def req(model: str = model, p999: float | None = p999, p101: float | None = p101) -> tuple:
            return (
                required_agents(model, calls999, 15, AHT999, T999, p999),
                required_agents(model, calls101, 15, AHT101, T101, p101),
            )

        r999, r101 = req()
        assert r999.feasible.all() and r101.feasible.all()

        def ev(
            model: str = model,
            p999: float | None = p999,
            p101: float | None = p101,
            n999: np.ndarray = r999.agents,
            n101: np.ndarray = r101.agents,
        ) -> None:
            evaluate(model, n999, calls999, 15, AHT999, p999, 10.0)
            evaluate(model, n101, calls101, 15, AHT101, p101, 60.0)

        t_req, t_ev = best_of(req), best_of(ev)
        mean = r999.agents.mean() + r101.agents.mean()
        print(f"| {model} (separate teams) | {t_req:.3f} | {t_ev:.3f} | {mean:.2f} |")
    chans = [
        ChannelLoad("999", calls999, AHT999, PATIENCE999, 10.0),
        ChannelLoad("101", calls101, AHT101, PATIENCE101, 60.0),
    ]
    pool = required_agents_shared_pool(chans, [T999, T101], 15)
    t_req = best_of(lambda: required_agents_shared_pool(chans, [T999, T101], 15))
    t_ev = best_of(lambda: evaluate_shared_pool(pool.agents, chans, 15))
    print(f"| shared pool, 999 priority | {t_req:.3f} | {t_ev:.3f} | {pool.agents.mean():.2f} |")


def accuracy_table(sim_intervals: int, seed: int) -> None:
    print(
        f"\n## Shared pool: analytic vs simulation ({sim_intervals} stationary 15-min intervals per point, "
        f"seed {seed}, first 4 dropped; +- is the 95% batch-means half-width)\n"
    )
    print(
        "Agents = analytic requirement for 999 90%/10 s and 101 80%/60 s. AHT 300/360 s, 999 patience "
        f"{PATIENCE999:.0f} s. Errors are analytic minus simulated, in percentage points.\n"
    )
    header = (
        "| 999/15min | 101/15min | 101 patience | n | 999 SL an | 999 SL sim | 101 SL an | 101 SL sim "
        "| 999 ab an/sim | 101 ab an/sim | err 999 SL | err 101 SL | err 101 ab |"
    )
    print(header)
    print("|" + "|".join(["---:"] * 13) + "|")
    errs: dict[str, list[float]] = {"999 SL": [], "101 SL": [], "999 ab": [], "101 ab": []}
    for p101 in (120.0, 300.0):
        for c1 in (10.0, 40.0, 100.0):
            for c2 in (20.0, 60.0, 150.0):
                chans = [ChannelLoad("999", c1, AHT999, PATIENCE999), ChannelLoad("101", c2, AHT101, p101)]
                n = int(required_agents_shared_pool(chans, [T999, T101], 15).agents[0])
                an = evaluate_shared_pool(
                    n,
                    [
                        ChannelLoad("999", c1, AHT999, PATIENCE999, 10.0),
                        ChannelLoad("101", c2, AHT101, p101, 60.0),
                    ],
                    15,
                )
                sim = simulate(
                    [SimChannel("999", c1, AHT999, PATIENCE999, 10.0), SimChannel("101", c2, AHT101, p101, 60.0)],
                    n,
                    15,
                    n_intervals=sim_intervals,
                    seed=seed,
                )
                s1 = sim.channel("999").estimate("service_level", start=4)
                s2 = sim.channel("101").estimate("service_level", start=4)
                a1 = sim.channel("999").estimate("abandon_rate", start=4)
                a2 = sim.channel("101").estimate("abandon_rate", start=4)
                e1 = 100 * (an["999"].service_level[0] - s1.value)
                e2 = 100 * (an["101"].service_level[0] - s2.value)
                ea1 = 100 * (an["999"].abandon_rate[0] - a1.value)
                ea2 = 100 * (an["101"].abandon_rate[0] - a2.value)
                errs["999 SL"].append(e1)
                errs["101 SL"].append(e2)
                errs["999 ab"].append(ea1)
                errs["101 ab"].append(ea2)
                print(
                    f"| {c1:.0f} | {c2:.0f} | {p101:.0f} | {n} | {100 * an['999'].service_level[0]:.2f} "
                    f"| {100 * s1.value:.2f} +- {100 * s1.half_width:.2f} | {100 * an['101'].service_level[0]:.2f} "
                    f"| {100 * s2.value:.2f} +- {100 * s2.half_width:.2f} "
                    f"| {100 * an['999'].abandon_rate[0]:.2f}/{100 * a1.value:.2f} "
                    f"| {100 * an['101'].abandon_rate[0]:.2f}/{100 * a2.value:.2f} "
                    f"| {e1:+.2f} | {e2:+.2f} | {ea2:+.2f} |"
                )
    print("\n| error (percentage points) | mean | max abs |")
    print("|---|---:|---:|")
    for key, values in errs.items():
        v = np.array(values)
        print(f"| {key} | {v.mean():+.2f} | {np.abs(v).max():.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim-intervals", type=int, default=600, help="intervals simulated per grid point")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    shape, source = demand_shape()
    print(f"# fcr-planner staffing bench\n\nDemand shape: {source}.")
    speed_table(shape)
    start = time.perf_counter()
    accuracy_table(args.sim_intervals, args.seed)
    print(f"\nAccuracy grid took {time.perf_counter() - start:.1f} s.")


if __name__ == "__main__":
    main()
