"""Schemas for channels: the streams of contacts the PCRO pool answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SLDefinition = Literal["offered", "answered", "offered_excl_short_abandons"]
ChannelKind = Literal["voice", "chat", "deferred"]
CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
ChannelCode = Annotated[str, Field(pattern=CODE_PATTERN, examples=["online"])]


class ChannelBase(BaseModel):
    """Fields shared by channel input and output."""

    name: str = Field(min_length=1, max_length=200, description="Human name shown to planners.")
    kind: ChannelKind = Field("voice", description="voice and chat queue in real time; deferred is back-office work.")
    priority: int = Field(100, ge=1, le=1000, description="Lower is answered first by the shared pool (999 is 1).")
    target_service_level: float = Field(gt=0, lt=1, description="Fraction answered within target_answer_seconds.")
    target_answer_seconds: int = Field(ge=0, le=86_400)
    sl_definition: SLDefinition = "offered"
    max_abandon_rate: float | None = Field(None, gt=0, le=1)
    default_aht_seconds: float = Field(gt=0, le=86_400, description="Handle time used where history has none.")


class ChannelCreate(ChannelBase):
    """A new channel (999 and 101 exist from the first migration)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "online",
                    "name": "Online crime reports",
                    "kind": "deferred",
                    "priority": 3,
                    "target_service_level": 0.9,
                    "target_answer_seconds": 14_400,
                    "default_aht_seconds": 900,
                }
            ]
        },
    )

    code: ChannelCode


class ChannelUpdate(BaseModel):
    """A partial change to a channel's targets or description; omitted fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"target_service_level": 0.85, "target_answer_seconds": 30}]},
    )

    name: str | None = Field(None, min_length=1, max_length=200)
    kind: ChannelKind | None = None
    priority: int | None = Field(None, ge=1, le=1000)
    target_service_level: float | None = Field(None, gt=0, lt=1)
    target_answer_seconds: int | None = Field(None, ge=0, le=86_400)
    sl_definition: SLDefinition | None = None
    max_abandon_rate: float | None = Field(None, gt=0, le=1)
    default_aht_seconds: float | None = Field(None, gt=0, le=86_400)


class ChannelOut(ChannelBase):
    """A channel as stored."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    created_at: datetime


class ChannelPage(BaseModel):
    """A page of channels, highest priority first; pass `next_cursor` back as `cursor` (null on the last page)."""

    items: list[ChannelOut]
    next_cursor: str | None
