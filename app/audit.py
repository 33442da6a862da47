"""The audit trail: every write request (POST, PUT, PATCH, DELETE under /v1) is recorded with who and when."""

from __future__ import annotations

from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.models import AuditEntry, utcnow

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Stateless computations that change nothing are not writes.
NOT_WRITES = ("/v1/staffing",)


class AuditMiddleware:
    """Pure ASGI middleware: after a write request completes, append one row to `audit_log`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method") not in WRITE_METHODS
            or not path.startswith("/v1/")
            or path.startswith(NOT_WRITES)
        ):
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            await anyio.to_thread.run_sync(self._record, scope, status["code"])

    @staticmethod
    def _record(scope: Scope, status_code: int) -> None:
        app: Any = scope["app"]
        principal = scope.get("state", {}).get("principal")
        query = scope.get("query_string", b"").decode(errors="replace")
        with app.state.session_factory() as s:
            s.add(
                AuditEntry(
                    at=utcnow(),
                    key_name=getattr(principal, "name", None),
                    role=getattr(principal, "role", None),
                    method=scope["method"],
                    path=scope["path"][:500],
                    status_code=status_code,
                    detail=query or None,
                )
            )
            s.commit()
