"""One error shape for every endpoint: RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_LISTED_ERRORS = 1000


class FieldError(BaseModel):
    """One problem with one field; `row` locates the record in a batch (null for request-level problems)."""

    row: int | None = None
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, plus `errors` for validation failures."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    error_count: int | None = None


class ApiError(Exception):
    """Raise to answer with a problem document; the handler below renders it."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        type_: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.headers = headers
        self.status = status
        self.detail = detail
        self.errors = errors
        self.type = type_ or f"https://fcr-planner.dev/problems/{_slug(status)}"
        self.title = title or HTTPStatus(status).phrase


class BatchRejected(ApiError):
    """A batch with bad rows: 422 listing every problem found (capped), nothing written."""

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        errors = sorted(errors, key=lambda e: -1 if e.row is None else e.row)  # stable: batch-level first
        n = len(errors)
        super().__init__(
            422,
            detail or f"batch rejected: {n} problem{'s' if n != 1 else ''} found; nothing was written",
            errors=errors[:MAX_LISTED_ERRORS],
            type_="https://fcr-planner.dev/problems/validation",
            title="Validation failed",
        )
        self.error_count = n


_DESCRIPTIONS = {
    400: "Malformed request body (not parseable)",
    401: "Missing, unknown or revoked API key",
    403: "The key's role may not do this",
    404: "No such resource",
    409: "Conflicts with what exists",
    413: "Body or batch over the documented size limit",
    415: "Unsupported content type",
    422: "Invalid request: every problem listed as {row, field, message}",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem documents for the given status codes."""
    return {c: {"model": Problem, "description": _DESCRIPTIONS.get(c, HTTPStatus(c).phrase)} for c in codes}


def use_problem_media_type(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an OpenAPI document so every 4xx/5xx response is documented as application/problem+json."""
    for path in schema.get("paths", {}).values():
        for op in path.values():
            for code, resp in op.get("responses", {}).items():
                content = resp.get("content", {})
                if code[:1] in ("4", "5") and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return schema


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


def problem_response(
    status: int,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    type_: str | None = None,
    title: str | None = None,
    error_count: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Render a problem document with the right media type."""
    body = Problem(
        type=type_ or f"https://fcr-planner.dev/problems/{_slug(status)}",
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=errors,
        error_count=error_count,
    )
    if errors is not None and body.error_count is None:
        body.error_count = len(errors)
    content = body.model_dump(exclude_none=True)
    if errors is not None:
        content["errors"] = [e.model_dump() for e in errors]  # keep "row": null for request-level problems
    return JSONResponse(content, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _loc_to_row_field(loc: tuple[Any, ...]) -> tuple[int | None, str]:
    """Turn a pydantic error location into (row, field): ('body', 3, 'offered') -> (3, 'offered')."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    row = None
    if parts and isinstance(parts[0], int):
        row = parts.pop(0)
    field = ".".join(str(p) for p in parts) or (str(loc[0]) if loc else "body")
    return row, field


def validation_errors(raw: list[dict[str, Any]], *, row_offset: int = 0) -> list[FieldError]:
    """Convert pydantic's error list into FieldErrors (messages kept, locations flattened)."""
    out: list[FieldError] = []
    for e in raw:
        row, field = _loc_to_row_field(tuple(e.get("loc", ())))
        if row is not None:
            row += row_offset
        out.append(FieldError(row=row, field=field, message=e.get("msg", "invalid")))
    return out


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API documents at this path (Starlette names only the first matching route's)."""
    methods: set[str] = set()
    for template, ops in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in ops}
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, including FastAPI's own 404/405/422 and unexpected ones, a problem document."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            errors=exc.errors,
            type_=exc.type,
            title=exc.title,
            error_count=getattr(exc, "error_count", None),
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(list(exc.errors()))
        return problem_response(
            422,
            f"request rejected: {len(errors)} problem{'s' if len(errors) != 1 else ''} found",
            errors=errors[:MAX_LISTED_ERRORS],
            error_count=len(errors),
            type_="https://fcr-planner.dev/problems/validation",
            title="Validation failed",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(exc.status_code, str(exc.detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        return problem_response(500, "internal error; the request was not applied")


def invalid(field: str, message: str, *, row: int | None = None) -> BatchRejected:
    """A 422 about one field of the request (query, path or body), in the validation shape."""
    return BatchRejected([FieldError(row=row, field=field, message=message)], detail=f"{field}: {message}")
