"""Schemas for the stateless staffing calculator: Erlang C / Erlang A per interval, and the shared pool."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from app.schemas.channels import SLDefinition

MAX_STAFFING_INTERVALS = 40_000  # a leap year of 15-minute intervals is 35,136
MAX_AGENTS = 2_500  # the engine's tested range; targets unmet even there are reported as not achievable


class StaffingTargets(BaseModel):
    """Targets that must all hold at once; null means 'no such target'."""

    model_config = ConfigDict(extra="forbid")

    service_level: float | None = Field(0.9, gt=0, lt=1, description="Fraction answered within the threshold.")
    answer_within_seconds: float = Field(10, ge=0, le=3600)
    sl_definition: SLDefinition = "offered"
    max_abandon_rate: float | None = Field(None, gt=0, lt=1)
    max_asa_seconds: float | None = Field(None, gt=0, le=3600)
    max_occupancy: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _some_target(self) -> StaffingTargets:
        if all(
            v is None for v in (self.service_level, self.max_abandon_rate, self.max_asa_seconds, self.max_occupancy)
        ):
            raise ValueError(
                "give at least one target (service_level, max_abandon_rate, max_asa_seconds, max_occupancy)"
            )
        return self


class IntervalDemand(BaseModel):
    """Demand in one interval: calls offered, their AHT and (Erlang A) the callers' mean patience."""

    model_config = ConfigDict(extra="forbid")

    interval_start: str | None = Field(None, max_length=40, description="Optional label, echoed back.")
    calls: float = Field(ge=0, le=1_000_000, description="Calls offered in the interval (may be fractional).")
    aht_seconds: float = Field(ge=1, le=86_400)
    patience_seconds: float | None = Field(
        None, ge=1, description="Mean patience (exponential); null uses the request's patience_seconds."
    )


STAFFING_EXAMPLE = {
    "interval_minutes": 15,
    "model": "erlang_a",
    "intervals": [
        {"calls": 40.0, "aht_seconds": 300, "patience_seconds": 120},
        {"calls": 55.0, "aht_seconds": 290, "patience_seconds": 120},
    ],
    "targets": {
        "service_level": 0.9,
        "answer_within_seconds": 10,
        "sl_definition": "offered",
        "max_abandon_rate": None,
        "max_asa_seconds": None,
        "max_occupancy": None,
    },
    "shrinkage": 0.3,
    "agents": None,
}


class StaffingRequest(BaseModel):
    """Requirement (agents null) or evaluation (one agent count per interval) for one queue."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [STAFFING_EXAMPLE]})

    interval_minutes: Literal[15, 30, 60] = 15
    model: Literal["erlang_c", "erlang_a"] = "erlang_a"
    patience_seconds: float | None = Field(None, ge=1, description="Default patience for Erlang A intervals.")
    targets: StaffingTargets = Field(default_factory=StaffingTargets)
    shrinkage: float = Field(0.0, ge=0, lt=1, description="Fraction of paid time off the phones.")
    forecast_id: str | None = Field(None, description="Instead of intervals: a stored forecast's calls and AHT.")
    quantile: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="With forecast_id: staff for calls at this quantile of the forecast, not the mean.",
    )
    intervals: list[IntervalDemand] | None = Field(
        None,
        min_length=1,
        max_length=MAX_STAFFING_INTERVALS,
        validate_default=True,
        description="Demand per interval (or give forecast_id).",
    )
    agents: list[int] | None = Field(None, description="Agents on the phones per interval, to evaluate.")

    @field_validator("intervals")
    @classmethod
    def _patience_known(cls, v: list[IntervalDemand] | None, info: ValidationInfo) -> list[IntervalDemand] | None:
        if "forecast_id" in info.data:
            if v is None and info.data["forecast_id"] is None:
                raise ValueError("give intervals, or forecast_id to staff a stored forecast")
            if v is not None and info.data["forecast_id"] is not None:
                raise ValueError("give intervals or forecast_id, not both")
        if v is not None and info.data.get("model") == "erlang_a" and info.data.get("patience_seconds") is None:
            missing = [i for i, iv in enumerate(v) if iv.patience_seconds is None]
            if missing:
                raise ValueError(
                    f"erlang_a needs patience_seconds: missing on intervals {missing[:10]}"
                    f"{' ...' if len(missing) > 10 else ''} and no request-level patience_seconds"
                )
        return v

    @field_validator("quantile")
    @classmethod
    def _quantile_needs_forecast(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and info.data.get("forecast_id") is None:
            raise ValueError("quantile applies to a forecast: give forecast_id")
        return v

    @field_validator("agents")
    @classmethod
    def _agents_fit(cls, v: list[int] | None, info: ValidationInfo) -> list[int] | None:
        return _check_agents(v, len(info.data.get("intervals") or []))


def _check_agents(v: list[int] | None, n: int) -> list[int] | None:
    if v is None:
        return v
    if n and len(v) != n:
        raise ValueError(f"has {len(v)} values for {n} intervals")
    if any(a < 0 or a > MAX_AGENTS for a in v):
        raise ValueError(f"agent counts must be between 0 and {MAX_AGENTS}")
    return v


class QueueFigures(BaseModel):
    """What a queue delivers: null where undefined (an unstable Erlang C queue has no finite wait)."""

    service_level: float | None
    abandon_rate: float | None
    asa_seconds: float | None
    occupancy: float | None
    p_wait: float | None


class StaffingInterval(QueueFigures):
    """One interval's answer."""

    interval_start: str | None = None
    agents: int
    rostered_agents: int = Field(description="ceil(agents / (1 - shrinkage)): heads to roster.")
    feasible: bool = Field(description="False if the targets cannot be met (at the agents given, or at all).")
    stable: bool = Field(description="False for an Erlang C queue with load >= agents (it grows without bound).")


