"""Single-queue staffing maths: exact Erlang C (M/M/n) and Erlang A (M/M/n+M), vectorised over intervals.

Every function takes per-interval arrays (or scalars, broadcast together) and returns one value per interval.
Formulas and references are in docs/staffing.md. Work is done in log space with regularised incomplete gamma
functions (no factorials), so n up to ``DEFAULT_MAX_AGENTS`` and loads of thousands of Erlangs are safe.

Notation: lambda arrival rate (1/s), mu = 1/AHT, theta = 1/mean patience, a = lambda/mu offered load
(Erlangs), n agents, T the answer-within threshold (seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal, NamedTuple

import numpy as np
from scipy import special

SL_DEFINITIONS = ("offered", "answered", "offered_excl_short_abandons")
MODELS = ("erlang_c", "erlang_a")
Model = Literal["erlang_c", "erlang_a"]
SlDefinition = Literal["offered", "answered", "offered_excl_short_abandons"]

#: Largest head count the inverse searches; an interval whose targets still fail there is reported infeasible.
#: The numerics are tested up to this value.
DEFAULT_MAX_AGENTS = 2500
#: Slack when comparing a metric with its target, so that floating-point noise cannot flip a decision.
TARGET_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Targets:
    """Staffing targets for one channel; every target that is not None must hold at once.

    ``service_level`` is a fraction (0.9 = 90%) answered within ``answer_within_seconds`` under
    ``sl_definition``; ``max_abandon_rate`` and ``max_occupancy`` are fractions; ``max_asa_seconds`` is the
    average speed of answer of answered calls.
    """

    service_level: float | None = None
    answer_within_seconds: float = 0.0
    sl_definition: str = "offered"
    max_abandon_rate: float | None = None
    max_asa_seconds: float | None = None
    max_occupancy: float | None = None

    def __post_init__(self) -> None:
        if self.sl_definition not in SL_DEFINITIONS:
            raise ValueError(f"sl_definition must be one of {SL_DEFINITIONS}, got {self.sl_definition!r}")
        if self.service_level is not None and not 0.0 < self.service_level <= 1.0:
            raise ValueError("service_level must be in (0, 1]")
        if self.answer_within_seconds < 0:
            raise ValueError("answer_within_seconds must be >= 0")
        if self.max_abandon_rate is not None and not 0.0 <= self.max_abandon_rate <= 1.0:
            raise ValueError("max_abandon_rate must be in [0, 1]")
        if self.max_asa_seconds is not None and self.max_asa_seconds < 0:
            raise ValueError("max_asa_seconds must be >= 0")
        if self.max_occupancy is not None and not 0.0 < self.max_occupancy <= 1.0:
            raise ValueError("max_occupancy must be in (0, 1]")


@dataclass
class QueueMetrics:
    """Steady-state metrics, one value per interval (numpy arrays).

    ``service_level`` uses the definition it was evaluated with; ``abandon_rate`` is the fraction of offered
    calls that abandon; ``asa_seconds`` is the mean wait of answered calls (zero waits included);
    ``occupancy`` is served load / agents; ``p_wait`` the probability a call has to queue. Where
    ``stable`` is False (Erlang C with load >= agents) every metric except ``agents`` is NaN.
    """

    agents: np.ndarray
    service_level: np.ndarray
    abandon_rate: np.ndarray
    asa_seconds: np.ndarray
    occupancy: np.ndarray
    p_wait: np.ndarray
    stable: np.ndarray

    def take(self, index: np.ndarray) -> QueueMetrics:
        """Return the metrics of a subset of intervals (index or boolean mask)."""
        return QueueMetrics(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def to_dict(self) -> dict[str, list]:
        """Plain lists (NaN kept as float('nan')), handy for JSON encoders that handle NaN themselves."""
        return {f.name: getattr(self, f.name).tolist() for f in fields(self)}


class Requirement(NamedTuple):
    """Result of an inverse: fewest agents per interval, the metrics at that head count, and feasibility.

    Where ``feasible`` is False the targets are not all met even at ``max_agents``: ``agents`` then holds
    ``max_agents`` and ``metrics`` the values there (use them to explain which target is out of reach).
    """

    agents: np.ndarray
    metrics: QueueMetrics
    feasible: np.ndarray


# ----------------------------------------------------------------------------------------------------------
# numerical building blocks


def log_lower_gamma_reg(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log P(a, x), the regularised lower incomplete gamma function, without underflow for x << a.

    scipy's gammainc is used unless it underflows (x far below a); there P = x^a e^-x / Gamma(a+1) *
    M(1, a+1, x) (Kummer's function, DLMF 8.5.1 and 13.6.5), whose log does not.
    """
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    out = np.full(a.shape, -np.inf)
    pos = x > 0
    g = np.zeros(a.shape)
    g[pos] = special.gammainc(a[pos], x[pos])
    direct = pos & ((x >= a) | (g > 1e-280))
    out[direct] = np.log(g[direct])
    small = pos & ~direct
    if small.any():
        aa, xx = a[small], x[small]
        out[small] = aa * np.log(xx) - xx - special.gammaln(aa + 1.0) + np.log(special.hyp1f1(1.0, aa + 1.0, xx))
    return out


