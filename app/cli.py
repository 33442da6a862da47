"""The `fcr-planner` command: serve, migrate, load-demo, import-history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.errors import ApiError, BatchRejected
from app.settings import get_settings


def _session() -> Session:
    """A session on DATABASE_URL for one command."""
    return _factory()()


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Apply every migration up to head on DATABASE_URL."""
    from app.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    print(f"database at head: {_redact(url)}")
    return 0


def cmd_load_demo(args: argparse.Namespace) -> int:
    """Load the bundled demo history, unless the database already has history (or --force)."""
    from app.demo import ATTRIBUTION, history_is_empty, load_demo

    with _session() as session:
        if not args.force and not history_is_empty(session):
            print("history present: demo not loaded (use --force to upsert it anyway)")
            return 0
        for r in load_demo(session, get_settings().tz):
            print(
                f"demo {r.channel}: {r.rows} intervals {r.first_interval:%Y-%m-%d} to {r.last_interval:%Y-%m-%d} "
                f"({r.inserted} new, {r.updated} updated)"
            )
    print(f"demo data: {ATTRIBUTION}")
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    """Import a CSV or JSON history file into a channel, with the same validation as the API."""
    from app.routers.history import HISTORY_COLUMNS
    from app.services.ingest import ingest_history, read_batch

    path = Path(args.file)
    settings = get_settings()
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    if path.stat().st_size > settings.max_upload_bytes:
        print(f"{path} is over FCR_MAX_UPLOAD_BYTES ({settings.max_upload_bytes})", file=sys.stderr)
        return 2
    data = path.read_bytes()
    ctype = "application/json" if path.suffix.lower() == ".json" else "text/csv"
    with _session() as session:
        try:
            batch = read_batch(data, ctype, max_rows=settings.max_batch_rows, columns=HISTORY_COLUMNS)
            r = ingest_history(session, args.channel, batch, settings.tz)
        except BatchRejected as exc:
            print(f"rejected, nothing written: {exc.detail}", file=sys.stderr)
            for e in exc.errors or []:
                print(f"  row {e.row}: {e.field}: {e.message}", file=sys.stderr)
            return 1
        except ApiError as exc:
            print(f"rejected: {exc.detail}", file=sys.stderr)
            return 1
    print(f"{r.channel}: {r.rows} rows ({r.inserted} new, {r.updated} updated, {r.unchanged} unchanged)")
    return 0


def cmd_create_key(args: argparse.Namespace) -> int:
    """Create an API key and print it once (with --if-none, only if no active key exists)."""
    from app.auth import active_key_count, create_key

    with _session() as session:
        if args.if_none and active_key_count(session):
            print("API keys exist: none created")
            return 0
        try:
            row, key = create_key(session, args.name, args.role)
        except ApiError as exc:
            print(exc.detail, file=sys.stderr)
            return 1
    print(f"Created {row.role} key {row.name!r}. It is shown only now; keep it safe:\n\n    {key}\n")
    print(f"Use it as 'Authorization: Bearer {key}' (in /docs: the Authorize button).")
    return 0


def cmd_revoke_key(args: argparse.Namespace) -> int:
    """Revoke an API key by name."""
    from app.auth import revoke_key

    with _session() as session:
        try:
            row = revoke_key(session, args.name)
        except ApiError as exc:
            print(exc.detail, file=sys.stderr)
            return 1
    print(f"revoked {row.name!r} ({row.role})")
    return 0


