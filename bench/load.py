"""Load test: concurrent requests from this process to the API served by another process on loopback.

Run: `.venv/bin/python bench/load.py [--requests 4000] [--concurrency 200] [--workers 2] [--pg-url URL]`
(the load generator is Apache Bench when `ab` is installed, from Debian's apache2-utils, else a Python client).
For each database (a fresh SQLite file; PostgreSQL: a temporary cluster unless --pg-url is given) it starts
`uvicorn app.main:app` with `--workers` processes, stores one forecast (a 4-week hourly forecast of the demo
999 channel, made through the API), then sends a bounded number of requests, at most `--concurrency` in flight,
to GET /v1/forecasts/{id} and to POST /v1/staffing (96 intervals), and prints throughput and latency
percentiles. Every request must succeed. Target (issue #7): p99 under 100 ms for the stored forecast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._servers import api_server, postgres, reset_database

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99_MS = 100.0


def staffing_body() -> dict:
    """A day of 15-minute intervals with a realistic 999 daily shape."""
    shape = [4, 3, 3, 2, 2, 2, 3, 5, 7, 9, 10, 11, 11, 12, 12, 12, 12, 12, 11, 10, 9, 8, 6, 5]
    return {
        "interval_minutes": 15,
        "model": "erlang_a",
        "patience_seconds": 120,
        "shrinkage": 0.3,
        "intervals": [{"calls": float(shape[i // 4]), "aht_seconds": 300} for i in range(96)],
        "targets": {"service_level": 0.9, "answer_within_seconds": 10},
    }


def admin_key(database_url: str) -> str:
    """Create an admin key in the benchmark database with the CLI; returns it."""
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "create-key", "--role", "admin", "--name", f"bench-{time.time_ns()}"],
        cwd=ROOT, env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}, check=True, capture_output=True,
        text=True,
    ).stdout
    return next(w for w in out.split() if w.startswith("fcr_"))


def load_demo(database_url: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", "load-demo"], cwd=ROOT, check=True, capture_output=True,
                   env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"})


def make_forecast(client: httpx.Client) -> str:
    """A stored forecast to read back: 4 weeks of hourly 999 calls after the demo history ends."""
    r = client.post("/v1/forecasts", json={"channel": "999", "start": "2016-06-27", "end": "2016-07-25",
                                           "interval_minutes": 60, "model": "seasonal_naive", "level": 80})
    if r.status_code != 202:
        raise SystemExit(f"could not create a forecast: {r.status_code} {r.text[:300]}")
    job = r.json()["id"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        body = client.get(f"/v1/forecasts/{job}").json()
        if body["status"] == "done":
            return job
        if body["status"] in ("failed", "cancelled"):
            raise SystemExit(f"forecast {job} {body['status']}: {body.get('error')}")
        time.sleep(0.5)
    raise SystemExit("forecast did not finish in 10 minutes")


async def hammer(base: str, key: str, method: str, path: str, body: dict | None, n: int,
                 concurrency: int) -> tuple[float, list[float], int, int]:
    """Send `n` requests with at most `concurrency` in flight; (seconds, latencies ms, errors, bytes/response)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    latencies: list[float] = []
    errors = 0
    size = 0
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        async def one() -> None:
            nonlocal errors, size
            async with sem:
                t0 = time.perf_counter()
                try:
                    r = await client.request(method, path, json=body)
                    ok = r.status_code == 200
                    size = len(r.content)
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += not ok

        await asyncio.gather(*(one() for _ in range(min(concurrency, 50))))  # warm up connections
        latencies.clear()
        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - t0, latencies, errors, size


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


def ab(base: str, key: str, method: str, path: str, body: dict | None, n: int, concurrency: int) -> tuple:
    """Apache Bench (C, keep-alive): (req/s, p50, p99, max ms, errors, bytes) for `n` requests."""
    cmd = ["ab", "-q", "-k", "-n", str(n), "-c", str(concurrency), "-H", f"Authorization: Bearer {key}"]
    if method == "POST":
        tmp = Path(tempfile.mkstemp(suffix=".json")[1])
        tmp.write_text(json.dumps(body))
        cmd += ["-p", str(tmp), "-T", "application/json"]
    out = subprocess.run([*cmd, base + path], check=True, capture_output=True, text=True).stdout

    def grab(pattern: str) -> float:
        m = re.search(pattern, out, re.MULTILINE)
        return float(m.group(1)) if m else 0.0

    errors = int(grab(r"^Failed requests:\s+(\d+)") + grab(r"^Non-2xx responses:\s+(\d+)"))
    return (grab(r"^Requests per second:\s+([\d.]+)"), grab(r"^\s+50%\s+(\d+)"), grab(r"^\s+99%\s+(\d+)"),
            grab(r"^\s+100%\s+(\d+)"), errors, int(grab(r"^Document Length:\s+(\d+)")))


def run(name: str, url: str, args: argparse.Namespace) -> list[tuple]:
    reset_database(url)
    load_demo(url)
    key = admin_key(url)
    rows = []
    with api_server(url, workers=args.workers) as base:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            forecast = make_forecast(client)
        cases = [("GET /v1/forecasts/{id}", "GET", f"/v1/forecasts/{forecast}", None),
                 ("POST /v1/staffing (96 intervals)", "POST", "/v1/staffing", staffing_body())]
        for label, method, path, body in cases:
            if args.client == "ab":
                ab(base, key, method, path, body, args.concurrency, args.concurrency)  # warm-up: caches, connections
                rps, p50, p99, mx, errors, size = ab(base, key, method, path, body, args.requests, args.concurrency)
            else:
                secs, lat, errors, size = asyncio.run(hammer(base, key, method, path, body, args.requests,
                                                             args.concurrency))
                rps, p50, p99, mx = args.requests / secs, statistics.median(lat), pct(lat, 99), max(lat)
            rows.append((name, label, args.requests, errors, rps, p50, p99, mx, size))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--pg-url", default=None)
    p.add_argument("--client", choices=["ab", "python"], default="ab" if shutil.which("ab") else "python",
                   help="load generator: Apache Bench (apt-get install apache2-utils; default when present) "
                        "or an asyncio httpx client")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += run("SQLite", f"sqlite:///{tmp}/load.db", args)
    with postgres(args.pg_url) as pg:
        if pg is None:
            print("PostgreSQL not available: skipped")
        else:
            rows += run("PostgreSQL", pg, args)
    print(f"\n{args.requests} requests per case, {args.concurrency} in flight, {args.workers} uvicorn workers, "
          f"client {args.client}; client and server on the same 2-core machine")
    print("| database | request | sent | errors | req/s | p50 ms | p99 ms | max ms | response bytes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    for name, label, n, errors, rps, p50, p99, mx, size in rows:
        print(f"| {name} | {label} | {n} | {errors} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {mx:.1f} | {size:,} |")
        ok &= errors == 0
        if label.startswith("GET /v1/forecasts"):
            ok &= p99 < TARGET_P99_MS
    print(f"\ntarget: no errors, and p99 < {TARGET_P99_MS:.0f} ms for the stored forecast: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
