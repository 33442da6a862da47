"""Shared pool: one set of PCROs answers several channels (999 and 101), higher priority first.

Non-preemptive priority: a free agent takes the oldest waiting call of the highest-priority channel (list
order: first = highest); each channel has its own calls, AHT and exponential patience. The analytic method
(docs/staffing.md, "Shared pool") is vectorised over intervals:

1. P(wait), the probability an arrival finds every agent busy, is the same for every channel (PASTA) and is
   taken from a pooled Erlang A queue with the total arrival rate, the call-weighted mean AHT and the
   queue-weighted mean patience. Exact when AHTs and patiences are all equal.
2. Top channel: while a 999 call waits, every agent is busy and every completion goes to the 999 queue, so
   its wait, given that it waits, is exactly that of Erlang A(lambda_1, theta_1) served at rate n mu: the 101
   calls only change how often all agents are busy (step 1). Exact when AHTs are equal.
3. Lower channels: Erlang A conditional formulas with the capacity left over by the higher channels during
   busy periods, n mu - sum_h lambda_h P(answered_h | wait) (a residual-capacity approximation).

The discrete-event simulation (scheduling.simulation) validates it; bench/staffing.py reports the error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from scheduling.queueing import (
    DEFAULT_MAX_AGENTS,
    SL_DEFINITIONS,
    QueueMetrics,
    Targets,
    _Conditional,
    combine_metrics,
    conditional_wait,
    log_erlang_b_complement,
    meets_targets,
    search_fewest,
)


@dataclass(frozen=True)
class ChannelLoad:
    """Demand of one channel in the pool: expected calls per interval, AHT and mean patience (None = inf).

    ``answer_within_seconds`` and ``sl_definition`` say how its service level is reported.
    """

    name: str
    calls: np.ndarray | float
    aht_seconds: np.ndarray | float
    patience_seconds: np.ndarray | float | None = None
    answer_within_seconds: float = 0.0
    sl_definition: str = "offered"

    def __post_init__(self) -> None:
        if self.sl_definition not in SL_DEFINITIONS:
            raise ValueError(f"sl_definition must be one of {SL_DEFINITIONS}")


@dataclass
class SharedPoolRequirement:
    """Fewest pooled agents per interval meeting every channel's targets, with each channel's metrics."""

    agents: np.ndarray
    metrics: dict[str, QueueMetrics]
    feasible: np.ndarray


@dataclass
class _Prepared:
    lam: np.ndarray  # (channels, intervals) arrival rates, 1/s
    mu: np.ndarray  # (channels, intervals)
    theta: np.ndarray  # (channels, intervals), 0 = no abandonment
    t: np.ndarray  # (channels, intervals) answer-within thresholds
    load: np.ndarray  # (channels, intervals) offered load, Erlangs


def _prepare(channels: list[ChannelLoad], interval_minutes: np.ndarray | float, size: int | None) -> _Prepared:
    if not channels:
        raise ValueError("need at least one channel")
    names = [c.name for c in channels]
    if len(set(names)) != len(names):
        raise ValueError("channel names must be unique")
    if size is None:
        size = max(np.size(c.calls) for c in channels)
    shape = (size,)
    minutes = np.broadcast_to(np.asarray(interval_minutes, dtype=float), shape)
    lam, mu, theta, t = [], [], [], []
    for c in channels:
        calls = np.broadcast_to(np.asarray(c.calls, dtype=float), shape)
        aht = np.broadcast_to(np.asarray(c.aht_seconds, dtype=float), shape)
        if (calls < 0).any() or (aht <= 0).any() or (minutes <= 0).any():
            raise ValueError("calls must be >= 0, aht_seconds and interval_minutes > 0")
        if c.patience_seconds is None:
            th = np.zeros(shape)
        else:
            pat = np.broadcast_to(np.asarray(c.patience_seconds, dtype=float), shape)
            if (pat <= 0).any():
                raise ValueError("patience_seconds must be > 0")
            th = 1.0 / pat
        lam.append(calls / (minutes * 60.0))
        mu.append(1.0 / aht)
        theta.append(th)
        t.append(np.full(shape, float(c.answer_within_seconds)))
    lam_, mu_ = np.array(lam), np.array(mu)
    return _Prepared(lam_, mu_, np.array(theta), np.array(t), lam_ / mu_)


def _calibrate_capacity(
    target: np.ndarray, lam: np.ndarray, theta: np.ndarray, cap_max: np.ndarray, iterations: int = 14
) -> np.ndarray:
    """Capacity c in (0, cap_max] with P(abandon | wait) of an Erlang A queue (lam, theta, c) equal to target.

    P(abandon | wait) falls from 1 to 0 as c grows; solved on log c by the Illinois (regula falsi) method.
    """
    t = np.clip(target, 1e-12, 1 - 1e-12)
    zeros = np.zeros(lam.shape)

    def f(c: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return conditional_wait(c, lam[idx], theta[idx], zeros[idx], need_asa=False, need_sl=False).p_ab - t[idx]

    all_idx = np.arange(lam.size)
    a, b = np.log(cap_max) - 25.0, np.log(cap_max)
    fa, fb = f(np.exp(a), all_idx), f(np.exp(b), all_idx)
    out = np.where(fb >= 0, np.exp(b), np.nan)  # even all the capacity abandons too much: give it all
    out = np.where(fa <= 0, np.exp(a), out)
    todo = np.isnan(out)
    a, b, fa, fb = a[todo], b[todo], fa[todo], fb[todo]
    idx = all_idx[todo]
    side = np.zeros(idx.size)
    for _ in range(iterations):
        c = (a * fb - b * fa) / (fb - fa)
        fc = f(np.exp(c), idx)
        left = fc * fa > 0  # root in [c, b]
        # Illinois: halve the retained end's value when the same end is kept twice
        fb = np.where(left & (side == 1), fb / 2, fb)
        fa = np.where(~left & (side == -1), fa / 2, fa)
        a, fa = np.where(left, c, a), np.where(left, fc, fa)
        b, fb = np.where(left, b, c), np.where(left, fb, fc)
        side = np.where(left, 1, -1)
    out[idx] = np.exp((a * fb - b * fa) / (fb - fa))
    return out


def _pool_metrics(n: np.ndarray, p: _Prepared, sl_definitions: list[str], need_asa: bool) -> list[QueueMetrics]:
    """Metrics of every channel for head counts n (one per interval of ``p``)."""
    n_ch, size = p.lam.shape
    lam_tot = p.lam.sum(axis=0)
    load_tot = p.load.sum(axis=0)
    busy = (lam_tot > 0) & (n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu_bar = np.where(load_tot > 0, lam_tot / load_tot, 1.0)  # 1 / call-weighted mean AHT
    b_idx = np.flatnonzero(busy)
    cap_full = n[b_idx] * mu_bar[b_idx]
    lam_b, theta_b = p.lam[:, b_idx], p.theta[:, b_idx]

    # 1. the top k channels together. While any of them waits every agent is busy and serves them, so their
    # total queue m is a birth-death chain: up lambda_{<=k}, down n mu + sum_c theta_c Q_c. Higher channels'
    # queues are replaced by their means q_c (they are short: those calls go first), the rest is channel k:
    # down = n mu + sum_{c<k} (theta_c - theta_k) q_c + theta_k m, an Erlang A queue (exact if patiences are
    # equal; for k = 1 exact for equal AHTs). Channel k's mean queue is the aggregate's minus the higher ones.
    caps = np.tile(cap_full, (n_ch, 1))
    q_mean = np.zeros((n_ch, b_idx.size))  # E[Q_c | all busy]
    agg_stable = np.ones(b_idx.size, dtype=bool)
    agg_log_j = np.full(b_idx.size, np.nan)
    for k in range(n_ch):
        lam_k = lam_b[: k + 1].sum(axis=0)
        th_k = theta_b[k]
        cap_k = cap_full + ((theta_b[:k] - th_k) * q_mean[:k]).sum(axis=0)
        cap_k = np.maximum(cap_k, 1e-9 * cap_full)
        pos = lam_k > 0
        res = conditional_wait(cap_k[pos], lam_k[pos], th_k[pos], np.zeros(pos.sum()), need_asa=False, need_sl=False)
        q_tot = np.zeros(b_idx.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = lam_k[pos] / cap_k[pos]
            q_tot[pos] = np.where(th_k[pos] > 0, lam_k[pos] * res.p_ab / th_k[pos], rho / (1.0 - rho))
        stable = np.ones(b_idx.size, dtype=bool)
        stable[pos] = res.stable
        q_tot[~stable] = np.nan
        q_mean[k] = np.maximum(q_tot - q_mean[:k].sum(axis=0), 0.0)
        if k == n_ch - 1:
            agg_stable = stable
            agg_log_j[pos] = res.log_j
        # 2. the capacity that gives channel k alone, as an Erlang A queue, that abandonment rate
        # (theta_k E[Q_k] / lambda_k given a wait) or, without abandonment, that mean wait (E[Q_k] / lambda_k)
        if k == 0:
            continue
        lam_c, th_c = lam_b[k], theta_b[k]
        act = (lam_c > 0) & stable
        ab = act & (th_c > 0)
        if ab.any():
            target = th_c[ab] * q_mean[k, ab] / lam_c[ab]
            caps[k, ab] = _calibrate_capacity(target, lam_c[ab], th_c[ab], cap_full[ab])
        c_ok = act & (th_c <= 0) & (q_mean[k] > 0)
        caps[k, c_ok] = np.minimum(lam_c[c_ok] * (1.0 + 1.0 / q_mean[k, c_ok]), cap_full[c_ok])

    conds: list[_Conditional] = []
    for c in range(n_ch):
        cond = _Conditional(
            stable=np.ones(size, dtype=bool),
            log_j=np.zeros(size),
            p_ab=np.zeros(size),
            p_served_within=np.ones(size),
            p_ab_within=np.zeros(size),
            wait_served=np.zeros(size),
        )
        zero = (p.lam[c] > 0) & (n == 0)  # no agents: Erlang C unstable, Erlang A everyone abandons
        cond.stable[zero & (p.theta[c] <= 0)] = False
        cond.p_ab[zero] = 1.0
        cond.p_served_within[zero] = 0.0
        cond.p_ab_within[zero] = -np.expm1(-p.theta[c][zero] * p.t[c][zero])
        act = lam_b[c] > 0
        if act.any():
            sub = b_idx[act]
            res = conditional_wait(caps[c, act], lam_b[c, act], theta_b[c, act], p.t[c][sub], need_asa)
            for name in ("stable", "log_j", "p_ab", "p_served_within", "p_ab_within", "wait_served"):
                getattr(cond, name)[sub] = getattr(res, name)
        cond.stable[b_idx] &= agg_stable
        conds.append(cond)

    # 3. P(all agents busy), the same for every channel: the pooled Erlang A (aggregate of all channels)
    p_wait = np.where(lam_tot > 0, 1.0, 0.0)
    if b_idx.size:
        log_e = log_erlang_b_complement(n[b_idx], load_tot[b_idx])
        with np.errstate(invalid="ignore"):
            p_wait[b_idx] = np.where(agg_stable, special.expit(agg_log_j - log_e), np.nan)

    metrics = [combine_metrics(n, p.load[c], p_wait, conds[c], sl_definitions[c]) for c in range(n_ch)]
    served_load = np.zeros(size)
    for c, m in enumerate(metrics):
        served_load += np.nan_to_num(p.load[c] * (1.0 - m.abandon_rate))
    stable = np.logical_and.reduce([m.stable for m in metrics])
    with np.errstate(divide="ignore", invalid="ignore"):
        occupancy = np.where(n > 0, served_load / n, np.nan)
    occupancy[~stable] = np.nan
    for m in metrics:
        m.occupancy = occupancy.copy()  # the pool's occupancy: agents are shared
    return metrics


def evaluate_shared_pool(
    agents: np.ndarray | int,
    channels: list[ChannelLoad],
    interval_minutes: np.ndarray | float = 15.0,
) -> dict[str, QueueMetrics]:
    """Per-channel metrics when ``agents`` PCROs answer all channels, earlier channels first (priority).

    Returns {channel name: QueueMetrics}; ``occupancy`` is the pool's (same for every channel).
    """
    size = max([np.size(agents)] + [np.size(c.calls) for c in channels])
    p = _prepare(channels, interval_minutes, size)
    n = np.broadcast_to(np.asarray(agents), (size,)).astype(float)
    if (n < 0).any() or (n != np.round(n)).any():
        raise ValueError("agents must be non-negative integers")
    metrics = _pool_metrics(n, p, [c.sl_definition for c in channels], need_asa=True)
    return {c.name: m for c, m in zip(channels, metrics, strict=True)}


def required_agents_shared_pool(
    channels: list[ChannelLoad],
    targets: dict[str, Targets] | list[Targets],
    interval_minutes: np.ndarray | float = 15.0,
    max_agents: int = DEFAULT_MAX_AGENTS,
) -> SharedPoolRequirement:
    """Fewest pooled agents per interval such that every channel meets its own targets at once.

    Each channel's ``answer_within_seconds`` and ``sl_definition`` are taken from its Targets. Intervals
    that fail even at ``max_agents`` come back with ``feasible`` False and the metrics at ``max_agents``.
    """
    if isinstance(targets, dict):
        missing = [c.name for c in channels if c.name not in targets]
        if missing:
            raise ValueError(f"no targets for channels {missing}")
        targets_list = [targets[c.name] for c in channels]
    else:
        targets_list = list(targets)
        if len(targets_list) != len(channels):
            raise ValueError("need one Targets per channel")
    channels = [
        replace(c, answer_within_seconds=tg.answer_within_seconds, sl_definition=tg.sl_definition)
        for c, tg in zip(channels, targets_list, strict=True)
    ]
    size = max(np.size(c.calls) for c in channels)
    p = _prepare(channels, interval_minutes, size)
    defs = [c.sl_definition for c in channels]
    need_asa = any(tg.max_asa_seconds is not None for tg in targets_list)

    def check(idx: np.ndarray, n: np.ndarray) -> np.ndarray:
        sub = _Prepared(p.lam[:, idx], p.mu[:, idx], p.theta[:, idx], p.t[:, idx], p.load[:, idx])
        ms = _pool_metrics(n.astype(float), sub, defs, need_asa)
        return np.logical_and.reduce([meets_targets(m, tg) for m, tg in zip(ms, targets_list, strict=True)])

    load_tot = p.load.sum(axis=0)
    no_abandon = (p.theta <= 0).any(axis=0)
    agents = search_fewest(load_tot, p.lam.sum(axis=0) > 0, check, None, no_abandon, max_agents)
    feasible = agents >= 0
    agents = np.where(feasible, agents, max_agents)
    metrics = _pool_metrics(agents.astype(float), p, defs, need_asa=True)
    return SharedPoolRequirement(
        agents=agents, metrics={c.name: m for c, m in zip(channels, metrics, strict=True)}, feasible=feasible
    )
