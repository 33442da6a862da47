"""fcr-planner web service: a thin HTTP layer over the forecasting and scheduling libraries."""

__version__ = "0.1.0"