class StaffingSummary(BaseModel):
    """Totals over the request: calls, expected abandoned calls, call-weighted service level, agent-hours."""

    calls: float
    expected_abandoned: float | None
    service_level: float | None
    agent_hours: float
    rostered_hours: float
    intervals_infeasible: int


class StaffingResponse(BaseModel):
    """Per-interval figures and totals."""

    model: str
    intervals: list[StaffingInterval]
    summary: StaffingSummary


class PoolChannel(BaseModel):
    """One channel of the shared pool: its demand per interval and its targets."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=32)
    priority: int | None = Field(None, ge=1, le=1000, description="Lower first; default: the channel's, or order.")
    intervals: list[IntervalDemand] = Field(min_length=1, max_length=MAX_STAFFING_INTERVALS)
    targets: StaffingTargets | None = Field(None, description="Default: the stored channel's targets.")
    patience_seconds: float | None = Field(None, ge=1, description="Default patience; null = none abandon.")


POOL_EXAMPLE = {
    "interval_minutes": 15,
    "channels": [
        {
            "name": "999",
            "intervals": [{"calls": 30, "aht_seconds": 300}, {"calls": 42, "aht_seconds": 300}],
            "targets": {"service_level": 0.9, "answer_within_seconds": 10},
            "patience_seconds": 90,
        },
        {
            "name": "101",
            "intervals": [{"calls": 60, "aht_seconds": 360}, {"calls": 75, "aht_seconds": 360}],
            "targets": {"service_level": 0.8, "answer_within_seconds": 60},
            "patience_seconds": 240,
        },
    ],
    "shrinkage": 0.3,
    "agents": None,
}


class SharedPoolRequest(BaseModel):
    """Several channels answered by one pool of PCROs; a free PCRO always takes the highest-priority call."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [POOL_EXAMPLE]})

    interval_minutes: Literal[15, 30, 60] = 15
    shrinkage: float = Field(0.0, ge=0, lt=1)
    channels: list[PoolChannel] = Field(min_length=1, max_length=8)
    agents: list[int] | None = None

    @field_validator("channels")
    @classmethod
    def _same_intervals(cls, v: list[PoolChannel]) -> list[PoolChannel]:
        n = len(v[0].intervals)
        for c in v[1:]:
            if len(c.intervals) != n:
                raise ValueError(
                    f"channel {c.name!r} has {len(c.intervals)} intervals, {v[0].name!r} has {n}: "
                    "every channel needs the same intervals"
                )
        names = [c.name for c in v]
        if len(set(names)) != len(names):
            raise ValueError("channel names must be unique")
        return v

    @field_validator("agents")
    @classmethod
    def _agents_fit(cls, v: list[int] | None, info: ValidationInfo) -> list[int] | None:
        chans = info.data.get("channels") or []
        return _check_agents(v, len(chans[0].intervals) if chans else 0)


class PoolInterval(BaseModel):
    """One interval of the shared pool: pooled agents and each channel's figures."""

    interval_start: str | None = None
    agents: int
    rostered_agents: int
    feasible: bool
    channels: dict[str, QueueFigures]


class PoolChannelSummary(BaseModel):
    """Totals for one channel of the pool."""

    calls: float
    expected_abandoned: float | None
    service_level: float | None


class SharedPoolResponse(BaseModel):
    """Per-interval pooled agents with per-channel figures, in priority order, and totals."""

    priority_order: list[str]
    intervals: list[PoolInterval]
    channels: dict[str, PoolChannelSummary]
    agent_hours: float
    rostered_hours: float
    intervals_infeasible: int


class PatienceOut(BaseModel):
    """Mean patience of a channel's callers from its call records (abandoned / total time waited)."""

    channel: str
    mean_patience_seconds: float | None = Field(description="Null when no caller abandoned (no finite MLE).")
    ci_low: float | None
    ci_high: float | None
    n_calls: int
    n_abandoned: int
    total_wait_seconds: float
    ks_distance: float | None = Field(description="Kaplan-Meier vs fitted exponential: largest gap.")
    chi2_p_value: float | None
    fit_ok: bool
    note: str
