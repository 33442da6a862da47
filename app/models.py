"""ORM models. The schema itself is created only by the Alembic migrations in `migrations/`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.db import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with a fixed constraint naming convention (stable names across databases)."""

    metadata = MetaData(naming_convention=NAMING)


class Channel(Base):
    """A stream of contacts answered by the PCRO pool (999, 101, online, ...) with its default targets."""

    __tablename__ = "channels"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="voice")
    priority: Mapped[int] = mapped_column(Integer, default=100)
    target_service_level: Mapped[float] = mapped_column(Float)
    target_answer_seconds: Mapped[int] = mapped_column(Integer)
    sl_definition: Mapped[str] = mapped_column(String(32), default="offered")
    max_abandon_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    default_aht_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("target_service_level > 0 AND target_service_level < 1", name="sl_range"),
        CheckConstraint("target_answer_seconds >= 0", name="answer_seconds"),
        CheckConstraint("default_aht_seconds > 0", name="aht_positive"),
    )


class HistoryInterval(Base):
    """Observed workload of one channel in one interval; the key (channel, interval_start) makes uploads upserts."""

    __tablename__ = "history_intervals"

    channel_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("channels.code", ondelete="CASCADE"), primary_key=True
    )
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    interval_minutes: Mapped[int] = mapped_column(Integer)
    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int | None] = mapped_column(Integer, nullable=True)
    abandoned: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_within_threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)
    threshold_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    aht_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    agents_staffed: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="upload")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("interval_minutes IN (15, 30, 60)", name="interval_minutes"),
        CheckConstraint("offered >= 0", name="offered_nonneg"),
    )


class CallRecord(Base):
    """One call offered to the PCRO pool; answered calls' waits are censored patience times."""

    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel_code: Mapped[str] = mapped_column(String(32), ForeignKey("channels.code", ondelete="CASCADE"))
    call_key: Mapped[str] = mapped_column(String(200))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    wait_seconds: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    handle_seconds: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("channel_code", "call_key", name="uq_call_records_channel_key"),
        Index("ix_call_records_channel_arrived", "channel_code", "arrived_at"),
        CheckConstraint("outcome IN ('answered', 'abandoned')", name="outcome"),
    )


class Job(Base):
    """Long work (forecast fits, backtests, roster solves) as a durable row: queued, run, finished or failed."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    channel_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON text, served as stored
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="status"),
        Index("ix_jobs_status_created", "status", "created_at"),
        Index("ix_jobs_kind_channel_created", "kind", "channel_code", "created_at"),
    )


class ApiKey(Base):
    """An API key, stored only as its SHA-256 hash, with one role."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (CheckConstraint("role IN ('admin', 'planner', 'integration', 'viewer')", name="role"),)


class AuditEntry(Base):
    """One write request: who (key name and role), what (method, path, outcome), when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    key_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_audit_log_at", "at"),)
