"""Batch ingestion of interval history and call records: parse, validate every row, then write all or nothing.

Rows are numbered for error reports as integrators and planners see them: for JSON the array index (from 0),
for CSV the line number in the file (the header is line 1, the first data row line 2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.errors import ApiError, BatchRejected, FieldError, validation_errors
from app.models import CallRecord, Channel, HistoryInterval, utcnow
from app.schemas.history import CallIn, CallsIngestResult, HistoryRowIn, IngestResult
from app.services.timegrid import floor_local, is_aligned

M = TypeVar("M", bound=BaseModel)

HISTORY_VALUE_FIELDS = (
    "interval_minutes",
    "offered",
    "answered",
    "abandoned",
    "answered_within_threshold",
    "threshold_seconds",
    "aht_seconds",
    "agents_staffed",
)
DEFAULT_CALL_INTERVAL_MINUTES = 15
_SQL_CHUNK = 900


@dataclass
class RawBatch:
    """Records read from a request body, with the number each is reported under."""

    records: list[dict[str, Any]]
    row_numbers: list[int]
    fmt: str  # "json" or "csv"


def read_batch(body: bytes, content_type: str, *, max_rows: int, columns: set[str]) -> RawBatch:
    """Decode a JSON array or a CSV document (header row naming `columns`) into records."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in ("text/csv", "application/csv", "text/plain"):
        return _read_csv(body, max_rows=max_rows, columns=columns)
    if ctype in ("application/json", ""):
        return _read_json(body, max_rows=max_rows)
    raise ApiError(
        415,
        f"unsupported content type {ctype!r}: send application/json (an array of rows), text/csv, "
        "or multipart/form-data with a 'file' part",
    )


def _read_json(body: bytes, *, max_rows: int) -> RawBatch:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BatchRejected([FieldError(field="body", message=f"invalid JSON: {exc}")]) from exc
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list):
        raise BatchRejected([FieldError(field="body", message="expected a JSON array of rows")])
    _check_rows(len(data), max_rows)
    bad = [
        FieldError(row=i, field="row", message="expected an object")
        for i, r in enumerate(data)
        if not isinstance(r, dict)
    ]
    if bad:
        raise BatchRejected(bad)
    return RawBatch(records=data, row_numbers=list(range(len(data))), fmt="json")


def _read_csv(body: bytes, *, max_rows: int, columns: set[str]) -> RawBatch:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BatchRejected([FieldError(field="body", message=f"CSV is not UTF-8: {exc}")]) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise BatchRejected([FieldError(row=1, field="header", message="empty CSV: a header row is required")])
    reader.fieldnames = header
    errors = [
        FieldError(row=1, field=h or "(blank)", message=f"unknown column; expected some of {sorted(columns)}")
        for h in header
        if h not in columns
    ]
    errors += [FieldError(row=1, field=h, message="column appears twice") for h, n in Counter(header).items() if n > 1]
    if errors:
        raise BatchRejected(errors)
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    try:
        for rec in reader:
            if None in rec:
                raise BatchRejected(
                    [FieldError(row=reader.line_num, field="row", message="more values than header columns")]
                )
            if all(v is None or v.strip() == "" for v in rec.values()):
                continue  # blank line
            records.append({k: (v.strip() if v is not None and v.strip() != "" else None) for k, v in rec.items()})
            numbers.append(reader.line_num)
            if len(records) > max_rows:
                _check_rows(len(records), max_rows)
    except csv.Error as exc:
        raise BatchRejected([FieldError(row=reader.line_num, field="body", message=f"bad CSV: {exc}")]) from exc
    return RawBatch(records=records, row_numbers=numbers, fmt="csv")


def _check_rows(n: int, max_rows: int) -> None:
    if n > max_rows:
        raise ApiError(413, f"batch has more than {max_rows} rows (the limit, FCR_MAX_BATCH_ROWS); split it")


