"""Forecasts: created as jobs, stored when done (so reading one is instant), listed, cancelled; expected
abandonment for a staffing plan; backtests of the models on a channel's own history; the model catalogue."""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.orm import Session, sessionmaker

from app.auth import require
from app.deps import SessionDep, SettingsDep
from app.errors import ApiError, invalid, problem_responses
from app.models import Channel, Job
from app.schemas.forecasts import (
    AbandonmentOut,
    AbandonmentRequest,
    BacktestCreate,
    ForecastCreate,
    ForecastList,
    ForecastOut,
)
from app.schemas.jobs import JobOut
from app.services import forecasts as svc
from app.services.ingest import stored_interval_minutes
from app.services.jobs import CURSOR_PATTERN, get_job_or_404, job_dict, list_jobs
from forecasting.registry import model_catalog, model_names

router = APIRouter(tags=["forecasts"], responses=problem_responses(400, 401, 403, 422))


def _meta(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "channel": job.channel_code,
        "status": job.status,
        "progress": job.progress,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "request": {k: v for k, v in job.params.items() if k not in ("default_aht",)},
    }


def forecast_response(job: Job, status_code: int = 200) -> Response:
    """The forecast as JSON, splicing the stored result text in unparsed (a stored forecast reads in a blink)."""
    head = json.dumps(_meta(job), separators=(",", ":"))
    body = head if not job.result else head[:-1] + "," + job.result[1:]
    headers = {"Location": f"/v1/forecasts/{job.id}"} if status_code == 202 else None
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


@router.get("/v1/models", dependencies=[require("forecasts:read")], summary="Forecast models and their needs")
def get_models(interval_minutes: Annotated[int, Query(ge=15, le=60, multiple_of=15)] = 15) -> list[dict[str, Any]]:
    """Every model name accepted by POST /v1/forecasts, what it is, and how much history it needs."""
    return model_catalog(interval_minutes)


@router.post(
    "/v1/forecasts",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ForecastOut,
    dependencies=[require("forecasts:write")],
    summary="Start a forecast (a job); poll GET /v1/forecasts/{id}",
)
def post_forecast(body: ForecastCreate, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Checks the request at once (unknown channel or model, end before start, a period over the maximum, too
    little history: 422 naming the field and how much is needed), then queues the fit and answers 202."""
    params = svc.validate_forecast_request(session, body, settings.tz)
    job = request.app.state.jobs.submit(session, "forecast", params, channel=params["channel"])
    return forecast_response(job, 202)


@router.get(
    "/v1/forecasts",
    response_model=ForecastList,
    dependencies=[require("forecasts:read")],
    summary="List forecasts, newest first",
)
def get_forecasts(
    session: SessionDep,
    channel: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> dict[str, Any]:
    """Stored forecasts (and ones still running), without their points."""
    jobs, nxt = list_jobs(session, kind="forecast", channel=channel, limit=limit, cursor=cursor)
    return {"items": [_meta(j) for j in jobs], "next_cursor": nxt}


@router.get(
    "/v1/forecasts/{forecast_id}",
    response_model=ForecastOut,
    dependencies=[require("forecasts:read")],
    responses=problem_responses(404),
    summary="Read a forecast: status, then model, backtest and points",
)
async def get_forecast(forecast_id: str, request: Request) -> Response:
    """`status` is queued, running (with `progress`), done, failed (with `error`) or cancelled. When done:
    the model used, the backtest scores that chose it and why, and `points` with `calls` (mean), `lower` and
    `upper` (the requested central interval), `aht_seconds`, `dispersion` and the special days."""
    cache = request.app.state.forecast_cache
    body = cache.get(forecast_id)
    if body is None:
        body, done = await anyio.to_thread.run_sync(_load_forecast, request.app.state.session_factory, forecast_id)
        if done:
            cache.put(forecast_id, body)  # a finished forecast never changes
    return Response(body, media_type="application/json")


def _load_forecast(factory: sessionmaker[Session], forecast_id: str) -> tuple[bytes, bool]:
    with factory() as session:
        job = get_job_or_404(session, forecast_id, "forecast")
        return forecast_response(job).body, job.status == "done"


@router.delete(
    "/v1/forecasts/{forecast_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ForecastOut,
    dependencies=[require("forecasts:write")],
    responses=problem_responses(404),
    summary="Cancel a queued or running forecast",
)
def cancel_forecast(forecast_id: str, session: SessionDep, request: Request) -> Response:
    """Cancel at once if queued; a running fit stops at its next progress point."""
    job = request.app.state.jobs.cancel(session, get_job_or_404(session, forecast_id, "forecast"))
    return forecast_response(job, 202)


@router.post(
    "/v1/forecasts/{forecast_id}/abandonment",
    response_model=AbandonmentOut,
    dependencies=[require("staffing:read")],
    responses=problem_responses(404, 409),
    summary="Expected abandonment and service level for PCROs per forecast interval",
)
def post_abandonment(forecast_id: str, body: AbandonmentRequest, session: SessionDep) -> dict[str, Any]:
    """ "With this many PCROs per interval, what abandonment and service level should we expect?" Erlang A on
    the forecast calls (mean, or a quantile) and AHT, with the callers' patience from the request, else the
    channel's call records, else calibrated from history that carries `agents_staffed`."""
    job = get_job_or_404(session, forecast_id, "forecast")
    if job.status != "done" or not job.result:
        raise ApiError(409, f"forecast {forecast_id} is {job.status}, not done")
    channel = session.get(Channel, job.channel_code)
    if channel is None:
        raise ApiError(404, f"channel {job.channel_code!r} no longer exists")
    return svc.abandonment(session, job.id, json.loads(job.result), channel, body)


@router.post(
    "/v1/channels/{channel}/backtest",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    dependencies=[require("forecasts:write")],
    responses=problem_responses(404),
    summary="Backtest forecast models on the channel's own history (a job)",
)
def post_backtest(
    channel: str, body: BacktestCreate, request: Request, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Rolling-origin backtest: `origins` forecasts of `horizon_days` each, scored on what happened (MAE,
    MASE, Poisson-floor ratio, sMAPE, interval coverage, pinball loss, seconds). Answers 202 with a job;
    GET /v1/jobs/{id} gives the table when done."""
    if session.get(Channel, channel) is None:
        raise ApiError(404, f"unknown channel {channel!r}")
    stored = stored_interval_minutes(session, channel)
    if stored is None:
        raise invalid("channel", f"channel {channel!r} has no history yet")
    minutes = body.interval_minutes or stored
    if minutes < stored or minutes % stored:
        raise invalid("interval_minutes", f"history is stored at {stored} minutes; ask for a multiple of it")
    unknown = [m for m in body.models or [] if m not in model_names()]
    if unknown:
        raise invalid("models", f"unknown models {unknown}; known: {', '.join(model_names())}")
    params = {
        "channel": channel,
        "models": body.models,
        "horizon_days": body.horizon_days,
        "interval_minutes": minutes,
        "origins": body.origins,
        "level": body.level,
        "timezone": settings.tz.key,
    }
    job = request.app.state.jobs.submit(session, "backtest", params, channel=channel)
    return job_dict(job)
