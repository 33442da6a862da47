"""Staffing: agents needed per interval (or what given agents deliver), single queue or shared pool; and the
patience of a channel's callers estimated from its call records."""

from __future__ import annotations

import json
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query
from sqlalchemy import select

from app.auth import require
from app.deps import SessionDep, SettingsDep
from app.errors import invalid, problem_responses
from app.models import CallRecord, Channel, Job
from app.routers.channels import get_channel_or_404
from app.schemas.staffing import (
    IntervalDemand,
    PatienceOut,
    SharedPoolRequest,
    SharedPoolResponse,
    StaffingRequest,
    StaffingResponse,
)
from app.services import staffing as svc
from app.services.forecasts import resolve_patience
from app.services.staffing import json_float
from app.services.timegrid import parse_query_time
from forecasting.distribution import count_quantile
from scheduling import estimate_patience

router = APIRouter(tags=["staffing"], responses=problem_responses(400, 401, 403, 422))


@router.post(
    "/v1/staffing",
    response_model=StaffingResponse,
    dependencies=[require("staffing:read")],
    summary="Agents needed per interval, or what agents deliver",
)
def post_staffing(body: StaffingRequest, session: SessionDep) -> dict[str, Any]:
    """With `agents` null: the fewest agents meeting every target at once in each interval (Erlang C or exact
    Erlang A), and `rostered_agents` after shrinkage. With `agents`: the service level, abandonment, ASA and
    occupancy they deliver. `abandon_rate` is 0 for Erlang C. Stateless: nothing is stored."""
    if body.forecast_id is not None:
        body = staffing_from_forecast(session, body)
    return svc.staffing(body)


def staffing_from_forecast(session: SessionDep, body: StaffingRequest) -> StaffingRequest:
    """Fill a staffing request's intervals from a stored forecast (its mean, or a quantile) and AHT."""
    job = session.get(Job, body.forecast_id)
    if job is None or job.kind != "forecast":
        raise invalid("forecast_id", f"no forecast with id {body.forecast_id!r}")
    if job.status != "done" or not job.result:
        raise invalid("forecast_id", f"forecast {body.forecast_id} is {job.status}, not done")
    result = json.loads(job.result)
    points = result["points"]
    if body.agents is not None and len(body.agents) != len(points):
        raise invalid("agents", f"has {len(body.agents)} values for {len(points)} forecast intervals")
    mu = np.array([p["calls"] for p in points], float)
    calls = (
        mu
        if body.quantile is None
        else count_quantile(body.quantile, mu, np.array([p["dispersion"] for p in points], float))
    )
    patience = body.patience_seconds
    if body.model == "erlang_a" and patience is None:
        patience, _ = resolve_patience(session, job.channel_code or "", None, result["interval_minutes"])
    intervals = [
        IntervalDemand(interval_start=p["interval_start"], calls=float(c), aht_seconds=max(1.0, p["aht_seconds"]))
        for p, c in zip(points, calls, strict=True)
    ]
    return body.model_copy(
        update={"intervals": intervals, "interval_minutes": result["interval_minutes"], "patience_seconds": patience}
    )


@router.post(
    "/v1/staffing/shared-pool",
    response_model=SharedPoolResponse,
    dependencies=[require("staffing:read")],
    summary="One PCRO pool answering several channels by priority",
)
def post_shared_pool(body: SharedPoolRequest, session: SessionDep) -> dict[str, Any]:
    """A free PCRO always takes a waiting call of the highest-priority channel first (non-preemptive).
    Returns pooled agents per interval and each channel's figures. Channels named like a stored channel
    default to its priority and targets."""
    stored = {c.code: c for c in session.scalars(select(Channel))}
    return svc.shared_pool(body, stored)


@router.get(
    "/v1/channels/{channel}/patience",
    response_model=PatienceOut,
    responses=problem_responses(404),
    dependencies=[require("history:read")],
    summary="Callers' mean patience from call records",
)
def get_patience(
    channel: str,
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[str | None, Query(description="Inclusive; ISO 8601 (local time without offset).")] = None,
    end: Annotated[str | None, Query(description="Exclusive; ISO 8601 (local time without offset).")] = None,
) -> dict[str, Any]:
    """Exponential MLE (time waited by all callers / abandonments: answered calls' waits are censored patience
    times) with a confidence interval and a Kaplan-Meier check of the exponential fit."""
    get_channel_or_404(session, channel)
    stmt = select(CallRecord.wait_seconds, CallRecord.outcome).where(CallRecord.channel_code == channel)
    for name, value, op in (("start", start, "ge"), ("end", end, "lt")):
        if value is None:
            continue
        try:
            ts = parse_query_time(value, settings.tz)
        except ValueError:
            raise invalid(name, f"not an ISO 8601 date or time: {value!r}") from None
        stmt = stmt.where(CallRecord.arrived_at >= ts if op == "ge" else CallRecord.arrived_at < ts)
    rows = session.execute(stmt).all()
    if not rows:
        return {
            "channel": channel,
            "mean_patience_seconds": None,
            "ci_low": None,
            "ci_high": None,
            "n_calls": 0,
            "n_abandoned": 0,
            "total_wait_seconds": 0.0,
            "ks_distance": None,
            "chi2_p_value": None,
            "fit_ok": False,
            "note": "no call records in that window: upload calls to estimate patience",
        }
    waits = np.fromiter((r[0] for r in rows), float, len(rows))
    outcome = np.array([r[1] for r in rows])
    est = estimate_patience(waits, outcome)
    note = (
        "exponential fit acceptable"
        if est.fit_ok
        else "patience is not exponential here: check Erlang A figures against the simulation"
    )
    if not est.finite:
        note = "no caller abandoned: mean patience has no finite estimate; ci_low is a lower bound"
    return {
        "channel": channel,
        "mean_patience_seconds": json_float(est.mean_patience_seconds),
        "ci_low": json_float(est.ci_low),
        "ci_high": json_float(est.ci_high),
        "n_calls": est.n_calls,
        "n_abandoned": est.n_abandoned,
        "total_wait_seconds": float(est.total_wait_seconds),
        "ks_distance": json_float(est.ks_distance),
        "chi2_p_value": json_float(est.chi2_p_value),
        "fit_ok": bool(est.fit_ok),
        "note": note,
    }
