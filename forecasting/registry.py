"""The model registry: names, descriptions and minimum histories, and `make_model(name)`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from forecasting.auto import AutoModel
from forecasting.errors import UnknownModelError
from forecasting.models import ARIMA, ETS, CountModel, MSTLModel, Profile, SeasonalNaive
from forecasting.prophet_model import ProphetDefault, ProphetModel

MODELS: dict[str, type[CountModel]] = {
    c.name: c for c in (SeasonalNaive, Profile, ETS, ARIMA, MSTLModel, ProphetModel, ProphetDefault, AutoModel)
}


def model_names() -> list[str]:
    """Names accepted by `forecast(model=...)` and `backtest(models=...)`."""
    return list(MODELS)


def make_model(name: str, **params: Any) -> CountModel:
    """An unfitted model by registry name (raises `UnknownModelError` for an unknown one)."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise UnknownModelError(name, model_names()) from None
    return cls(**params)


def min_history(name: str, interval_minutes: int = 15) -> timedelta:
    """How much observed history model `name` needs (`auto` needs the least of its candidates)."""
    try:
        return MODELS[name].required_history(interval_minutes)
    except KeyError:
        raise UnknownModelError(name, model_names()) from None


def model_catalog(interval_minutes: int = 15) -> list[dict[str, Any]]:
    """One dict per model: name, description, minimum history (seconds and days) - for a GET /v1/models."""
    out = []
    for name, cls in MODELS.items():
        need = cls.required_history(interval_minutes)
        out.append({"name": name, "description": cls.description, "min_history_seconds": int(need.total_seconds()),
                    "min_history_days": need.total_seconds() / 86400.0})
    return out