def progress_bar(fraction: float | None, message: str | None, elapsed: float, width: int = 30) -> str:
    """One line of a text progress bar: [#####.....]  45% message (12 s)."""
    f = min(max(fraction or 0.0, 0.0), 1.0)
    filled = round(f * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {f * 100:3.0f}% {message or ''} ({elapsed:.0f} s)"


def wait_for_job(job_id: str, *, run_here: bool, poll: float = 0.3) -> int:
    """Show a job's progress on stderr until it ends (running it in this process if `run_here`); 0 if done."""
    import time

    from app.handlers import default_handlers
    from app.jobs import JobRunner
    from app.models import Job

    settings = get_settings()
    factory = _factory()
    runner = JobRunner(factory, default_handlers(), concurrency=1, stale_seconds=settings.job_stale_seconds)
    if run_here:
        runner.start()
    started = time.monotonic()
    try:
        while True:
            with factory() as s:
                job = s.get(Job, job_id)
                if job is None:
                    print(f"no job {job_id}", file=sys.stderr)
                    return 2
                status, progress, error = job.status, job.progress or {}, job.error
            line = progress_bar(progress.get("fraction"), progress.get("message") or status, time.monotonic() - started)
            print("\r" + line.ljust(100)[:100], end="", file=sys.stderr, flush=True)
            if status in ("done", "failed", "cancelled"):
                print(file=sys.stderr)
                if status != "done":
                    print(f"{status}: {error}", file=sys.stderr)
                return 0 if status == "done" else 1
            time.sleep(poll)
    except KeyboardInterrupt:
        with factory() as s:
            job = s.get(Job, job_id)
            if job is not None:
                runner.cancel(s, job)
        print("\ncancel requested", file=sys.stderr)
        return 130
    finally:
        runner.stop()


def cmd_forecast(args: argparse.Namespace) -> int:
    """Make a forecast from the stored history with a progress bar, and print where to read it."""
    import json

    from app.handlers import default_handlers
    from app.jobs import JobRunner
    from app.schemas.forecasts import ForecastCreate
    from app.services.forecasts import validate_forecast_request

    settings = get_settings()
    body = ForecastCreate(
        channel=args.channel,
        start=args.start,
        end=args.end,
        interval_minutes=args.interval,
        model=args.model,
        level=args.level,
    )
    with _session() as session:
        try:
            params = validate_forecast_request(session, body, settings.tz)
        except ApiError as exc:
            for e in exc.errors or []:
                print(f"{e.field}: {e.message}", file=sys.stderr)
            return 1
        job = JobRunner(_factory(), default_handlers()).submit(session, "forecast", params, channel=params["channel"])
    print(f"forecast {job.id} queued", file=sys.stderr)
    code = wait_for_job(job.id, run_here=True)
    if code == 0:
        from app.models import Job

        with _session() as session:
            result = json.loads(session.get(Job, job.id).result or "{}")
        print(
            f"{job.id}: model {result.get('model')}, {len(result.get('points', []))} intervals; "
            f"GET /v1/forecasts/{job.id}"
        )
    return code


def cmd_wait(args: argparse.Namespace) -> int:
    """Follow a job's progress until it ends (it runs in the server, or here with --run)."""
    return wait_for_job(args.job_id, run_here=args.run)


def _factory() -> sessionmaker[Session]:
    """A session factory on DATABASE_URL."""
    from app.db import make_engine, session_factory

    return session_factory(make_engine(get_settings().database_url))


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:app", host=args.host or settings.host, port=args.port or settings.port, log_level=settings.log_level
    )
    return 0


def _redact(url: str) -> str:
    """A URL fit to print: the password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database>"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per action."""
    p = argparse.ArgumentParser(prog="fcr-planner", description="Force Control Room demand and staffing planner.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the HTTP API")
    s.add_argument("--host", default=None, help="default FCR_HOST (127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="default FCR_PORT (8000)")
    s.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)").set_defaults(func=cmd_migrate)
    d = sub.add_parser("load-demo", help="load the bundled demo history if the database has none")
    d.add_argument("--force", action="store_true", help="load even if history exists (upsert)")
    d.set_defaults(func=cmd_load_demo)
    i = sub.add_parser("import-history", help="import a history CSV or JSON file into a channel")
    i.add_argument("channel")
    i.add_argument("file")
    i.set_defaults(func=cmd_import_history)
    k = sub.add_parser("create-key", help="create an API key (printed once)")
    k.add_argument("--role", required=True, choices=["admin", "planner", "integration", "viewer"])
    k.add_argument("--name", required=True)
    k.add_argument("--if-none", action="store_true", help="only if no active key exists (first start)")
    k.set_defaults(func=cmd_create_key)
    f = sub.add_parser("forecast", help="forecast a channel from its stored history (shows progress)")
    f.add_argument("channel")
    f.add_argument("--start", required=True, help="first local day or time, e.g. 2026-12-01")
    f.add_argument("--end", required=True, help="end (exclusive)")
    f.add_argument("--interval", type=int, choices=[15, 30, 60], default=None)
    f.add_argument("--model", default="auto")
    f.add_argument("--level", type=float, default=80.0)
    f.set_defaults(func=cmd_forecast)
    w = sub.add_parser("wait", help="follow a job's progress bar until it ends")
    w.add_argument("job_id")
    w.add_argument("--run", action="store_true", help="run it in this process if no server is running jobs")
    w.set_defaults(func=cmd_wait)
    r = sub.add_parser("revoke-key", help="revoke an API key by name")
    r.add_argument("name")
    r.set_defaults(func=cmd_revoke_key)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