def log_erlang_b_complement(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """log(1/B(n, a) - 1) = log sum_{k<n} (a^k/k!) / (a^n/n!), the Erlang B part shared by both models.

    Uses the Poisson tail Q(n, a) = gammaincc(n, a); where that underflows (load far above n) the finite sum
    sum_{j=1..n} prod_{i<j} (n-i)/a is added directly (its terms shrink at least like (n/a)^j there).
    """
    n, a = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(a, dtype=float))
    out = np.full(n.shape, -np.inf)  # n == 0: empty sum
    pos = n > 0
    q = np.zeros(n.shape)
    q[pos] = special.gammaincc(n[pos], a[pos])
    ok = pos & (q > 1e-290)
    out[ok] = a[ok] + np.log(q[ok]) + special.gammaln(n[ok] + 1.0) - n[ok] * np.log(a[ok])
    tail = pos & ~ok
    if tail.any():
        nn, aa = n[tail], a[tail]
        total = np.zeros(nn.shape)
        term = np.ones(nn.shape)
        for i in range(int(nn.max())):
            term = term * np.clip(nn - i, 0.0, None) / aa
            total += term
            if not (term > 1e-18 * total).any():
                break
        out[tail] = np.log(total)
    return out


@dataclass
class _Conditional:
    """Metrics of a queued call, conditional on it having to wait (all agents busy on arrival)."""

    stable: np.ndarray  # False where the queue grows without bound (Erlang C, capacity <= arrival rate)
    log_j: np.ndarray  # log of J, the queue part of the normalising constant (relative to state n)
    p_ab: np.ndarray  # P(abandon | wait)
    p_served_within: np.ndarray  # P(answered within T | wait)
    p_ab_within: np.ndarray  # P(abandoned within T | wait)
    wait_served: np.ndarray  # E[wait * 1{answered} | wait], seconds


