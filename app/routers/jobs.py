"""Background jobs of every kind: read, list, cancel. Forecasts and rosters have their own views as well."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from app.auth import require
from app.deps import SessionDep
from app.errors import problem_responses
from app.schemas.jobs import JobList, JobOut, JobStatus
from app.services.jobs import CURSOR_PATTERN, get_job_or_404, job_dict, list_jobs

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=problem_responses(400, 401, 403, 422))


@router.get("", response_model=JobList, dependencies=[require("jobs:read")], summary="List jobs, newest first")
def read_jobs(
    session: SessionDep,
    kind: str | None = None,
    channel: str | None = None,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> dict[str, Any]:
    """Jobs filtered by kind, channel and status; results are left out of the list (read one job for it)."""
    jobs, nxt = list_jobs(session, kind=kind, channel=channel, status=status_, limit=limit, cursor=cursor)
    return {"items": [job_dict(j, include_result=False) for j in jobs], "next_cursor": nxt}


@router.get(
    "/{job_id}",
    response_model=JobOut,
    dependencies=[require("jobs:read")],
    responses=problem_responses(404),
    summary="Read one job",
)
def read_job(job_id: str, session: SessionDep) -> dict[str, Any]:
    """Status, progress while it runs, and the result once done."""
    return job_dict(get_job_or_404(session, job_id))


@router.delete(
    "/{job_id}",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[require("jobs:write")],
    responses=problem_responses(404),
    summary="Cancel a queued or running job",
)
def cancel_job(job_id: str, session: SessionDep, request: Request) -> dict[str, Any]:
    """A queued job is cancelled at once; a running one is asked to stop and shows `cancelled` when it has."""
    job = request.app.state.jobs.cancel(session, get_job_or_404(session, job_id))
    return job_dict(job, include_result=False)
