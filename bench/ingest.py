"""Ingest one year of 15-minute history (35,040 rows) for one channel through the HTTP API.

Run: `.venv/bin/python bench/ingest.py [--pg-url URL] [--repeats 3]`. Starts the API under uvicorn on
loopback against a fresh SQLite file and a PostgreSQL database (a temporary cluster if no URL is given),
and prints a table of wall-clock seconds per upload: first load, identical re-upload, full update; JSON and CSV.
Target (issue #3): under 5 s for the first load on both databases.
"""

from __future__ import annotations

import argparse
import gzip
import io
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._servers import api_server, postgres, reset_database

ROWS = 35_040
TARGET_S = 5.0


def year_of_rows(bump: int = 0) -> list[dict]:
    """35,040 full rows from 2025-01-01 Europe/London, volumes replayed from the bundled 999 demo history."""
    raw = gzip.decompress(resources.files("app.demo_data").joinpath("999_15min.csv.gz").read_bytes()).decode()
    volumes = [int(line.rsplit(",", 1)[1]) for line in raw.splitlines()[1:]]
    start = datetime(2025, 1, 1, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    london = ZoneInfo("Europe/London")
    out = []
    for i in range(ROWS):
        offered = volumes[i % len(volumes)] + bump
        abandoned = offered // 20
        answered = offered - abandoned
        out.append(
            {
                "interval_start": (start + timedelta(minutes=15 * i)).astimezone(london).isoformat(),
                "interval_minutes": 15,
                "offered": offered,
                "answered": answered,
                "abandoned": abandoned,
                "answered_within_threshold": answered - answered // 10,
                "threshold_seconds": 10,
                "aht_seconds": 280.0 + (i % 40),
            }
        )
    return out


def to_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    cols = list(rows[0])
    buf.write(",".join(cols) + "\n")
    for r in rows:
        buf.write(",".join(str(r[c]) for c in cols) + "\n")
    return buf.getvalue().encode()


def timed_post(client: httpx.Client, path: str, **kw: object) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = client.post(path, **kw)
    dt = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"upload failed: {r.status_code} {r.text[:500]}")
    return dt, r.json()


def run_backend(name: str, url: str, repeats: int) -> list[tuple[str, str, str, float, str]]:
    """Time each kind of upload `repeats` times on one database; median seconds per case."""
    rows, changed = year_of_rows(), year_of_rows(bump=1)
    cases: dict[tuple[str, str], list[float]] = {}
    checks: dict[tuple[str, str], str] = {}
    for fmt in ("json", "csv"):
        for _ in range(repeats):
            reset_database(url)
            with api_server(url) as base, httpx.Client(base_url=base, timeout=120) as client:

                def send(batch: list[dict], fmt: str = fmt) -> tuple[float, dict]:
                    if fmt == "json":
                        return timed_post(client, "/v1/channels/999/history", json=batch)
                    return timed_post(
                        client, "/v1/channels/999/history", content=to_csv(batch), headers={"content-type": "text/csv"}
                    )

                for case, batch, key in (
                    ("first load", rows, "inserted"),
                    ("same again", rows, "unchanged"),
                    ("all changed", changed, "updated"),
                ):
                    dt, body = send(batch)
                    cases.setdefault((case, fmt), []).append(dt)
                    checks[(case, fmt)] = f"{key}={body[key]}"
                    if body[key] != ROWS:
                        raise SystemExit(f"{name} {case} {fmt}: expected {key}={ROWS}, got {body}")
    return [(name, case, fmt, statistics.median(ts), checks[(case, fmt)]) for (case, fmt), ts in cases.items()]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pg-url", default=None, help="PostgreSQL URL (default: start a temporary cluster)")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results += run_backend("SQLite", f"sqlite:///{tmp}/bench.db", args.repeats)
    with postgres(args.pg_url) as pg:
        if pg is None:
            print("PostgreSQL not available: skipped (install Debian's postgresql)")
        else:
            results += run_backend("PostgreSQL", pg, args.repeats)
    print(
        f"\nIngest {ROWS:,} 15-minute rows (one year, one channel) via POST /v1/channels/999/history; "
        f"median of {args.repeats}"
    )
    print(f"| database | upload | format | seconds | rows/s | result | target {TARGET_S:.0f} s |")
    print("|---|---|---|---:|---:|---|---|")
    worst = 0.0
    for name, case, fmt, sec, check in results:
        ok = "met" if sec < TARGET_S else "MISSED"
        worst = max(worst, sec)
        print(f"| {name} | {case} | {fmt} | {sec:.2f} | {ROWS / sec:,.0f} | {check} | {ok} |")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