def conditional_wait(
    capacity: np.ndarray,
    lam: np.ndarray,
    theta: np.ndarray,
    t: np.ndarray,
    need_asa: bool = True,
    need_sl: bool = True,
) -> _Conditional:
    """Waiting-time quantities of a FCFS queue served at total rate ``capacity`` (= n mu) while all busy.

    theta = 0 is Erlang C (W | wait ~ Exp(capacity - lambda)); theta > 0 is Erlang A, using the exact
    offered-wait law of Mandelbaum & Zeltyn (2007): with s = n mu/theta, X = lambda/theta,
    P(V > t | wait) = P(s, X e^(-theta t)) / P(s, X). Requires lam > 0. ``need_sl``/``need_asa`` False skip
    the threshold and mean-wait terms (left NaN) when only P(wait) and abandonment are wanted.
    """
    capacity, lam, theta, t = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(capacity, lam, theta, t))
    shape = lam.shape
    res = _Conditional(
        stable=np.ones(shape, dtype=bool),
        log_j=np.full(shape, np.nan),
        p_ab=np.zeros(shape),
        p_served_within=np.full(shape, np.nan),
        p_ab_within=np.zeros(shape),
        wait_served=np.full(shape, np.nan),
    )
    c_mask = theta <= 0
    if c_mask.any():  # Erlang C
        drain = capacity[c_mask] - lam[c_mask]
        stable = drain > 1e-12 * capacity[c_mask]  # load == n (up to rounding) is unstable too
        res.stable[c_mask] = stable
        with np.errstate(divide="ignore", invalid="ignore"):
            res.log_j[c_mask] = np.where(stable, -np.log1p(-lam[c_mask] / capacity[c_mask]), np.nan)
            res.p_served_within[c_mask] = np.where(stable, -np.expm1(-drain * t[c_mask]), np.nan)
            res.wait_served[c_mask] = np.where(stable, 1.0 / drain, np.nan)
            res.p_ab[c_mask] = np.where(stable, 0.0, np.nan)
            res.p_ab_within[c_mask] = np.where(stable, 0.0, np.nan)
    a_mask = ~c_mask
    if a_mask.any():  # Erlang A
        th = theta[a_mask]
        s = capacity[a_mask] / th
        x = lam[a_mask] / th
        tt = t[a_mask]
        lp_sx = log_lower_gamma_reg(s, x)
        # J = M(1, s+1, X) = Gamma(s+1) e^X X^-s P(s, X): the sum of the birth-death products beyond state n.
        # Below X < s take log M directly: the expanded form cancels terms of size s log s.
        log_j = special.gammaln(s + 1.0) + x - s * np.log(x) + lp_sx
        below = x < s
        with np.errstate(invalid="ignore"):
            m_direct = np.log(special.hyp1f1(1.0, s[below] + 1.0, x[below]))
        log_j[below] = np.where(np.isfinite(m_direct), m_direct, log_j[below])  # hyp1f1 gives NaN near s ~ X >> 1e9
        ratio = s / x  # = n mu / lambda = 1/rho
        p_sr = np.clip(ratio * -np.expm1(-log_j), 0.0, 1.0)  # P(served | wait) = (1/rho)(1 - 1/J)
        # y = X e^(-theta T): P(V > T | wait) = P(s, y)/P(s, X), P(served, V > T | wait) = (s/X) P(s+1, y)/P(s, X)
        res.log_j[a_mask] = log_j
        res.p_ab[a_mask] = 1.0 - p_sr
        if need_sl:
            y = x * np.exp(-th * tt)
            r1 = _log_p_ratio(s, x, y, th * tt, 1.0, lp_sx, log_j)
            r0 = _log_p_ratio(s, x, y, th * tt, 0.0, lp_sx, log_j)
            p_sr_t = np.clip(p_sr - ratio * np.exp(r1), 0.0, 1.0)
            still = np.exp(-th * tt + r0)  # P(W > T | wait) = P(V > T | wait) e^(-theta T)
            res.p_served_within[a_mask] = p_sr_t
            res.p_ab_within[a_mask] = np.clip(1.0 - p_sr_t - still, 0.0, 1.0 - p_sr_t)
        else:
            res.p_ab_within[a_mask] = np.nan
        if need_asa:
            res.wait_served[a_mask] = p_sr * _mean_wait_given_served(s + 1.0, x) / th
    return res


