"""Reading jobs back for the API: one job, or a page of them newest first."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import Job

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MICROS = (datetime(9999, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)


def job_dict(job: Job, *, include_result: bool = True) -> dict[str, Any]:
    """A job as the API shows it (JobOut's fields)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "channel": job.channel_code,
        "status": job.status,
        "progress": job.progress,
        "error": job.error,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "params": job.params,
        "result": json.loads(job.result) if include_result and job.result is not None else None,
    }


def get_job_or_404(session: Session, job_id: str, kind: str | None = None) -> Job:
    """The job `job_id` (of `kind` if given), or a 404 problem."""
    job = session.get(Job, job_id)
    if job is None or (kind is not None and job.kind != kind):
        raise ApiError(404, f"no {kind or 'job'} with id {job_id!r}")
    return job


CURSOR_PATTERN = r"^[0-9]{1,16}-[0-9a-f]{32}$"


def _encode(job: Job) -> str:
    """Keyset cursor: microseconds since the epoch of created_at, then the id's hex (matches CURSOR_PATTERN)."""
    micros = (job.created_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{uuid.UUID(job.id).hex}"


def _decode(cursor: str) -> tuple[datetime, str]:
    """Inverse of _encode; every string matching CURSOR_PATTERN decodes (far-future times are clamped)."""
    micros, hexid = cursor.split("-", 1)
    ts = EPOCH + timedelta(microseconds=min(int(micros), MAX_MICROS))
    return ts, str(uuid.UUID(hex=hexid))


def list_jobs(
    session: Session,
    *,
    kind: str | None = None,
    channel: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Job], str | None]:
    """Jobs newest first, filtered, one page (keyset pagination on created_at, id)."""
    stmt = select(Job)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    if channel:
        stmt = stmt.where(Job.channel_code == channel)
    if status:
        stmt = stmt.where(Job.status == status)
    if cursor:
        ts, job_id = _decode(cursor)
        stmt = stmt.where(or_(Job.created_at < ts, and_(Job.created_at == ts, Job.id < job_id)))
    rows = list(session.scalars(stmt.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)))
    nxt = _encode(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], nxt
