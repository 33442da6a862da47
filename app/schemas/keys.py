"""Schemas for API keys and the audit log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth import Role

KEY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"

class KeyCreate(BaseModel):
    """A new key: a unique name (who or what uses it) and a role."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "rota-tool", "role": "integration"}]}
    )

    name: str = Field(pattern=KEY_NAME_PATTERN)
    role: Role


class KeyOut(BaseModel):
    """A key as listed: never the key itself, only the first characters to recognise it."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    """The answer to creating a key: the only time `key` is shown."""

    key: str


class AuditOut(BaseModel):
    """One recorded write."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    key_name: str | None
    role: str | None
    method: str
    path: str
    status_code: int
    detail: str | None


class KeyPage(BaseModel):
    """A page of keys in name order; pass `next_cursor` back as `cursor` (null on the last page)."""

    items: list[KeyOut]
    next_cursor: str | None


class AuditPage(BaseModel):
    """A page of the audit log, newest first."""

    items: list[AuditOut]
    next_cursor: int | None
