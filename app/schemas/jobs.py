"""Schemas for background jobs (forecast fits, backtests, roster solves)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class JobProgress(BaseModel):
    """How far a job has got: a fraction for a progress bar, a message, and any best-so-far figures."""

    model_config = ConfigDict(extra="allow")

    fraction: float | None = Field(None, ge=0, le=1)
    message: str | None = None
    elapsed_seconds: float | None = None


class JobOut(BaseModel):
    """A job's state; `result` is present once it is done."""

    id: str
    kind: str
    channel: str | None
    status: JobStatus
    progress: JobProgress | None
    error: str | None = Field(None, description="Why it failed (or 'cancelled').")
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    params: dict[str, Any]
    result: Any | None = None


class JobList(BaseModel):
    """A page of jobs, newest first; pass `next_cursor` back as `cursor` for the next page."""

    items: list[JobOut]
    next_cursor: str | None
