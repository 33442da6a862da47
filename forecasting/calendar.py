"""Special days: public holidays (the `holidays` package; England and Wales by default), built-in events such as
New Year's Eve and Bonfire Night, and user-given events, each a local date with a name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import holidays as holidays_lib

from forecasting.errors import InvalidRequestError

HOLIDAY = "holiday"
EVENT = "event"


@dataclass(frozen=True)
class Event:
    """A special day: a local `date` and a `name` (e.g. "Notting Hill Carnival").

    Days with a name that occurred in the history get an effect learned from those occurrences; `factor`, if
    given, is a known multiplier of that day's volume (1.2 = 20% more calls) applied on top.
    """

    date: date
    name: str
    factor: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.date, date):
            raise TypeError(f"Event.date must be a datetime.date, got {type(self.date).__name__}")
        if not self.name or not str(self.name).strip():
            raise ValueError("Event.name must be a non-empty string")
        if self.factor is not None and not (self.factor > 0):
            raise ValueError("Event.factor must be positive")


@cache
def _public_holidays(country: str, subdiv: str | None, year: int) -> tuple[tuple[date, str], ...]:
    hol = holidays_lib.country_holidays(country, subdiv=subdiv, years=[year])
    return tuple(sorted((d, n) for d, names in hol.items() for n in str(names).split("; ")))


@dataclass(frozen=True)
class SpecialDays:
    """The calendar of named days a forecast knows about; `names(day)` lists them for one local date.

    country/subdiv select public holidays from the `holidays` package (default GB/ENG: the bank holidays of
    England and Wales, which are identical); `builtin` adds New Year's Eve (31 Dec) and, for GB, Bonfire Night
    (5 Nov); `events` are user-given.
    """

    country: str | None = "GB"
    subdiv: str | None = "ENG"
    builtin: bool = True
    events: tuple[Event, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))
        if self.country is not None:
            try:
                _public_holidays(self.country, self.subdiv, 2020)
            except (NotImplementedError, KeyError, ValueError, AttributeError) as exc:
                raise InvalidRequestError(f"unknown holiday calendar {self.country}/{self.subdiv}: {exc}") from exc

    def entries(self, first: date, last: date) -> list[tuple[date, str, str]]:
        """(date, name, kind) for every special day in [first, last]; kind is 'holiday' or 'event'."""
        out: list[tuple[date, str, str]] = []
        for year in range(first.year, last.year + 1):
            if self.country is not None:
                out += [(d, n, HOLIDAY) for d, n in _public_holidays(self.country, self.subdiv, year)]
            if self.builtin:
                out.append((date(year, 12, 31), "New Year's Eve", EVENT))
                if self.country == "GB":
                    out.append((date(year, 11, 5), "Bonfire Night", EVENT))
        out += [(e.date, e.name, EVENT) for e in self.events]
        seen: set[tuple[date, str]] = set()
        uniq = []
        for d, n, k in sorted(out):
            if first <= d <= last and (d, n) not in seen:
                seen.add((d, n))
                uniq.append((d, n, k))
        return uniq

    def by_date(self, first: date, last: date) -> dict[date, list[str]]:
        """Names per date in [first, last] (only dates that have any)."""
        out: dict[date, list[str]] = {}
        for d, n, _ in self.entries(first, last):
            out.setdefault(d, []).append(n)
        return out

    def kinds(self, first: date, last: date) -> dict[str, str]:
        """Kind ('holiday' or 'event') of every name occurring in [first, last]."""
        return {n: k for _, n, k in self.entries(first, last)}

    def factors(self) -> dict[tuple[date, str], float]:
        """User-given multipliers, keyed by (date, name)."""
        return {(e.date, e.name): e.factor for e in self.events if e.factor is not None}

    def with_events(self, events: Iterable[Event]) -> SpecialDays:
        """A copy with more user events."""
        return SpecialDays(self.country, self.subdiv, self.builtin, (*self.events, *events))


def make_calendar(
    events: Sequence[Event] = (), country: str | None = "GB", subdiv: str | None = "ENG", builtin: bool = True
) -> SpecialDays:
    """Build the special-day calendar (UK bank holidays of England and Wales by default) plus user events."""
    return SpecialDays(country=country, subdiv=subdiv, builtin=builtin, events=tuple(events))
