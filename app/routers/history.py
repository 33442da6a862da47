"""Interval history and call-level records of a channel: upload (JSON or CSV, all or nothing) and query."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile

from app.auth import require
from app.deps import SessionDep, SettingsDep
from app.errors import invalid, problem_responses
from app.routers.channels import get_channel_or_404
from app.schemas.history import (
    CALLS_EXAMPLE,
    HISTORY_EXAMPLE,
    CallIn,
    CallsIngestResult,
    HistoryPage,
    HistoryRowIn,
    IngestResult,
    IntervalMinutes,
)
from app.services import ingest
from app.services.history import HistoryQuery, decode_cursor, encode_cursor, query_history
from app.services.timegrid import parse_query_time

router = APIRouter(prefix="/v1/channels/{channel}", tags=["history"], responses=problem_responses(400, 401, 403, 422))
TIME_SCHEMA = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}

HISTORY_COLUMNS = set(HistoryRowIn.model_fields)
CALL_COLUMNS = set(CallIn.model_fields)
PROBLEMS = problem_responses(413, 415)


def _csv_example(rows: list[dict[str, Any]]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(cols)] + [",".join("" if r.get(c) is None else str(r[c]) for c in cols) for r in rows]
    return "\n".join(lines) + "\n"


def _body_doc(model: type, example: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI request body: a JSON array of `model`, the same as CSV, or a multipart file."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": model.model_json_schema()},
                    "example": example,
                },
                "text/csv": {"schema": {"type": "string"}, "example": _csv_example(example)},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    }


async def read_upload(request: Request) -> tuple[bytes, str]:
    """The request's payload and its content type (BodyLimitMiddleware has already refused oversized bodies)."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    if ctype.split(";")[0].strip().lower() != "multipart/form-data":
        return body, ctype

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form()
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise invalid("file", "multipart upload needs a 'file' part")
    data = await part.read()
    name = (part.filename or "").lower()
    part_type = part.content_type or ""
    if name.endswith(".csv") or "csv" in part_type:
        return data, "text/csv"
    if name.endswith(".json") or "json" in part_type:
        return data, "application/json"
    # Sniff: a JSON batch starts with '[' or '{'.
    return data, "application/json" if data.lstrip()[:1] in (b"[", b"{") else "text/csv"


@router.post(
    "/history",
    response_model=IngestResult,
    summary="Upload interval history (JSON array or CSV); upsert, all or nothing",
    dependencies=[require("history:write")],
    openapi_extra=_body_doc(HistoryRowIn, HISTORY_EXAMPLE),
    responses=PROBLEMS,
)
async def upload_history(channel: str, request: Request, session: SessionDep, settings: SettingsDep) -> IngestResult:
    """Store intervals keyed on (channel, interval_start): re-sending a batch changes nothing.

    Any bad row rejects the whole batch (422) with every problem as `{row, field, message}`: `row` is the array
    index for JSON and the file's line number for CSV (header = line 1). Times need a UTC offset.
    """
    body, ctype = await read_upload(request)
    batch = ingest.read_batch(body, ctype, max_rows=settings.max_batch_rows, columns=HISTORY_COLUMNS)
    return ingest.ingest_history(session, channel, batch, settings.tz)


@router.post(
    "/calls",
    response_model=CallsIngestResult,
    summary="Upload call-level records; stored and aggregated into the interval history",
    dependencies=[require("history:write")],
    openapi_extra=_body_doc(CallIn, CALLS_EXAMPLE),
    responses=PROBLEMS,
)
async def upload_calls(channel: str, request: Request, session: SessionDep, settings: SettingsDep) -> CallsIngestResult:
    """Store calls (a `call_id`, or else the record itself, identifies each, so re-sending is a no-op) and
    recompute the history of every interval they fall in from all stored calls of that interval."""
    body, ctype = await read_upload(request)
    batch = ingest.read_batch(body, ctype, max_rows=settings.max_batch_rows, columns=CALL_COLUMNS)
    return ingest.ingest_calls(session, channel, batch, settings.tz)


@router.get(
    "/history",
    response_model=HistoryPage,
    summary="Read interval history, optionally re-aggregated to 30 or 60 minutes",
    dependencies=[require("history:read")],
    responses=problem_responses(404),
)
def read_history(
    channel: str,
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[
        str | None,
        Query(
            description="Inclusive; ISO 8601. Without offset: control-room local time.", json_schema_extra=TIME_SCHEMA
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            description="Exclusive; ISO 8601. Without offset: control-room local time.", json_schema_extra=TIME_SCHEMA
        ),
    ] = None,
    interval_minutes: Annotated[IntervalMinutes | None, Query(description="Coarser than stored: summed.")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Intervals per page (default FCR_DEFAULT_PAGE_SIZE).")] = None,
    cursor: Annotated[int | None, Query(ge=0, le=10**11, description="`next_cursor` of the previous page.")] = None,
) -> HistoryPage:
    """Intervals in [start, end), oldest first, with local times and offsets (Europe/London by default)."""
    get_channel_or_404(session, channel)
    tz = settings.tz
    bounds = {}
    for name, value in (("start", start), ("end", end)):
        if value is None:
            bounds[name] = None
            continue
        try:
            bounds[name] = parse_query_time(value, tz)
        except ValueError:
            raise invalid(name, f"not an ISO 8601 date or time: {value!r}") from None
    if bounds["start"] and bounds["end"] and bounds["end"] <= bounds["start"]:
        raise invalid("end", "must be after start")
    page_size = limit or settings.default_page_size
    if page_size > settings.max_page_size:
        raise invalid("limit", f"at most {settings.max_page_size} (FCR_MAX_PAGE_SIZE)")
    after = decode_cursor(cursor) if cursor is not None else None
    stored = ingest.stored_interval_minutes(session, channel)
    if stored is None:
        return HistoryPage(
            channel=channel, timezone=tz.key, interval_minutes=interval_minutes, count=0, next_cursor=None, intervals=[]
        )
    if interval_minutes is not None and (interval_minutes < stored or interval_minutes % stored):
        raise invalid("interval_minutes", f"history is stored at {stored} minutes; ask for a multiple of it")
    q = HistoryQuery(
        channel=channel,
        start=bounds["start"],
        end=bounds["end"],
        interval_minutes=interval_minutes,
        limit=page_size,
        cursor=after,
    )
    intervals, nxt = query_history(session, q, stored, tz)
    return HistoryPage(
        channel=channel,
        timezone=tz.key,
        interval_minutes=interval_minutes or stored,
        count=len(intervals),
        next_cursor=encode_cursor(nxt) if nxt is not None else None,
        intervals=intervals,
    )
