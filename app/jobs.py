"""Durable background jobs: rows in the `jobs` table, run in-process by a small thread pool.

Why by hand: the work is CPU-bound library calls that need progress, cancel and restart-safety against the same
SQLite/PostgreSQL database the API uses; a broker (Celery, RQ) would add a server `make run` must not need.

Life of a job: `queued` -> `running` -> `done` | `failed` (with a reason) | `cancelled`. A running job's row
gets a heartbeat every few seconds; a `running` row whose heartbeat is older than `stale_seconds` was left by
a process that died, and is queued again (or failed with the reason once it has had `max_attempts`). On a
graceful shutdown, running jobs are asked to stop and go back to the queue, so a restart loses nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from app.models import Job, utcnow

log = logging.getLogger("fcr.jobs")

TERMINAL = ("done", "failed", "cancelled")


class JobCancelled(Exception):
    """Raised inside a handler (by `JobContext.check_cancelled`) when its job should stop now."""


class JobFailed(Exception):
    """Raised by a handler for a failure whose message is meant for the user (bad data, impossible request)."""


Handler = Callable[["JobContext"], Any]


@dataclass
class JobContext:
    """What a handler gets: its parameters, a progress reporter and a cancellation check."""

    job_id: str
    kind: str
    params: dict[str, Any]
    channel: str | None
    _runner: JobRunner
    _started: float = field(default_factory=time.monotonic)
    _last_write: float = 0.0
    _last_cancel_check: float = 0.0
    _cancelled: bool = False

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """Sessions on the service database, for handlers that read history."""
        return self._runner.factory

    def progress(self, fraction: float | None = None, message: str | None = None, **figures: Any) -> None:
        """Record progress (0..1, a message, best-so-far figures); written at most twice a second."""
        now = time.monotonic()
        if now - self._last_write < 0.5 and fraction not in (0.0, 1.0):
            return
        self._last_write = now
        value = {
            "fraction": None if fraction is None else round(min(max(fraction, 0.0), 1.0), 4),
            "message": message,
            "elapsed_seconds": round(now - self._started, 2),
            **figures,
        }
        with self._runner.factory() as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(progress=value, heartbeat_at=utcnow()))
            s.commit()

    def cancelled(self) -> bool:
        """True once the job has been cancelled or the service is shutting down (checked at most 4 times a second)."""
        if self._cancelled or self._runner.stopping.is_set():
            return True
        now = time.monotonic()
        if now - self._last_cancel_check >= 0.25:
            self._last_cancel_check = now
            with self._runner.factory() as s:
                self._cancelled = bool(s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))
        return self._cancelled

    def check_cancelled(self) -> None:
        """Raise JobCancelled if the job should stop."""
        if self.cancelled():
            raise JobCancelled


class JobRunner:
    """Claims queued jobs from the database and runs them on `concurrency` worker threads."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        handlers: dict[str, Handler],
        *,
        concurrency: int = 1,
        stale_seconds: float = 30.0,
        max_attempts: int = 2,
        poll_seconds: float = 0.5,
    ) -> None:
        self.factory = factory
        self.handlers = handlers
        self.concurrency = concurrency
        self.stale_seconds = stale_seconds
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._running: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    # --- API side ---------------------------------------------------------------------------------------------

    def submit(self, session: Session, kind: str, params: dict[str, Any], channel: str | None = None) -> Job:
        """Queue a job (committed) and wake the dispatcher."""
        if kind not in self.handlers:
            raise ValueError(f"no handler for job kind {kind!r}")
        job = Job(
            id=str(uuid.uuid4()),
            kind=kind,
            channel_code=channel,
            status="queued",
            params=params,
            progress={"fraction": 0.0, "message": "queued"},
            cancel_requested=False,
            attempts=0,
            created_at=utcnow(),
        )
        session.add(job)
        session.commit()
        self._wake.set()
        return job

    def cancel(self, session: Session, job: Job) -> Job:
        """Cancel a queued job at once, or ask a running one to stop; finished jobs are left as they are."""
        if job.status == "queued":
            session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "queued")
                .values(status="cancelled", cancel_requested=True, finished_at=utcnow(), error="cancelled")
            )
        elif job.status == "running":
            session.execute(update(Job).where(Job.id == job.id).values(cancel_requested=True))
        session.commit()
        session.refresh(job)
        return job

    # --- worker side ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the dispatcher thread (idempotent)."""
        if self._thread is not None:
            return
        self.stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="fcr-job")
        self._thread = threading.Thread(target=self._loop, name="fcr-job-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Ask running jobs to stop (they go back to the queue), and wait up to `timeout` seconds for them."""
        if self._thread is None:
            return
        self.stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._pool is not None:
            deadline = time.monotonic() + timeout
            for fut in list(self._running.values()):
                # The job's own outcome is recorded by _run; here we only wait for it.
                with contextlib.suppress(Exception):
                    fut.result(timeout=max(0.0, deadline - time.monotonic()))
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._thread = None
        self._pool = None

    def _loop(self) -> None:
        last_beat = 0.0
        while not self.stopping.is_set():
            try:
                self._recover_stale()
                now = time.monotonic()
                if now - last_beat >= min(5.0, self.stale_seconds / 3):
                    self._heartbeat()
                    last_beat = now
                self._claim_and_run()
            except Exception:  # keep the dispatcher alive through a database hiccup
                log.exception("job dispatcher error")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _heartbeat(self) -> None:
        with self._lock:
            ids = list(self._running)
        if ids:
            with self.factory() as s:
                s.execute(update(Job).where(Job.id.in_(ids), Job.status == "running").values(heartbeat_at=utcnow()))
                s.commit()

    def _recover_stale(self) -> None:
        """Re-queue (or fail) running jobs whose process died: their heartbeat stopped."""
        cutoff = utcnow() - timedelta(seconds=self.stale_seconds)
        with self._lock:
            mine = list(self._running)
        with self.factory() as s:
            stale = or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff)
            base = update(Job).where(Job.status == "running", stale, Job.id.not_in(mine) if mine else true())
            s.execute(
                base.where(Job.attempts >= self.max_attempts).values(
                    status="failed",
                    finished_at=utcnow(),
                    error=f"interrupted: the service stopped while this job ran ({self.max_attempts} attempts); "
                    "not retried again",
                )
            )
            s.execute(
                base.where(Job.attempts < self.max_attempts).values(
                    status="queued", progress={"fraction": 0.0, "message": "re-queued after a restart"}
                )
            )
            s.commit()

    def _claim_and_run(self) -> None:
        with self._lock:
            free = self.concurrency - len(self._running)
        if free <= 0 or self.stopping.is_set():
            return
        with self.factory() as s:
            ids = list(
                s.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.created_at, Job.id).limit(free))
            )
            for job_id in ids:
                claimed = s.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "queued")
                    .values(status="running", started_at=utcnow(), heartbeat_at=utcnow(), attempts=Job.attempts + 1)
                ).rowcount
                s.commit()
                if claimed != 1:
                    continue  # another process took it
                job = s.get(Job, job_id)
                if job is None:
                    continue
                s.refresh(job)
                ctx = JobContext(
                    job_id=job.id, kind=job.kind, params=dict(job.params), channel=job.channel_code, _runner=self
                )
                assert self._pool is not None
                with self._lock:
                    self._running[job.id] = self._pool.submit(self._run, ctx)

    def _run(self, ctx: JobContext) -> None:
        """Run one handler and record its outcome."""
        status, result, error = "done", None, None
        try:
            handler = self.handlers.get(ctx.kind)
            if handler is None:
                raise JobFailed(f"no handler for job kind {ctx.kind!r} in this version")
            result = json.dumps(handler(ctx), separators=(",", ":"), allow_nan=False)
        except JobCancelled:
            status, error = "cancelled", "cancelled"
        except JobFailed as exc:
            status, error = "failed", str(exc)
        except Exception as exc:
            log.exception("job %s (%s) failed", ctx.job_id, ctx.kind)
            status, error = "failed", f"internal error: {type(exc).__name__}: {exc}"
        try:
            with self.factory() as s:
                if status == "cancelled" and self.stopping.is_set() and not ctx._cancelled:
                    # Shutting down, not cancelled by a user: back to the queue for the next start.
                    values: dict[str, Any] = {
                        "status": "queued",
                        "attempts": Job.attempts - 1,
                        "progress": {"fraction": 0.0, "message": "re-queued at shutdown"},
                    }
                else:
                    values = {"status": status, "result": result, "error": error, "finished_at": utcnow()}
                    if status == "done":
                        values["progress"] = {
                            "fraction": 1.0,
                            "message": "done",
                            "elapsed_seconds": round(time.monotonic() - ctx._started, 2),
                        }
                s.execute(update(Job).where(Job.id == ctx.job_id, Job.status == "running").values(**values))
                s.commit()
        finally:
            with self._lock:
                self._running.pop(ctx.job_id, None)
            self._wake.set()
