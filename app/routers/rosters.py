"""Rosters: a roster is a job (CP-SAT solve) with progress, cancel, a stored result and CSV / iCalendar exports."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status

from app.auth import require
from app.deps import SessionDep
from app.errors import ApiError, invalid, problem_responses
from app.models import Job
from app.schemas.rosters import RosterCreate, RosterList, RosterOut
from app.services import rosters as svc
from app.services.jobs import CURSOR_PATTERN, get_job_or_404, list_jobs

router = APIRouter(prefix="/v1/rosters", tags=["rosters"], responses=problem_responses(400, 401, 403, 422))


def _out(job: Job, *, result: bool = True) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "result": json.loads(job.result) if result and job.result else None,
    }


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RosterOut,
    dependencies=[require("rosters:write")],
    summary="Start a roster solve (a job)",
)
def post_roster(body: RosterCreate, request: Request, response: Response, session: SessionDep) -> dict[str, Any]:
    """Checks the request at once (every bad field named: unknown templates, breaks that do not fit, requirements
    off the grid, duplicate staff ids...), then queues the solve. Poll GET /v1/rosters/{id} for progress."""
    params = svc.validate_roster_request(session, body)
    job = request.app.state.jobs.submit(session, "roster", params)
    response.headers["Location"] = f"/v1/rosters/{job.id}"
    return _out(job)


@router.get("", response_model=RosterList, dependencies=[require("rosters:read")], summary="List rosters")
def get_rosters(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> dict[str, Any]:
    """Rosters newest first, without results."""
    jobs, nxt = list_jobs(session, kind="roster", limit=limit, cursor=cursor)
    return {"items": [_out(j, result=False) for j in jobs], "next_cursor": nxt}


@router.get(
    "/{roster_id}",
    response_model=RosterOut,
    dependencies=[require("rosters:read")],
    responses=problem_responses(404),
    summary="Read a roster: progress, then the result",
)
def get_roster(roster_id: str, session: SessionDep) -> dict[str, Any]:
    """While solving: `progress` with elapsed seconds, best objective and bound. When done: `result` with
    `assignments`, `coverage` (per interval, the previous period's shifts that run into the roster included as
    `carried_in`; with forecasts, predicted service per channel), `kpis` (gap against
    an LP bound; `staff_at_contract_maximum`: people who cannot take another shift inside their contract band, so
    when it is everyone, more cover needs more hours or people), `violations` (the independent audit: empty), and
    `conflicts`/`shortfall` (each short interval with `why`: who could cover it and the rule keeping each of the
    others off) where the hard rules or the workforce cannot meet the requirement."""
    return _out(get_job_or_404(session, roster_id, "roster"))


@router.delete(
    "/{roster_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RosterOut,
    dependencies=[require("rosters:write")],
    responses=problem_responses(404),
    summary="Cancel a roster solve",
)
def cancel_roster(roster_id: str, request: Request, session: SessionDep) -> dict[str, Any]:
    """A queued solve is cancelled at once; a running one stops within about a second."""
    job = request.app.state.jobs.cancel(session, get_job_or_404(session, roster_id, "roster"))
    return _out(job, result=False)


@router.get(
    "/{roster_id}/rest-of-period",
    response_model=RosterCreate,
    response_model_exclude_none=True,
    dependencies=[require("rosters:read")],
    responses=problem_responses(404, 409),
    summary="A request body that re-rosters this roster from a day to its end",
)
def rest_of_period(
    roster_id: str,
    session: SessionDep,
    from_date: Annotated[date, Query(description="The first day to re-roster: a day of the roster after its first")],
) -> dict[str, Any]:
    """After a change (sickness, a swap) part-way through a published roster: the body of a new roster request
    from `from_date` to this roster's end, ready to edit and post to `POST /v1/rosters`. It carries this roster's
    requirements from that day, rules, weights and templates; each person's shifts of the 14 days before it as
    `worked_before` (with their breaks: the rules look back, and the nights that run into the new start cover it)
    and from it as `published` (kept where the optimiser can, at `weights.keep_published`); their leave that
    still lies ahead; people on a rotating pattern fixed at the pattern and offset they follow, moved on to the new
    start; and `contract_period_start` this roster's own (or first day) where that is at most 14 days back, so
    contracts hold over the whole period. Add the change (e.g. the sick day to the person's `unavailable`) and post
    it. Requirements derived from forecasts are carried as derived (the predicted service per channel is not)."""
    job = get_job_or_404(session, roster_id, "roster")
    if job.status != "done" or not job.result:
        raise ApiError(409, f"roster {roster_id} is {job.status}, not done")
    return svc.rest_of_period(job.params["request"], json.loads(job.result), from_date)


@router.get(
    "/{roster_id}/export",
    dependencies=[require("rosters:read")],
    responses=problem_responses(404, 409),
    response_class=Response,
    summary="Export a roster as CSV or iCalendar",
)
def export_roster(
    roster_id: str,
    session: SessionDep,
    format: Annotated[
        Literal["csv", "ics", "coverage"],
        Query(description="csv: every shift; ics: a calendar feed; coverage: a CSV row per interval"),
    ] = "csv",
    staff_id: Annotated[str | None, Query(max_length=64, description="ics: one person's feed")] = None,
) -> Response:
    """CSV for rota tools (one row per shift, with breaks), an iCalendar feed (one person's with staff_id), or the
    coverage as CSV (one row per interval: required, on the phones, short, per skill and, with forecasts, the
    predicted service per channel), for a spreadsheet."""
    job = get_job_or_404(session, roster_id, "roster")
    if job.status != "done" or not job.result:
        raise ApiError(409, f"roster {roster_id} is {job.status}, not done")
    result = json.loads(job.result)
    if staff_id is not None and staff_id not in {a["staff_id"] for a in result.get("assignments", [])}:
        known = {s["id"] for s in job.params["request"]["staff"]}
        if staff_id not in known:
            raise invalid("staff_id", f"no staff member {staff_id!r} in this roster")
    if format == "coverage":
        return Response(
            svc.export_coverage_csv(result, job.params["request"].get("timezone", "Europe/London")),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="roster-{roster_id}-coverage.csv"'},
        )
    if format == "csv":
        return Response(
            svc.export_csv(result),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="roster-{roster_id}.csv"'},
        )
    return Response(
        svc.export_ics(result, roster_id, staff_id),
        media_type="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="roster-{staff_id or roster_id}.ics"'},
    )
