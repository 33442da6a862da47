"""Throwaway servers for benchmarks: a PostgreSQL cluster and the API under uvicorn, both on loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@contextlib.contextmanager
def postgres(url: str | None = None) -> Iterator[str | None]:
    """Yield a PostgreSQL URL: `url` if given, else a temporary cluster started here (None if impossible)."""
    if url:
        yield url
        return
    pgbin = _pg_bin()
    if pgbin is None:
        yield None
        return
    tmp = Path(tempfile.mkdtemp(prefix="fcr-bench-pg-"))
    port = free_port()
    runas: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        runas = ["runuser", "-u", "postgres", "--"]
    data = tmp / "data"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(
        [*runas, str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
        check=True,
        **quiet,
    )
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c max_connections=300"
    subprocess.run(
        [*runas, str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "-o", opts, "start"],
        check=True,
        **quiet,
    )
    try:
        subprocess.run(
            [str(pgbin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "fcr_bench"],
            check=True,
            **quiet,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/fcr_bench"
    finally:
        subprocess.run([*runas, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], **quiet)
        shutil.rmtree(tmp, ignore_errors=True)


def reset_database(url: str) -> None:
    """Empty a benchmark database and migrate it to head."""
    from app.migrate import downgrade, upgrade

    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        with contextlib.suppress(Exception):
            downgrade(url, "base")
    upgrade(url)


@contextlib.contextmanager
def api_server(database_url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `fcr-planner serve` in a child process on a free loopback port; yield its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "FCR_LOG_LEVEL": "warning", **(extra_env or {})}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("API server did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