def validate_records(batch: RawBatch, model: type[M]) -> tuple[list[M], list[int], list[FieldError]]:
    """Validate every record against `model`: the valid ones with their row numbers, and every error.

    The whole list is validated in one call (fast); only if that fails is it redone row by row, so the rows
    that are valid can still go through the batch-level checks and every problem is reported at once.
    """
    if not batch.records:
        return [], [], [FieldError(field="body", message="the batch is empty")]
    try:
        return TypeAdapter(list[model]).validate_python(batch.records), batch.row_numbers, []  # type: ignore[valid-type]
    except ValidationError:
        pass
    valid: list[M] = []
    numbers: list[int] = []
    errors: list[FieldError] = []
    for rec, n in zip(batch.records, batch.row_numbers, strict=True):
        try:
            valid.append(model.model_validate(rec))
            numbers.append(n)
        except ValidationError as exc:
            errors += [
                FieldError(row=n, field=e.field, message=e.message) for e in validation_errors(list(exc.errors()))
            ]
    return valid, numbers, errors


def get_channel_for_write(session: Session, code: str) -> Channel:
    """The channel a batch is written to; an unknown one rejects the batch (422, field `channel`)."""
    channel = session.get(Channel, code)
    if channel is None:
        known = ", ".join(session.scalars(select(Channel.code).order_by(Channel.priority, Channel.code)))
        raise BatchRejected([FieldError(field="channel", message=f"unknown channel {code!r}; known: {known}")])
    return channel


def stored_interval_minutes(session: Session, code: str) -> int | None:
    """The interval length a channel's history is stored at, or None if it has none yet."""
    return session.scalar(select(HistoryInterval.interval_minutes).where(HistoryInterval.channel_code == code).limit(1))


def _check_channel_column(rows: list[Any], numbers: list[int], code: str) -> list[FieldError]:
    return [
        FieldError(row=n, field="channel", message=f"row is for channel {r.channel!r}, batch is for {code!r}")
        for r, n in zip(rows, numbers, strict=True)
        if r.channel is not None and r.channel != code
    ]


def ingest_history(
    session: Session, code: str, batch: RawBatch, tz: ZoneInfo, *, source: str = "upload"
) -> IngestResult:
    """Validate a history batch and upsert it on (channel, interval_start) in one transaction."""
    channel = get_channel_for_write(session, code)
    rows, numbers, errors = validate_records(batch, HistoryRowIn)
    if not rows:
        raise BatchRejected(errors)
    errors += _check_channel_column(rows, numbers, code)

    minutes = rows[0].interval_minutes
    seen: dict[datetime, int] = {}
    for r, n in zip(rows, numbers, strict=True):
        if r.interval_minutes != minutes:
            errors.append(
                FieldError(
                    row=n,
                    field="interval_minutes",
                    message=f"batch mixes interval lengths: {r.interval_minutes} here, {minutes} in row {numbers[0]}",
                )
            )
        if not is_aligned(r.interval_start, r.interval_minutes, tz):
            errors.append(
                FieldError(
                    row=n,
                    field="interval_start",
                    message=f"{r.interval_start.isoformat()} is not on the {r.interval_minutes}-"
                    f"minute grid of {tz.key} local time",
                )
            )
        key = r.interval_start.astimezone(UTC)
        if key in seen:
            errors.append(
                FieldError(
                    row=n,
                    field="interval_start",
                    message=f"duplicate interval {key.isoformat()} (also row {seen[key]})",
                )
            )
        else:
            seen[key] = n
        if r.answered_within_threshold is not None and r.threshold_seconds is None:
            errors.append(
                FieldError(row=n, field="threshold_seconds", message="required with answered_within_threshold")
            )
    stored = stored_interval_minutes(session, code)
    if stored is not None and stored != minutes:
        errors.append(
            FieldError(
                field="interval_minutes",
                message=f"channel {code!r} stores {stored}-minute history; this batch is "
                f"{minutes}-minute (re-aggregate it before sending)",
            )
        )
    if errors:
        raise BatchRejected(errors)

    values = [
        {
            "channel_code": channel.code,
            "interval_start": r.interval_start.astimezone(UTC),
            **{f: getattr(r, f) for f in HISTORY_VALUE_FIELDS},
        }
        for r in rows
    ]
    inserted, updated, unchanged = _upsert_history(session, channel.code, values, source=source)
    session.commit()
    starts = [v["interval_start"] for v in values]
    return IngestResult(
        channel=code,
        rows=len(values),
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        interval_minutes=minutes,
        first_interval=min(starts).astimezone(tz),
        last_interval=max(starts).astimezone(tz),
    )