def _log_p_ratio(
    s: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray, k: float, lp_sx: np.ndarray, log_j: np.ndarray
) -> np.ndarray:
    """log P(s + k, y) - log P(s, x) for y = x e^-z and k in {0, 1}, accurate even when s is huge.

    ``lp_sx`` = log P(s, x) and ``log_j`` = ln M(1, s+1, x) are passed in (already computed). Where both
    arguments are below their shape parameter, the x^a e^-x / Gamma(a+1) factors are divided analytically
    (s (ln y - ln x) = -s z, y - x = x expm1(-z)) instead of subtracting two logs of size s ln s.
    """
    out = np.empty(s.shape)
    both = (x < s) & (y < s + k) & (y > 0)
    if both.any():
        ss, xx, yy, zz = s[both], x[both], y[both], z[both]
        with np.errstate(invalid="ignore"):
            log_m = np.log(special.hyp1f1(1.0, ss + k + 1.0, yy)) - log_j[both]
        base = -ss * zz - xx * np.expm1(-zz) + k * (np.log(yy) - np.log1p(ss))
        out[both] = base + log_m
    rest = ~both | ~np.isfinite(out)  # hyp1f1 gives NaN near s ~ y >> 1e9: use the generic difference
    out[rest] = log_lower_gamma_reg(s[rest] + k, y[rest]) - lp_sx[rest]
    return out


