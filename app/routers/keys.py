"""API keys (admins only) and the audit log of writes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select

from app.auth import Principal, create_key, require, revoke_key
from app.deps import SessionDep
from app.errors import ApiError, problem_responses
from app.models import ApiKey, AuditEntry
from app.schemas.keys import KEY_NAME_PATTERN, AuditPage, KeyCreate, KeyCreated, KeyOut, KeyPage

router = APIRouter(tags=["access"], responses=problem_responses(400, 401, 403, 422))
ADMIN = [require("keys:admin")]


@router.post(
    "/v1/keys",
    response_model=KeyCreated,
    status_code=status.HTTP_201_CREATED,
    dependencies=ADMIN,
    responses=problem_responses(409),
    summary="Create an API key (shown once)",
)
def post_key(body: KeyCreate, session: SessionDep) -> dict[str, Any]:
    """Create a key with a role; the response is the only place the key appears."""
    row, key = create_key(session, body.name, body.role)
    return {**KeyOut.model_validate(row).model_dump(), "key": key}


@router.get("/v1/keys", response_model=KeyPage, dependencies=ADMIN, summary="List API keys (never the keys)")
def get_keys(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(pattern=KEY_NAME_PATTERN, description="`next_cursor` of the last page")] = None,
) -> dict[str, Any]:
    """Names, roles and dates of every key, revoked ones included, in name order; page with `cursor`."""
    stmt = select(ApiKey)
    if cursor is not None:
        stmt = stmt.where(ApiKey.name > cursor)
    rows = list(session.scalars(stmt.order_by(ApiKey.name).limit(limit + 1)))
    nxt = rows[limit - 1].name if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": nxt}


@router.delete(
    "/v1/keys/{name}",
    response_model=KeyOut,
    responses=problem_responses(404, 409),
    summary="Revoke an API key",
)
def delete_key(
    name: str, request: Request, session: SessionDep, who: Annotated[Principal, require("keys:admin")]
) -> ApiKey:
    """Revoke at once: the next request with that key gets 401. A key cannot revoke itself (409), so an admin
    cannot lock the last door behind them: create the new admin key first, then revoke the old one with it."""
    if who.name == name:
        raise ApiError(409, "a key cannot revoke itself; revoke it with another admin key")
    row = revoke_key(session, name)
    request.app.state.key_cache.clear()
    return row


@router.get(
    "/v1/audit",
    response_model=AuditPage,
    dependencies=[require("audit:read")],
    summary="The audit log of writes, newest first",
)
def get_audit(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int | None, Query(ge=1)] = None,
    key_name: str | None = None,
) -> dict[str, Any]:
    """Who wrote what and when; page with `cursor`."""
    stmt = select(AuditEntry)
    if key_name:
        stmt = stmt.where(AuditEntry.key_name == key_name)
    if cursor is not None:
        stmt = stmt.where(AuditEntry.id < cursor)
    rows = list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    nxt = rows[limit - 1].id if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": nxt}
