"""Channels (with 999 and 101 seeded), interval history and call-level records.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    channels = op.create_table(
        "channels",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("target_service_level", sa.Float(), nullable=False),
        sa.Column("target_answer_seconds", sa.Integer(), nullable=False),
        sa.Column("sl_definition", sa.String(32), nullable=False),
        sa.Column("max_abandon_rate", sa.Float(), nullable=True),
        sa.Column("default_aht_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("target_service_level > 0 AND target_service_level < 1", name="ck_channels_sl_range"),
        sa.CheckConstraint("target_answer_seconds >= 0", name="ck_channels_answer_seconds"),
        sa.CheckConstraint("default_aht_seconds > 0", name="ck_channels_aht_positive"),
        sa.PrimaryKeyConstraint("code", name="pk_channels"),
    )
    op.create_table(
        "history_intervals",
        sa.Column("channel_code", sa.String(32), nullable=False),
        sa.Column("interval_start", sa.DateTime(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=True),
        sa.Column("abandoned", sa.Integer(), nullable=True),
        sa.Column("answered_within_threshold", sa.Integer(), nullable=True),
        sa.Column("threshold_seconds", sa.Integer(), nullable=True),
        sa.Column("aht_seconds", sa.Float(), nullable=True),
        sa.Column("agents_staffed", sa.Float(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("interval_minutes IN (15, 30, 60)", name="ck_history_intervals_interval_minutes"),
        sa.CheckConstraint("offered >= 0", name="ck_history_intervals_offered_nonneg"),
        sa.ForeignKeyConstraint(
            ["channel_code"],
            ["channels.code"],
            ondelete="CASCADE",
            name="fk_history_intervals_channel_code_channels",
        ),
        sa.PrimaryKeyConstraint("channel_code", "interval_start", name="pk_history_intervals"),
    )
    op.create_table(
        "call_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel_code", sa.String(32), nullable=False),
        sa.Column("call_key", sa.String(200), nullable=False),
        sa.Column("arrived_at", sa.DateTime(), nullable=False),
        sa.Column("wait_seconds", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("handle_seconds", sa.Float(), nullable=False),
        sa.CheckConstraint("outcome IN ('answered', 'abandoned')", name="ck_call_records_outcome"),
        sa.ForeignKeyConstraint(
            ["channel_code"],
            ["channels.code"],
            ondelete="CASCADE",
            name="fk_call_records_channel_code_channels",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_call_records"),
        sa.UniqueConstraint("channel_code", "call_key", name="uq_call_records_channel_key"),
    )
    op.create_index("ix_call_records_channel_arrived", "call_records", ["channel_code", "arrived_at"])

    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        channels,
        [
            {
                "code": "999",
                "name": "999 emergency",
                "kind": "voice",
                "priority": 1,
                "target_service_level": 0.9,
                "target_answer_seconds": 10,
                "sl_definition": "offered",
                "max_abandon_rate": None,
                "default_aht_seconds": 300.0,
                "created_at": now,
            },
            {
                "code": "101",
                "name": "101 non-emergency",
                "kind": "voice",
                "priority": 2,
                "target_service_level": 0.8,
                "target_answer_seconds": 60,
                "sl_definition": "offered",
                "max_abandon_rate": None,
                "default_aht_seconds": 360.0,
                "created_at": now,
            },
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_call_records_channel_arrived", table_name="call_records")
    op.drop_table("call_records")
    op.drop_table("history_intervals")
    op.drop_table("channels")