def _upsert_history(session: Session, code: str, values: list[dict[str, Any]], *, source: str) -> tuple[int, int, int]:
    """Insert new intervals, update changed ones, skip identical ones; returns (inserted, updated, unchanged)."""
    starts = [v["interval_start"] for v in values]
    cols = [getattr(HistoryInterval, f) for f in HISTORY_VALUE_FIELDS]
    existing = {
        row[0]: tuple(row[1:])
        for row in session.execute(
            select(HistoryInterval.interval_start, *cols).where(
                HistoryInterval.channel_code == code,
                HistoryInterval.interval_start >= min(starts),
                HistoryInterval.interval_start <= max(starts),
            )
        )
    }
    now = utcnow()
    to_write: list[dict[str, Any]] = []
    inserted = updated = 0
    for v in values:
        old = existing.get(v["interval_start"])
        new = tuple(v[f] for f in HISTORY_VALUE_FIELDS)
        if old is None:
            inserted += 1
        elif old == new:
            continue
        else:
            updated += 1
        to_write.append({**v, "source": source, "updated_at": now})
    if to_write:
        upsert(
            session,
            HistoryInterval.__table__,
            to_write,
            ["channel_code", "interval_start"],
            [*HISTORY_VALUE_FIELDS, "source", "updated_at"],
        )
    return inserted, updated, len(values) - inserted - updated


def upsert(
    session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str], update: list[str] | None
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE (or DO NOTHING if `update` is None), on SQLite or PostgreSQL."""
    dialect = session.get_bind().dialect.name
    ins_mod: Any = postgresql if dialect == "postgresql" else sqlite
    if dialect not in ("postgresql", "sqlite"):
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    stmt = ins_mod.insert(table)
    if update is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    else:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update})
    session.execute(stmt, rows)


def _call_key(call: CallIn, occurrence: int) -> str:
    """The stored identity of a call: the source's id if it has one, else a hash of the record itself."""
    if call.call_id is not None:
        return f"id:{call.call_id}"
    raw = f"{call.arrived_at.timestamp():.3f}|{call.wait_seconds:g}|{call.outcome}|{call.handle_seconds:g}|{occurrence}"
    return "h:" + hashlib.sha1(raw.encode()).hexdigest()


