"""Build the bundled demo history (app/demo_data/) from the Montgomery County 911 series in ../shared/data.

Run once by maintainers: ``.venv/bin/python scripts/make_demo_data.py``. The output is committed, so a new
user never needs ../shared. Attribution: "Montgomery County, PA 911 calls, montcoalert.org" (ODbL/DbCL).

999 channel: the ``ALL`` series, its wall-clock times read as Europe/London local time, so the demo's daily
rhythm is a UK control room's. Two consequences, both kept visible rather than smoothed over:
- 2016-03-27 (UK spring-forward) has no 01:00-01:45 local; those four source bins are dropped (92 intervals).
- 2016-03-13 (US spring-forward) keeps the source's four zero bins at 02:00-02:45 as recorded.
The feed outage 2016-05-01 13:00 to 2016-05-02 03:00 (a run of zeros, not a lull) is left out: missing, not 0.

101 channel: derived, because no public 101 data set exists. For each interval, the expected 101 volume is
the 999 level (a centred 1-hour moving average of the 999 counts, so real surges such as the 2016-01-23
blizzard carry over) times a time-of-day factor (101 lines are busiest in office hours) and a day-of-week
factor (quieter at weekends); the count is a seeded Poisson draw around it.

Neither source records answered, abandoned or handle time, so those fields are left empty (null).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "montco_pa_911_calls_15min.csv"
OUT = ROOT / "app" / "demo_data"
TZ = "Europe/London"
SEED = 101

# 101 volume per unit of 999 volume, by local hour: low overnight, highest 09:00-17:00.
HOUR_FACTOR = np.array(
    [
        0.6,
        0.5,
        0.5,
        0.5,
        0.5,
        0.6,
        0.8,
        1.1,
        1.4,
        1.7,
        1.8,
        1.8,
        1.7,
        1.7,
        1.7,
        1.7,
        1.6,
        1.5,
        1.4,
        1.3,
        1.2,
        1.0,
        0.9,
        0.7,
    ]
)
# Monday=0 .. Sunday=6: non-emergency enquiries fall away at weekends.
WEEKDAY_FACTOR = np.array([1.05, 1.0, 1.0, 1.0, 1.0, 0.85, 0.75])
OUTAGE = (pd.Timestamp("2016-05-01T13:00:00"), pd.Timestamp("2016-05-02T03:00:00"))


def build() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the (999, 101) demo frames in the history upload format."""
    raw = pd.read_csv(SOURCE, parse_dates=["interval_start"])
    s = raw[raw["call_type"] == "ALL"].set_index("interval_start")["calls"].sort_index()
    level = s.rolling(5, center=True, min_periods=1).mean()
    outage = (s.index >= OUTAGE[0]) & (s.index <= OUTAGE[1])

    local = s.index.tz_localize(TZ, nonexistent="NaT", ambiguous="NaT")
    keep = ~outage & ~local.isna()
    idx = local[keep]
    rng = np.random.default_rng(SEED)
    lam = level[keep].to_numpy() * HOUR_FACTOR[idx.hour] * WEEKDAY_FACTOR[idx.dayofweek]
    calls_101 = rng.poisson(lam)

    def frame(offered: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "interval_start": idx.map(lambda t: t.isoformat()),
                "interval_minutes": 15,
                "offered": offered.astype(int),
            }
        )

    return frame(s[keep].to_numpy()), frame(calls_101)


def main() -> int:
    """Write app/demo_data/{999,101}_15min.csv.gz."""
    if not SOURCE.exists():
        print(f"missing {SOURCE}", file=sys.stderr)
        return 1
    f999, f101 = build()
    OUT.mkdir(parents=True, exist_ok=True)
    for code, f in (("999", f999), ("101", f101)):
        path = OUT / f"{code}_15min.csv.gz"
        f.to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
        print(f"{path.relative_to(ROOT)}: {len(f)} intervals, {int(f['offered'].sum())} calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
