"""Typed errors of the forecasting library, so a caller (the HTTP API) can map each to a 4xx answer."""

from __future__ import annotations

from datetime import timedelta


class ForecastError(Exception):
    """Base class of every error this library raises on purpose (bad input, not a bug)."""


class InvalidHistoryError(ForecastError, ValueError):
    """The history cannot be used as given (naive times, off-grid instants, duplicates, negative counts...)."""


class InvalidRequestError(ForecastError, ValueError):
    """A forecast or backtest request is malformed (unknown model, empty or misaligned period, bad level...)."""


class UnknownModelError(InvalidRequestError, KeyError):
    """The model name is not in the registry; `known` lists the valid names."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown model {name!r}; known models: {', '.join(known)}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


def _human(td: timedelta) -> str:
    """'3 weeks', '10 days 6 hours': a duration as a planner would read it."""
    minutes = int(td.total_seconds() // 60)
    days, rem = divmod(minutes, 1440)
    hours, mins = divmod(rem, 60)
    parts = []
    if days and days % 7 == 0 and not rem:
        return f"{days // 7} week{'s' if days // 7 != 1 else ''}"
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if mins or not parts:
        parts.append(f"{mins} minute{'s' if mins != 1 else ''}")
    return " ".join(parts)


class InsufficientHistoryError(ForecastError, ValueError):
    """A model needs more history than was given; carries `model`, `needed` and `given` (timedeltas)."""

    def __init__(self, model: str, needed: timedelta, given: timedelta, detail: str = "") -> None:
        self.model = model
        self.needed = needed
        self.given = given
        msg = f"model {model!r} needs at least {_human(needed)} of history, got {_human(given)}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)
