"""Forecasting library (volume, handle time, abandonment, backtesting); plain Python, never imports `app`."""
