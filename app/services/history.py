"""Reading interval history back, at the stored interval or re-aggregated to a coarser one (15 -> 30 -> 60)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import HistoryInterval
from app.schemas.history import HistoryIntervalOut
from app.services.timegrid import floor_local


@dataclass
class HistoryQuery:
    """A history request: [start, end) in UTC, the wanted interval (None = as stored), paging."""

    channel: str
    start: datetime | None
    end: datetime | None
    interval_minutes: int | None
    limit: int
    cursor: datetime | None


def encode_cursor(ts: datetime) -> int:
    """The cursor of a page: the next interval start as Unix seconds (any integer is a valid cursor)."""
    return int(ts.astimezone(UTC).timestamp())


def decode_cursor(value: int) -> datetime:
    """Inverse of encode_cursor."""
    return datetime.fromtimestamp(value, UTC)


def query_history(
    session: Session, q: HistoryQuery, stored_minutes: int, tz: ZoneInfo
) -> tuple[list[HistoryIntervalOut], datetime | None]:
    """One page of history and the start of the next page (None if this is the last)."""
    target = q.interval_minutes or stored_minutes
    ratio = target // stored_minutes
    stmt = select(HistoryInterval).where(HistoryInterval.channel_code == q.channel)
    lower = max((t for t in (q.start, q.cursor) if t is not None), default=None)
    if lower is not None:
        stmt = stmt.where(HistoryInterval.interval_start >= lower)
    if q.end is not None:
        stmt = stmt.where(HistoryInterval.interval_start < q.end)
    # One extra coarse interval's worth tells whether another page follows.
    fetch = (q.limit + 1) * ratio
    rows = list(session.scalars(stmt.order_by(HistoryInterval.interval_start).limit(fetch)))
    out = [_one(r, tz) for r in rows] if ratio == 1 else _aggregate(rows, target, tz)
    if ratio > 1 and len(rows) == fetch:
        # The fetch limit may have cut the last coarse interval: drop it here; it starts the next page.
        cut = out.pop()
        if len(out) <= q.limit:
            return out, cut.interval_start
    if len(out) > q.limit:
        return out[: q.limit], out[q.limit].interval_start
    return out, None


def _one(r: HistoryInterval, tz: ZoneInfo) -> HistoryIntervalOut:
    return HistoryIntervalOut(
        interval_start=r.interval_start.astimezone(tz),
        interval_minutes=r.interval_minutes,
        offered=r.offered,
        answered=r.answered,
        abandoned=r.abandoned,
        answered_within_threshold=r.answered_within_threshold,
        threshold_seconds=r.threshold_seconds,
        aht_seconds=r.aht_seconds,
        agents_staffed=r.agents_staffed,
        source_intervals=1,
    )


def _sum_or_none(values: list[int | None]) -> int | None:
    """Sum of counts, or None if any part is unknown (a partial sum would understate)."""
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _aggregate(rows: list[HistoryInterval], target: int, tz: ZoneInfo) -> list[HistoryIntervalOut]:
    """Sum consecutive stored intervals into local-time-aligned coarser intervals."""
    groups: dict[datetime, list[HistoryInterval]] = {}
    for r in rows:
        # Keys in UTC: aware datetimes in the repeated October hour never compare equal across zones.
        groups.setdefault(floor_local(r.interval_start, target, tz).astimezone(UTC), []).append(r)
    out = []
    for start, part in groups.items():
        thresholds = {p.threshold_seconds for p in part if p.answered_within_threshold is not None}
        within = _sum_or_none([p.answered_within_threshold for p in part]) if len(thresholds) <= 1 else None
        out.append(
            HistoryIntervalOut(
                interval_start=start.astimezone(tz),
                interval_minutes=target,
                offered=sum(p.offered for p in part),
                answered=_sum_or_none([p.answered for p in part]),
                abandoned=_sum_or_none([p.abandoned for p in part]),
                answered_within_threshold=within,
                threshold_seconds=next(iter(thresholds)) if within is not None and thresholds else None,
                aht_seconds=_weighted_aht(part),
                agents_staffed=_mean_staffed(part),
                source_intervals=len(part),
            )
        )
    return out


def _weighted_aht(part: list[HistoryInterval]) -> float | None:
    """AHT of the whole interval: each part's AHT weighted by its answered calls (offered if unknown)."""
    num = den = 0.0
    for p in part:
        w = p.answered if p.answered is not None else p.offered
        if w == 0:
            continue
        if p.aht_seconds is None:
            return None
        num += p.aht_seconds * w
        den += w
    return num / den if den else None


def _mean_staffed(part: list[HistoryInterval]) -> float | None:
    """Mean PCROs on the phones over the interval (a time average: parts are equally long)."""
    vals = [p.agents_staffed for p in part]
    if any(v is None for v in vals):
        return None
    return sum(v for v in vals if v is not None) / len(vals)