def _mean_wait_given_served(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """K = theta E[W | waited and served] = int_0^inf P(a, X e^-z) dz / P(a, X), with a = s + 1.

    Identity: int_0^inf P(a, X e^-z) dz = E[(ln X - ln U)^+], U ~ Gamma(a), which equals
    (ln X - psi(a)) P(a, X) - dP/da. scipy has no dP/da, so it is taken by a central difference
    (step 1e-4 sqrt(a); relative error ~1e-8, checked against a direct series in the tests). Both terms are
    positive in each branch, so there is no cancellation.
    """
    h = 1e-4 * np.sqrt(a)
    out = np.full(a.shape, np.nan)
    hi = a > x
    if hi.any():  # P = x^a e^-x M(1, a+1, x)/Gamma(a+1): K = 1/a - d/da ln M(1, a+1, x)
        aa, xx, hh = a[hi], x[hi], h[hi]
        with np.errstate(invalid="ignore"):
            up = np.log(special.hyp1f1(1.0, aa + hh + 1.0, xx))
            down = np.log(special.hyp1f1(1.0, aa - hh + 1.0, xx))
        out[hi] = 1.0 / aa - (up - down) / (2 * hh)
    lo = ~np.isfinite(out)  # a <= x, or hyp1f1 failed (a ~ x > 1e9): P is not small, use gammainc
    if lo.any():  # K = ln x - psi(a) - d/da ln P(a, x)
        aa, xx, hh = a[lo], x[lo], h[lo]
        d = (np.log(special.gammainc(aa + hh, xx)) - np.log(special.gammainc(aa - hh, xx))) / (2 * hh)
        out[lo] = np.log(xx) - special.digamma(aa) - d
    return out


# ----------------------------------------------------------------------------------------------------------
# public API


def offered_load(calls: np.ndarray, interval_minutes: np.ndarray, aht_seconds: np.ndarray) -> np.ndarray:
    """Offered load in Erlangs: calls per second times AHT."""
    return np.asarray(calls, dtype=float) / (np.asarray(interval_minutes, dtype=float) * 60.0) * aht_seconds


def _theta(model: str, patience_seconds: np.ndarray | float | None, shape: tuple[int, ...]) -> np.ndarray:
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if model == "erlang_c":
        return np.zeros(shape)
    if patience_seconds is None:
        raise ValueError("erlang_a needs patience_seconds (mean patience); use inf for no abandonment")
    pat = np.broadcast_to(np.asarray(patience_seconds, dtype=float), shape)
    if (pat <= 0).any() or np.isnan(pat).any():
        raise ValueError("patience_seconds must be > 0 (inf allowed)")
    return 1.0 / pat  # inf patience -> theta 0 -> Erlang C, the exact limit


def _check_inputs(calls: np.ndarray, interval_minutes: np.ndarray, aht: np.ndarray) -> None:
    if (calls < 0).any() or np.isnan(calls).any():
        raise ValueError("calls must be >= 0")
    if (interval_minutes <= 0).any() or (aht <= 0).any():
        raise ValueError("interval_minutes and aht_seconds must be > 0")


def combine_metrics(
    agents: np.ndarray,
    load: np.ndarray,
    p_wait: np.ndarray,
    cond: _Conditional,
    sl_definition: str,
) -> QueueMetrics:
    """Turn P(wait) and the conditional-on-wait quantities into the per-interval QueueMetrics."""
    if sl_definition not in SL_DEFINITIONS:
        raise ValueError(f"sl_definition must be one of {SL_DEFINITIONS}, got {sl_definition!r}")
    p_ab = p_wait * cond.p_ab
    answered_within = (1.0 - p_wait) + p_wait * cond.p_served_within
    with np.errstate(divide="ignore", invalid="ignore"):
        if sl_definition == "offered":
            sl = answered_within
        elif sl_definition == "answered":
            sl = np.where(p_ab < 1.0, answered_within / (1.0 - p_ab), 0.0)
        else:
            short = p_wait * cond.p_ab_within
            sl = np.where(short < 1.0, answered_within / (1.0 - short), 0.0)
        asa = np.where(p_ab < 1.0, p_wait * cond.wait_served / (1.0 - p_ab), np.inf)
        occupancy = np.where(agents > 0, load * (1.0 - p_ab) / agents, np.nan)
    stable = cond.stable.copy()
    nan = ~stable
    out = QueueMetrics(
        agents=np.asarray(agents).astype(np.int64),
        service_level=np.clip(sl, 0.0, 1.0),
        abandon_rate=np.clip(p_ab, 0.0, 1.0),
        asa_seconds=asa,
        occupancy=occupancy,
        p_wait=p_wait,
        stable=stable,
    )
    for name in ("service_level", "abandon_rate", "asa_seconds", "occupancy", "p_wait"):
        getattr(out, name)[nan] = np.nan
    return out


def evaluate(
    model: Model,
    agents: np.ndarray | int,
    calls: np.ndarray | float,
    interval_minutes: np.ndarray | float,
    aht_seconds: np.ndarray | float,
    patience_seconds: np.ndarray | float | None = None,
    answer_within_seconds: np.ndarray | float = 0.0,
    sl_definition: SlDefinition = "offered",
) -> QueueMetrics:
    """Steady-state metrics of each interval for a given head count (Erlang C or Erlang A, exact).

    Inputs broadcast together (scalars allowed). ``calls`` is the expected number offered in the interval,
    ``patience_seconds`` the mean patience (Erlang A only, required there; inf gives Erlang C; ignored by
    Erlang C). Agents must be non-negative integers.
    """
    pat = np.atleast_1d(np.asarray(np.inf if patience_seconds is None else patience_seconds, dtype=float))
    arrays = np.broadcast_arrays(
        np.atleast_1d(np.asarray(agents)),
        np.atleast_1d(np.asarray(calls, dtype=float)),
        np.atleast_1d(np.asarray(interval_minutes, dtype=float)),
        np.atleast_1d(np.asarray(aht_seconds, dtype=float)),
        np.atleast_1d(np.asarray(answer_within_seconds, dtype=float)),
        pat,
    )
    n, calls_, minutes, aht, t, _ = (np.array(v) for v in arrays)
    if (n < 0).any() or (np.asarray(n) != np.round(n)).any():
        raise ValueError("agents must be non-negative integers")
    _check_inputs(calls_, minutes, aht)
    if (t < 0).any():
        raise ValueError("answer_within_seconds must be >= 0")
    n = n.astype(float)
    theta = _theta(model, patience_seconds, n.shape)
    lam = calls_ / (minutes * 60.0)
    mu = 1.0 / aht
    load = lam * aht
    return _evaluate_core(n, lam, mu, theta, t, load, sl_definition)


def _evaluate_core(
    n: np.ndarray,
    lam: np.ndarray,
    mu: np.ndarray,
    theta: np.ndarray,
    t: np.ndarray,
    load: np.ndarray,
    sl_definition: str,
    need_asa: bool = True,
) -> QueueMetrics:
    shape = n.shape
    busy = (lam > 0) & (n > 0)
    p_wait = np.where(lam > 0, 1.0, 0.0)  # n == 0 with calls: everyone waits; no calls: nobody does
    cond = _Conditional(
        stable=np.ones(shape, dtype=bool),
        log_j=np.zeros(shape),
        p_ab=np.zeros(shape),
        p_served_within=np.ones(shape),
        p_ab_within=np.zeros(shape),
        wait_served=np.zeros(shape),
    )
    zero = (lam > 0) & (n == 0)  # nobody to answer: Erlang C unstable, Erlang A all abandon
    cond.stable[zero & (theta <= 0)] = False
    cond.p_ab[zero] = 1.0
    cond.p_ab_within[zero] = np.where(np.isfinite(t[zero]), -np.expm1(-theta[zero] * t[zero]), 1.0)
    cond.p_served_within[zero] = 0.0
    cond.wait_served[zero] = 0.0
    if busy.any():
        c = conditional_wait(n[busy] * mu[busy], lam[busy], theta[busy], t[busy], need_asa=need_asa)
        log_e = log_erlang_b_complement(n[busy], load[busy])
        with np.errstate(invalid="ignore"):
            p_wait[busy] = np.where(c.stable, special.expit(c.log_j - log_e), np.nan)
        for name in ("stable", "log_j", "p_ab", "p_served_within", "p_ab_within", "wait_served"):
            getattr(cond, name)[busy] = getattr(c, name)
    return combine_metrics(n, load, p_wait, cond, sl_definition)


def meets_targets(metrics: QueueMetrics, targets: Targets) -> np.ndarray:
    """Boolean per interval: every given target holds (NaN, i.e. unstable, never does)."""
    ok = metrics.stable.copy()
    tol = TARGET_TOLERANCE
    if targets.service_level is not None:
        ok &= metrics.service_level >= targets.service_level - tol
    if targets.max_abandon_rate is not None:
        ok &= metrics.abandon_rate <= targets.max_abandon_rate + tol
    if targets.max_asa_seconds is not None:
        ok &= metrics.asa_seconds <= targets.max_asa_seconds + tol
    if targets.max_occupancy is not None:
        ok &= metrics.occupancy <= targets.max_occupancy + tol
    return ok


def required_agents(
    model: Model,
    calls: np.ndarray | float,
    interval_minutes: np.ndarray | float,
    aht_seconds: np.ndarray | float,
    targets: Targets,
    patience_seconds: np.ndarray | float | None = None,
    max_agents: int = DEFAULT_MAX_AGENTS,
) -> Requirement:
    """Fewest agents per interval meeting every target at once (vectorised bisection on n).

    All metrics are monotone in n, so the search returns the smallest n with n - 1 failing. Intervals with no
    calls need 0 agents. Where even ``max_agents`` fails, ``feasible`` is False (no exception).
    """
    pat = np.atleast_1d(np.asarray(np.inf if patience_seconds is None else patience_seconds, dtype=float))
    arrays = np.broadcast_arrays(
        np.atleast_1d(np.asarray(calls, dtype=float)),
        np.atleast_1d(np.asarray(interval_minutes, dtype=float)),
        np.atleast_1d(np.asarray(aht_seconds, dtype=float)),
        pat,
    )
    calls_, minutes, aht, _ = (np.array(v) for v in arrays)
    _check_inputs(calls_, minutes, aht)
    theta = _theta(model, patience_seconds, calls_.shape)
    lam = calls_ / (minutes * 60.0)
    mu = 1.0 / aht
    load = lam * aht
    t = np.full(calls_.shape, float(targets.answer_within_seconds))
    need_asa = targets.max_asa_seconds is not None

    def check(idx: np.ndarray, n: np.ndarray) -> np.ndarray:
        m = _evaluate_core(
            n.astype(float), lam[idx], mu[idx], theta[idx], t[idx], load[idx], targets.sl_definition, need_asa
        )
        return meets_targets(m, targets)

    agents = search_fewest(load, lam > 0, check, targets, theta <= 0, max_agents)
    feasible = agents >= 0
    agents = np.where(feasible, agents, max_agents)
    metrics = _evaluate_core(agents.astype(float), lam, mu, theta, t, load, targets.sl_definition)
    return Requirement(agents=agents, metrics=metrics, feasible=feasible)


def search_fewest(
    load: np.ndarray,
    active: np.ndarray,
    check: Callable[[np.ndarray, np.ndarray], np.ndarray],
    targets: Targets | None,
    no_abandon: np.ndarray,
    max_agents: int,
) -> np.ndarray:
    """Smallest n in [1, max_agents] with check(idx, n) True, per active interval; 0 if inactive, -1 if none.

    ``check`` must be monotone in n. Starts from a lower bound that provably fails (stability, and served
    load <= n for service-level/abandonment targets) and a square-root-staffing guess, then bisects.
    """
    size = load.shape[0]
    result = np.zeros(size, dtype=np.int64)
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return result
    a = load[idx]
    lo = np.zeros(idx.size)  # n = 0 always fails with calls
    lo = np.where(no_abandon[idx], np.maximum(lo, np.ceil(a) - 1), lo)  # n <= a is unstable
    if targets is not None:
        # served load <= n, so SL(offered) <= n/a and 1 - abandon <= n/a: smaller n cannot meet them
        if targets.service_level is not None and targets.sl_definition == "offered":
            lo = np.maximum(lo, np.ceil(a * targets.service_level * (1 - 1e-9)) - 1)
        if targets.max_abandon_rate is not None:
            lo = np.maximum(lo, np.ceil(a * (1 - targets.max_abandon_rate) * (1 - 1e-9)) - 1)
    lo = np.minimum(lo, max_agents).astype(np.int64)
    hi = np.minimum(np.maximum(lo + 1, np.ceil(a + 1.5 * np.sqrt(a) + 1)), max_agents).astype(np.int64)
    # grow hi until it meets (doubling the step), or give up at max_agents
    found = np.zeros(idx.size, dtype=bool)
    step = np.maximum(1, hi - lo)
    pending = np.ones(idx.size, dtype=bool)
    while pending.any():
        p = np.flatnonzero(pending)
        ok = check(idx[p], hi[p])
        found[p[ok]] = True
        fail = p[~ok]
        at_cap = hi[fail] >= max_agents
        pending[p[ok]] = False
        pending[fail[at_cap]] = False
        grow = fail[~at_cap]
        lo[grow] = hi[grow]
        step[grow] *= 2
        hi[grow] = np.minimum(hi[grow] + step[grow], max_agents)
    # bisection on (lo, hi]: lo fails, hi meets
    b = np.flatnonzero(found & (hi - lo > 1))
    while b.size:
        mid = (lo[b] + hi[b]) // 2
        ok = check(idx[b], mid)
        hi[b[ok]] = mid[ok]
        lo[b[~ok]] = mid[~ok]
        b = b[hi[b] - lo[b] > 1]
    result[idx] = np.where(found, hi, -1)
    return result


def rostered_heads(agents: np.ndarray | int, shrinkage: np.ndarray | float) -> np.ndarray:
    """Heads to roster so that ``agents`` remain on the phones after shrinkage: ceil(agents / (1 - s)).

    ``shrinkage`` is the fraction of paid time off the phones (breaks, training, sickness), in [0, 1).
    A 1e-9 slack stops binary rounding (e.g. 8 / 0.8 = 10.000000000000002) from adding a head.
    """
    s = np.asarray(shrinkage, dtype=float)
    if (s < 0).any() or (s >= 1).any():
        raise ValueError("shrinkage must be in [0, 1)")
    agents_ = np.asarray(agents, dtype=float)
    return np.ceil(agents_ / (1.0 - s) - 1e-9).astype(np.int64)