def ingest_calls(session: Session, code: str, batch: RawBatch, tz: ZoneInfo) -> CallsIngestResult:
    """Store call records (idempotently) and re-aggregate the history intervals they fall in."""
    channel = get_channel_for_write(session, code)
    calls, numbers, errors = validate_records(batch, CallIn)
    if not calls:
        raise BatchRejected(errors)
    errors += _check_channel_column(calls, numbers, code)
    seen_ids: dict[str, int] = {}
    occurrences: Counter[tuple[Any, ...]] = Counter()
    keys: list[str] = []
    for c, n in zip(calls, numbers, strict=True):
        if c.call_id is not None:
            if c.call_id in seen_ids:
                errors.append(
                    FieldError(
                        row=n,
                        field="call_id",
                        message=f"duplicate call_id {c.call_id!r} (also row {seen_ids[c.call_id]})",
                    )
                )
            seen_ids.setdefault(c.call_id, n)
            keys.append(_call_key(c, 0))
        else:
            ident = (c.arrived_at, c.wait_seconds, c.outcome, c.handle_seconds)
            keys.append(_call_key(c, occurrences[ident]))
            occurrences[ident] += 1
    if errors:
        raise BatchRejected(errors)

    minutes = stored_interval_minutes(session, code) or DEFAULT_CALL_INTERVAL_MINUTES
    before = session.scalar(select(func.count()).select_from(CallRecord).where(CallRecord.channel_code == code))
    rows = [
        {
            "channel_code": code,
            "call_key": k,
            "arrived_at": c.arrived_at.astimezone(UTC),
            "wait_seconds": c.wait_seconds,
            "outcome": c.outcome,
            "handle_seconds": c.handle_seconds,
        }
        for c, k in zip(calls, keys, strict=True)
    ]
    upsert(session, CallRecord.__table__, rows, ["channel_code", "call_key"], None)
    after = session.scalar(select(func.count()).select_from(CallRecord).where(CallRecord.channel_code == code))
    inserted = int(after or 0) - int(before or 0)

    # Grid keys in UTC: aware datetimes in a repeated (October) hour never compare equal across zones.
    affected = sorted({floor_local(c.arrived_at, minutes, tz).astimezone(UTC) for c in calls})
    n_updated = _reaggregate_calls(session, channel, affected, minutes)
    session.commit()
    return CallsIngestResult(
        channel=code,
        rows=len(calls),
        inserted=inserted,
        unchanged=len(calls) - inserted,
        intervals_updated=n_updated,
        interval_minutes=minutes,
    )


def _reaggregate_calls(session: Session, channel: Channel, starts: list[datetime], minutes: int) -> int:
    """Recompute the history rows of `starts` from every stored call in them (call data is authoritative)."""
    step = timedelta(minutes=minutes)
    wanted = set(starts)
    agg: dict[datetime, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    threshold = channel.target_answer_seconds
    # Query contiguous runs so a batch spread over months does not read every call in between.
    for lo, hi in _runs(starts, step):
        result = session.execute(
            select(CallRecord.arrived_at, CallRecord.wait_seconds, CallRecord.outcome, CallRecord.handle_seconds).where(
                CallRecord.channel_code == channel.code, CallRecord.arrived_at >= lo, CallRecord.arrived_at < hi
            )
        )
        for arrived, wait, outcome, handle in result:
            start = arrived - (arrived - lo) % step
            a = agg[start]
            a["offered"] += 1
            if outcome == "answered":
                a["answered"] += 1
                a["handle"] += handle
                a["within"] += wait <= threshold
            else:
                a["abandoned"] += 1
    now = utcnow()
    values = []
    for start in sorted(wanted):
        a = agg.get(start, {})
        answered = int(a.get("answered", 0))
        values.append(
            {
                "channel_code": channel.code,
                "interval_start": start,
                "interval_minutes": minutes,
                "offered": int(a.get("offered", 0)),
                "answered": answered,
                "abandoned": int(a.get("abandoned", 0)),
                "answered_within_threshold": int(a.get("within", 0)),
                "threshold_seconds": threshold,
                "aht_seconds": (a["handle"] / answered) if answered and a.get("handle", 0) > 0 else None,
                "agents_staffed": None,
                "source": "calls",
                "updated_at": now,
            }
        )
    for i in range(0, len(values), _SQL_CHUNK):
        upsert(
            session,
            HistoryInterval.__table__,
            values[i : i + _SQL_CHUNK],
            ["channel_code", "interval_start"],
            [*HISTORY_VALUE_FIELDS, "source", "updated_at"],
        )
    return len(values)


def _runs(starts: list[datetime], step: timedelta) -> list[tuple[datetime, datetime]]:
    """Group sorted interval starts into [lo, hi) runs of consecutive intervals."""
    runs: list[tuple[datetime, datetime]] = []
    for s in starts:
        if runs and s == runs[-1][1]:
            runs[-1] = (runs[-1][0], s + step)
        else:
            runs.append((s, s + step))
    return runs
