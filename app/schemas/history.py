"""Schemas for interval history and call-level records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

ALLOWED_INTERVAL_MINUTES = (15, 30, 60)

# Times go out as ISO 8601 with an explicit offset ("+00:00", never "Z") so every row reads alike.
OffsetDatetime = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(), return_type=str)]


def _check_interval_minutes(v: int) -> int:
    if v not in ALLOWED_INTERVAL_MINUTES:
        raise ValueError("must be 15, 30 or 60")
    return v


# An int (so CSV text "15" parses) restricted to the three interval lengths.
IntervalMinutes = Annotated[
    int,
    AfterValidator(_check_interval_minutes),
    WithJsonSchema({"type": "integer", "enum": list(ALLOWED_INTERVAL_MINUTES)}),
]

HISTORY_EXAMPLE = [
    {
        "interval_start": "2026-03-29T00:45:00+00:00",
        "interval_minutes": 15,
        "offered": 14,
        "answered": 13,
        "abandoned": 1,
        "answered_within_threshold": 12,
        "threshold_seconds": 10,
        "aht_seconds": 291.5,
    },
    {
        "interval_start": "2026-03-29T02:00:00+01:00",
        "interval_minutes": 15,
        "offered": 11,
        "answered": 11,
        "abandoned": 0,
    },
]

CALLS_EXAMPLE = [
    {"arrived_at": "2026-01-05T09:00:12+00:00", "wait_seconds": 4.0, "outcome": "answered", "handle_seconds": 287},
    {"arrived_at": "2026-01-05T09:01:40+00:00", "wait_seconds": 41.5, "outcome": "abandoned", "handle_seconds": 0},
]


class HistoryRowIn(BaseModel):
    """One interval of observed workload. Counts are whole calls; null means 'not recorded'."""

    model_config = ConfigDict(extra="forbid")

    interval_start: AwareDatetime = Field(description="ISO 8601 with a UTC offset; stored in UTC.")
    interval_minutes: IntervalMinutes
    offered: int = Field(ge=0, le=1_000_000)
    answered: int | None = Field(None, ge=0, le=1_000_000)
    abandoned: int | None = Field(None, ge=0, le=1_000_000)
    answered_within_threshold: int | None = Field(None, ge=0, le=1_000_000)
    threshold_seconds: int | None = Field(None, ge=0, le=86_400)
    aht_seconds: float | None = Field(None, gt=0, le=86_400)
    agents_staffed: float | None = Field(None, ge=0, le=100_000, description="PCROs on the phones (mean).")
    channel: str | None = Field(None, description="Optional; if given it must equal the channel in the path.")

    @model_validator(mode="after")
    def _consistent(self) -> HistoryRowIn:
        if self.answered is not None and self.abandoned is not None:
            if self.answered + self.abandoned > self.offered:
                raise ValueError(
                    f"answered + abandoned ({self.answered} + {self.abandoned}) exceeds offered ({self.offered})"
                )
        elif self.answered is not None and self.answered > self.offered:
            raise ValueError(f"answered ({self.answered}) exceeds offered ({self.offered})")
        elif self.abandoned is not None and self.abandoned > self.offered:
            raise ValueError(f"abandoned ({self.abandoned}) exceeds offered ({self.offered})")
        if self.answered_within_threshold is not None:
            if self.threshold_seconds is None:
                raise ValueError("answered_within_threshold needs threshold_seconds")
            cap = self.answered if self.answered is not None else self.offered
            if self.answered_within_threshold > cap:
                raise ValueError(f"answered_within_threshold ({self.answered_within_threshold}) exceeds {cap}")
        return self


class CallIn(BaseModel):
    """One call offered to the pool. `call_id`, if the source has one, makes re-sending it a no-op."""

    model_config = ConfigDict(extra="forbid")

    arrived_at: AwareDatetime = Field(description="When the call asked for an agent; ISO 8601 with offset.")
    wait_seconds: float = Field(ge=0, le=86_400, description="Time in queue (until answer or hang-up).")
    outcome: Literal["answered", "abandoned"]
    handle_seconds: float = Field(0, ge=0, le=86_400, description="Talk plus wrap time; 0 if abandoned.")
    call_id: str | None = Field(None, min_length=1, max_length=190)
    channel: str | None = Field(None, description="Optional; if given it must equal the channel in the path.")

    @model_validator(mode="after")
    def _abandoned_not_handled(self) -> CallIn:
        if self.outcome == "abandoned" and self.handle_seconds:
            raise ValueError("an abandoned call has handle_seconds 0")
        return self


class HistoryIntervalOut(BaseModel):
    """One interval as stored, or several stored intervals summed into one coarser interval."""

    interval_start: OffsetDatetime = Field(description="Local time of the control room with its UTC offset.")
    interval_minutes: int
    offered: int
    answered: int | None
    abandoned: int | None
    answered_within_threshold: int | None
    threshold_seconds: int | None
    aht_seconds: float | None
    agents_staffed: float | None
    source_intervals: int = Field(description="How many stored intervals were summed into this one.")


class HistoryPage(BaseModel):
    """A page of history; pass `next_cursor` back as `cursor` for the next page (null on the last)."""

    channel: str
    timezone: str
    interval_minutes: int | None
    count: int
    next_cursor: int | None
    intervals: list[HistoryIntervalOut]


class IngestResult(BaseModel):
    """What an accepted batch did: re-sending the same batch reports every row unchanged."""

    channel: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    interval_minutes: int | None
    first_interval: OffsetDatetime | None
    last_interval: OffsetDatetime | None


class CallsIngestResult(BaseModel):
    """What an accepted batch of call records did, and which history intervals it re-aggregated."""

    channel: str
    rows: int
    inserted: int
    unchanged: int
    intervals_updated: int
    interval_minutes: int
