"""Interval grid arithmetic in the control room's local time, daylight saving included."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_SPACE_OFFSET = re.compile(r"(.+T[0-9:.]+) ([0-9]{2}:?[0-9]{2})")


def floor_local(ts: datetime, minutes: int, tz: ZoneInfo) -> datetime:
    """Start of the `minutes`-long local interval holding `ts`, as an aware datetime in `tz`.

    Flooring is done on local wall-clock minutes, keeping the fold, so the repeated 01:00 hour of an October
    day floors to two distinct intervals and a 60-minute interval always starts on a local hour.
    """
    local = ts.astimezone(tz)
    return local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)


def is_aligned(ts: datetime, minutes: int, tz: ZoneInfo) -> bool:
    """True if `ts` starts a `minutes`-long interval in local time."""
    local = ts.astimezone(tz)
    return local.second == 0 and local.microsecond == 0 and local.minute % minutes == 0


def to_local(ts: datetime, tz: ZoneInfo) -> datetime:
    """An aware UTC instant shown in local time with its offset."""
    return ts.astimezone(tz)


def parse_query_time(value: str, tz: ZoneInfo) -> datetime:
    """Parse a query-string time: ISO 8601 with offset, naive (read as local time), or a date (local midnight).

    An unescaped '+' in a query string arrives as a space, so '...T00:00:00 01:00' is read as '+01:00'.
    """
    s = value.strip()
    m = _SPACE_OFFSET.fullmatch(s)
    if m:
        s = f"{m[1]}+{m[2]}"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)
