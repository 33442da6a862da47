"""API keys and roles: who may do what. Keys are sent as `Authorization: Bearer <key>` and stored only hashed.

SHA-256 (not a slow password hash) is right here: keys are 256-bit random tokens, so there is nothing to
brute-force, and every request must check one cheaply.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Literal

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import ApiKey, utcnow

Role = Literal["admin", "planner", "integration", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "planner", "integration", "viewer")

# Each permission and the roles holding it (the README's table is generated from the same facts).
PERMISSIONS: dict[str, frozenset[str]] = {
    "channels:read": frozenset(ROLES),
    "channels:write": frozenset({"admin", "planner"}),
    "history:read": frozenset({"admin", "planner"}),
    "history:write": frozenset({"admin", "planner", "integration"}),
    "forecasts:read": frozenset(ROLES),
    "forecasts:write": frozenset({"admin", "planner"}),
    "staffing:read": frozenset({"admin", "planner", "viewer"}),
    "rosters:read": frozenset(ROLES),
    "rosters:write": frozenset({"admin", "planner"}),
    "jobs:read": frozenset({"admin", "planner"}),
    "jobs:write": frozenset({"admin", "planner"}),
    "keys:admin": frozenset({"admin"}),
    "audit:read": frozenset({"admin"}),
}

KEY_PREFIX = "fcr_"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(auto_error=False, description="An API key: `fcr-planner create-key` or POST /v1/keys.")


@dataclass(frozen=True)
class Principal:
    """The caller: the key's name and role."""

    name: str
    role: str


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random key (shown once, never stored)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(session: Session, name: str, role: str) -> tuple[ApiKey, str]:
    """Store a new key for `name` with `role`; returns the row and the key in clear (the only time it exists)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if session.get(ApiKey, name) is not None:
        raise ApiError(409, f"a key named {name!r} exists (or existed); choose another name")
    key = new_key()
    row = ApiKey(name=name, role=role, key_hash=hash_key(key), prefix=key[:8], created_at=utcnow())
    session.add(row)
    session.commit()
    return row, key


def revoke_key(session: Session, name: str) -> ApiKey:
    """Revoke the key `name` (it stays listed, marked revoked); 404 if there is none."""
    row = session.get(ApiKey, name)
    if row is None:
        raise ApiError(404, f"no key named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def active_key_count(session: Session) -> int:
    """How many unrevoked keys exist."""
    return len(list(session.scalars(select(ApiKey.name).where(ApiKey.revoked_at.is_(None)))))


def authenticate(session: Session, key: str | None) -> Principal:
    """The principal of a presented key, or 401."""
    if not key:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", headers=_CHALLENGE)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        raise ApiError(401, "invalid or revoked API key", headers=_CHALLENGE)
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        session.execute(update(ApiKey).where(ApiKey.name == row.name).values(last_used_at=now))
        session.commit()
    return Principal(name=row.name, role=row.role)


class KeyCache:
    """Recently verified keys (hash -> principal) for `ttl` seconds, so a busy client does not cost a database
    read per request. Revoking through this process clears it at once; other processes notice within `ttl`."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Principal | None:
        with self._lock:
            hit = self._items.get(key_hash)
        return hit[1] if hit and time.monotonic() - hit[0] < self.ttl else None

    def put(self, key_hash: str, principal: Principal) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key_hash] = (time.monotonic(), principal)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _verify(request: Request, key: str | None) -> Principal:
    """Authenticate against the cache, else the database (and remember a success)."""
    if not key:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", headers=_CHALLENGE)
    cache: KeyCache = request.app.state.key_cache
    digest = hash_key(key)
    principal = cache.get(digest)
    if principal is None:
        with request.app.state.session_factory() as session:
            principal = authenticate(session, key)
        cache.put(digest, principal)
    return principal


def require(permission: str) -> object:
    """A dependency admitting callers whose role holds `permission` (401 without a valid key, 403 without it)."""
    allowed = PERMISSIONS[permission]

    async def dependency(
        request: Request,
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        key = creds.credentials if creds else None
        cache: KeyCache = request.app.state.key_cache
        if key and (hit := cache.get(hash_key(key))) is not None:
            principal = hit
        else:  # a database read: off the event loop
            principal = await anyio.to_thread.run_sync(_verify, request, key)
        request.state.principal = principal
        if principal.role not in allowed:
            raise ApiError(403, f"role {principal.role!r} may not {permission.replace(':', ' ')}")
        return principal

    return Depends(dependency)
