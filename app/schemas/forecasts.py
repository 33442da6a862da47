"""Schemas for forecasts (jobs whose result is stored), backtests, and expected abandonment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.jobs import JobProgress, JobStatus
from app.schemas.staffing import MAX_AGENTS, QueueFigures

MAX_HORIZON_DAYS = 92  # a quarter ahead: longer is planning, not forecasting, at 15-minute detail
MAX_EVENTS = 400


class EventIn(BaseModel):
    """A special day the forecast must know about (a football final, a festival, a planned protest)."""

    model_config = ConfigDict(extra="forbid")

    date: date
    name: str = Field(min_length=1, max_length=100)


FORECAST_EXAMPLE = {
    "channel": "999",
    "start": "2016-06-27",
    "end": "2016-07-25",
    "interval_minutes": 60,
    "model": "auto",
    "level": 80,
    "events": [{"date": "2016-07-04", "name": "Independence Day parade"}],
    "history_start": None,
}


class ForecastCreate(BaseModel):
    """A forecast to make: channel, period [start, end) in local time, interval, model and interval level."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [FORECAST_EXAMPLE]})

    channel: str = Field(min_length=1, max_length=32)
    start: date | datetime = Field(description="Inclusive. A date is local midnight; a naive time is local.")
    end: date | datetime = Field(description="Exclusive.")
    interval_minutes: Literal[15, 30, 60] | None = Field(None, description="Default: the channel's stored interval.")
    model: str = Field("auto", max_length=40, description="See GET /v1/models; `auto` chooses by backtest.")
    level: float = Field(80, gt=0, lt=100, description="Central prediction interval, percent.")
    events: list[EventIn] = Field(default_factory=list, max_length=MAX_EVENTS)
    history_start: date | datetime | None = Field(None, description="Ignore history before this (default: all).")


class ForecastPoint(BaseModel):
    """One interval of a forecast."""

    interval_start: str
    calls: float
    lower: float
    upper: float
    aht_seconds: float
    dispersion: float = Field(description="Negative binomial alpha: variance = calls + alpha * calls^2.")
    events: list[str]


class ForecastOut(BaseModel):
    """A forecast job: status while it runs, and when done the model, the backtest that chose it, the points."""

    id: str
    channel: str | None
    status: JobStatus
    progress: JobProgress | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    request: dict[str, Any]
    model: str | None = None
    why: str | None = None
    backtest: list[dict[str, Any]] | None = None
    notes: list[str] | None = None
    level: float | None = None
    interval_minutes: int | None = None
    timezone: str | None = None
    history_end: str | None = None
    events: dict[str, list[str]] | None = None
    points: list[ForecastPoint] | None = None


class ForecastSummary(BaseModel):
    """A forecast in a list (no points)."""

    id: str
    channel: str | None
    status: JobStatus
    created_at: datetime
    finished_at: datetime | None
    request: dict[str, Any]


class ForecastList(BaseModel):
    """A page of forecasts, newest first."""

    items: list[ForecastSummary]
    next_cursor: str | None


class BacktestCreate(BaseModel):
    """A rolling-origin backtest of models on a channel's own history."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"models": ["seasonal_naive", "mstl"], "horizon_days": 28, "interval_minutes": 60, "origins": 8}
            ]
        },
    )

    models: list[str] | None = Field(None, max_length=10, description="Default: every model `auto` considers.")
    horizon_days: int = Field(28, ge=1, le=MAX_HORIZON_DAYS)
    interval_minutes: Literal[15, 30, 60] | None = None
    origins: int = Field(8, ge=2, le=20)
    level: float = Field(80, gt=0, lt=100)


class AbandonmentRequest(BaseModel):
    """PCROs on the phones per forecast interval, or a finished roster, to get the abandonment and service level
    they deliver."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"agents": [12, 12, 14], "patience_seconds": None}]}
    )

    agents: list[int] | None = Field(
        None, min_length=1, description="One count per forecast point (on the phones). Give this or roster_id."
    )
    roster_id: str | None = Field(
        None,
        description="A finished roster instead of agents: its PCROs on the phones per interval (breaks off), less "
        "shrinkage, over the forecast intervals the roster covers. A roster built from forecasts of several channels "
        "answers them all as one pool, higher priority first: the other channels' calls are taken into account.",
    )
    shrinkage: float | None = Field(
        None, ge=0, lt=1, description="With roster_id: absence the roster does not model. Default: the roster's own "
        "(given when it was built from forecasts), else 0.",
    )
    patience_seconds: float | None = Field(
        None, ge=1, description="Default: estimated from the channel's call records or calibrated from history."
    )
    quantile: float | None = Field(None, gt=0, lt=1, description="Calls at this quantile instead of the mean.")
    answer_within_seconds: float | None = Field(None, ge=0, le=3600, description="Default: the channel's target.")

    @field_validator("agents")
    @classmethod
    def _range(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and any(a < 0 or a > MAX_AGENTS for a in v):
            raise ValueError(f"agent counts must be between 0 and {MAX_AGENTS}")
        return v


class AbandonmentInterval(QueueFigures):
    """One interval: calls offered, agents, expected abandoned calls and the queue's figures."""

    interval_start: str
    calls: float
    agents: int | float = Field(description="On the phones; with a roster on a finer grid, the interval's mean.")
    abandoned: float | None


class AbandonmentOut(BaseModel):
    """Expected abandonment and service level per interval and in total."""

    forecast_id: str
    channel: str
    roster_id: str | None = None
    shrinkage: float | None = Field(None, description="With a roster: the shrinkage applied to its heads.")
    shared_with: list[str] = Field(
        default_factory=list, description="With a roster built for several channels: the others in its pool."
    )
    intervals_outside_roster: int = Field(0, description="Forecast intervals the roster does not cover (left out).")
    patience_seconds: float
    patience_source: str
    answer_within_seconds: float
    intervals: list[AbandonmentInterval]
    total_calls: float
    total_abandoned: float | None
    abandon_rate: float | None
    service_level: float | None
