"""Mean caller patience from call records, for Erlang A, with a check that patience looks exponential.

Answered calls' waits are right-censored patience times (the caller would have waited at least that long);
abandoned calls' waits are observed patience times. Under exponential patience the maximum-likelihood
abandonment rate is abandonments / total time waited by all callers (Mandelbaum & Zeltyn 2013, "Data-stories
about (im)patient customers in tele-queues"), so mean patience = total wait / abandonments.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Largest Kaplan-Meier vs exponential distance still called a usable fit (see docs/staffing.md).
KS_FIT_LIMIT = 0.05
#: The Kaplan-Meier comparison stops where fewer callers than this (or 1% of them) are still waiting.
MIN_AT_RISK = 30


@dataclass(frozen=True)
class PatienceEstimate:
    """Mean patience (seconds) with a confidence interval and exponential goodness-of-fit figures.

    ``finite`` is False when there were no abandonments: the MLE is then infinite, ``mean_patience_seconds``
    is inf and ``ci_low`` is a one-sided lower confidence bound. ``ks_distance`` is the largest gap between the
    Kaplan-Meier survival curve of patience and the fitted exponential (where >= max(30, 1% of calls) are
    still at risk);
    ``chi2_p_value`` tests observed against expected abandonments in wait bins (NaN if too few abandonments);
    ``fit_ok`` is ks_distance <= KS_FIT_LIMIT.
    """

    mean_patience_seconds: float
    n_calls: int
    n_abandoned: int
    total_wait_seconds: float
    ci_low: float
    ci_high: float
    finite: bool
    ks_distance: float
    chi2_p_value: float
    fit_ok: bool


def _abandoned_mask(outcome: np.ndarray) -> np.ndarray:
    arr = np.asarray(outcome)
    if arr.dtype == bool:
        return arr
    values = set(np.unique(arr).tolist())
    if not values <= {"answered", "abandoned"}:
        raise ValueError(f"outcome must be 'answered' or 'abandoned' (or a boolean mask), got {sorted(values)}")
    return arr == "abandoned"


def kaplan_meier(wait_seconds: np.ndarray, abandoned: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier survival of patience: (distinct abandonment times, S(t) just after each, number at risk)."""
    w = np.asarray(wait_seconds, dtype=float)
    ab = np.asarray(abandoned, dtype=bool)
    times = np.unique(w[ab])
    if times.size == 0:
        return times, times, times.astype(np.int64)
    sorted_w = np.sort(w)
    at_risk = w.size - np.searchsorted(sorted_w, times, side="left")  # waits >= t
    events = np.bincount(np.searchsorted(times, w[ab]), minlength=times.size)
    return times, np.cumprod(1.0 - events / at_risk), at_risk


def estimate_patience(
    wait_seconds: np.ndarray, outcome: np.ndarray, confidence: float = 0.95, bins: int = 10
) -> PatienceEstimate:
    """Exponential MLE of mean patience from waits and outcomes ('answered'/'abandoned' or abandoned mask).

    The interval is the exact chi-square interval for a Poisson count of abandonments over the total
    exposure (total wait): rate in [chi2(2d; a/2) / 2W, chi2(2d+2; 1-a/2) / 2W], inverted for the mean.
    """
    w = np.asarray(wait_seconds, dtype=float)
    ab = _abandoned_mask(outcome)
    if w.shape != ab.shape:
        raise ValueError("wait_seconds and outcome must have the same length")
    if (w < 0).any() or np.isnan(w).any():
        raise ValueError("wait_seconds must be >= 0")
    n = int(w.size)
    d = int(ab.sum())
    total = float(w.sum())
    alpha = 1.0 - confidence
    if d == 0:
        # no abandonments: rate 0 is the MLE; one-sided upper bound on the rate -> lower bound on the mean
        low = float(2 * total / stats.chi2.ppf(confidence, 2)) if total > 0 else 0.0
        return PatienceEstimate(np.inf, n, 0, total, low, np.inf, False, np.nan, np.nan, False)
    mean = total / d
    ci_low = 2 * total / stats.chi2.ppf(1 - alpha / 2, 2 * d + 2)
    ci_high = 2 * total / stats.chi2.ppf(alpha / 2, 2 * d)

    times, surv, at_risk = kaplan_meier(w, ab)
    fitted = np.exp(-times / mean)
    before = np.concatenate([[1.0], surv[:-1]])  # KM just before each jump
    # compare only where the KM curve is informative: at least max(30, 1% of calls) still waiting
    informative = at_risk >= max(MIN_AT_RISK, 0.01 * n)
    gaps = np.concatenate([np.abs(surv - fitted)[informative], np.abs(before - fitted)[informative], [0.0]])
    ks = float(gaps.max())

    p_value = np.nan
    n_bins = min(bins, d // 5)
    if n_bins >= 2:
        edges = np.quantile(w[ab], np.linspace(0, 1, n_bins + 1))
        edges[0], edges[-1] = 0.0, np.inf
        edges = np.unique(edges)
        exposure = np.array([np.clip(w - lo, 0, hi - lo).sum() for lo, hi in itertools.pairwise(edges)])
        observed = np.histogram(w[ab], bins=edges)[0]
        expected = exposure / mean
        ok = expected > 0
        stat = float((((observed - expected) ** 2)[ok] / expected[ok]).sum())
        dof = int(ok.sum()) - 1
        if dof >= 1:
            p_value = float(stats.chi2.sf(stat, dof))
    return PatienceEstimate(mean, n, d, total, float(ci_low), float(ci_high), True, ks, p_value, ks <= KS_FIT_LIMIT)


def estimate_patience_by_channel(
    wait_seconds: np.ndarray, outcome: np.ndarray, channel: np.ndarray, confidence: float = 0.95
) -> dict[str, PatienceEstimate]:
    """``estimate_patience`` for each distinct value of ``channel`` (e.g. '999', '101')."""
    w = np.asarray(wait_seconds, dtype=float)
    ab = _abandoned_mask(outcome)
    ch = np.asarray(channel)
    return {str(c): estimate_patience(w[ch == c], ab[ch == c], confidence) for c in np.unique(ch)}


def calibrate_patience(
    offered: np.ndarray,
    abandoned: np.ndarray,
    agents: np.ndarray,
    aht_seconds: np.ndarray | float,
    interval_minutes: float,
    *,
    lo: float = 1.0,
    hi: float = 1e6,
) -> float | None:
    """Mean patience (s) that makes Erlang A's expected abandoned calls, summed over the intervals, equal the
    observed total: for interval history that has staffing (`agents_staffed`) but no call-level records.

    Expected abandonment falls monotonically as patience grows, so a bracketing root finder (Brent) is exact.
    Returns None when nothing was abandoned (no finite answer) or the data cannot be matched within [lo, hi].
    """
    from scipy.optimize import brentq

    from scheduling.queueing import evaluate

    offered = np.asarray(offered, dtype=float)
    observed = float(np.asarray(abandoned, dtype=float).sum())
    if observed <= 0 or offered.sum() <= 0:
        return None
    n = np.asarray(agents, dtype=float).round()

    def gap(log_theta: float) -> float:
        m = evaluate("erlang_a", n, offered, interval_minutes, aht_seconds, patience_seconds=float(np.exp(log_theta)))
        return float(np.nansum(m.abandon_rate * offered)) - observed

    a, b = np.log(lo), np.log(hi)
    if gap(a) < 0 or gap(b) > 0:
        return None
    return float(np.exp(brentq(gap, a, b, xtol=1e-6)))
