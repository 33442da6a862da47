"""The staffing calculator behind the API: maps requests onto `scheduling` and its arrays back to JSON."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.errors import invalid
from app.schemas.staffing import (
    MAX_AGENTS,
    IntervalDemand,
    SharedPoolRequest,
    StaffingRequest,
    StaffingTargets,
)
from scheduling import (
    ChannelLoad,
    QueueMetrics,
    Targets,
    evaluate,
    evaluate_shared_pool,
    meets_targets,
    required_agents,
    required_agents_shared_pool,
    rostered_heads,
)


def json_float(x: float) -> float | None:
    """A JSON-safe float: NaN and infinities (undefined figures) become null."""
    return None if not math.isfinite(x) else round(float(x), 6)


def _targets(t: StaffingTargets) -> Targets:
    return Targets(
        service_level=t.service_level,
        answer_within_seconds=t.answer_within_seconds,
        sl_definition=t.sl_definition,
        max_abandon_rate=t.max_abandon_rate,
        max_asa_seconds=t.max_asa_seconds,
        max_occupancy=t.max_occupancy,
    )


def _arrays(intervals: list[IntervalDemand], default_patience: float | None) -> tuple[np.ndarray, ...]:
    calls = np.fromiter((i.calls for i in intervals), float, len(intervals))
    aht = np.fromiter((i.aht_seconds for i in intervals), float, len(intervals))
    pat = np.fromiter(
        (i.patience_seconds if i.patience_seconds is not None else (default_patience or math.inf) for i in intervals),
        float,
        len(intervals),
    )
    return calls, aht, pat


def _figures(m: QueueMetrics, i: int) -> dict[str, float | None]:
    return {
        "service_level": json_float(m.service_level[i]),
        "abandon_rate": json_float(m.abandon_rate[i]),
        "asa_seconds": json_float(m.asa_seconds[i]),
        "occupancy": json_float(m.occupancy[i]),
        "p_wait": json_float(m.p_wait[i]),
    }


def _weighted(values: np.ndarray, weights: np.ndarray) -> float | None:
    ok = np.isfinite(values)
    w = weights[ok]
    return json_float(float((values[ok] * w).sum() / w.sum())) if w.sum() > 0 and ok.all() else None


def staffing(req: StaffingRequest) -> dict[str, Any]:
    """Requirement or evaluation for one queue, per interval, with totals."""
    calls, aht, pat = _arrays(req.intervals, req.patience_seconds)
    targets = _targets(req.targets)
    patience = pat if req.model == "erlang_a" else None
    if req.agents is None:
        result = required_agents(
            req.model, calls, req.interval_minutes, aht, targets, patience_seconds=patience, max_agents=MAX_AGENTS
        )
        agents, metrics, feasible = result.agents.astype(int), result.metrics, result.feasible
    else:
        agents = np.asarray(req.agents, dtype=int)
        metrics = evaluate(
            req.model,
            agents,
            calls,
            req.interval_minutes,
            aht,
            patience_seconds=patience,
            answer_within_seconds=targets.answer_within_seconds,
            sl_definition=targets.sl_definition,
        )
        feasible = meets_targets(metrics, targets)
    heads = rostered_heads(agents, req.shrinkage).astype(int)
    hours = req.interval_minutes / 60
    abandoned = metrics.abandon_rate * calls
    out = [
        {
            "interval_start": iv.interval_start,
            "agents": int(agents[i]),
            "rostered_agents": int(heads[i]),
            "feasible": bool(feasible[i]),
            "stable": bool(metrics.stable[i]),
            **_figures(metrics, i),
        }
        for i, iv in enumerate(req.intervals)
    ]
    return {
        "model": req.model,
        "intervals": out,
        "summary": {
            "calls": float(calls.sum()),
            "expected_abandoned": json_float(float(abandoned.sum())) if np.isfinite(abandoned).all() else None,
            "service_level": _weighted(metrics.service_level, calls),
            "agent_hours": float(agents.sum() * hours),
            "rostered_hours": float(heads.sum() * hours),
            "intervals_infeasible": int((~feasible).sum()),
        },
    }


def shared_pool(req: SharedPoolRequest, stored_channels: dict[str, Any]) -> dict[str, Any]:
    """Pooled requirement or evaluation with non-preemptive priority, lower `priority` first."""
    chans = list(req.channels)
    for pos, c in enumerate(chans):
        if c.targets is None and c.name not in stored_channels:
            raise invalid(f"channels.{pos}.targets", f"no targets given and no stored channel named {c.name!r}")

    def prio(item: tuple[int, Any]) -> tuple[int, int]:
        pos, c = item
        stored = stored_channels.get(c.name)
        return (c.priority if c.priority is not None else (stored.priority if stored else 1000), pos)

    ordered = [c for _, c in sorted(enumerate(chans), key=prio)]
    loads, targets = [], {}
    for c in ordered:
        calls, aht, pat = _arrays(c.intervals, c.patience_seconds)
        if c.targets is not None:
            t = _targets(c.targets)
        else:
            s = stored_channels[c.name]
            t = Targets(
                service_level=s.target_service_level,
                answer_within_seconds=s.target_answer_seconds,
                sl_definition=s.sl_definition,
                max_abandon_rate=s.max_abandon_rate,
            )
        targets[c.name] = t
        loads.append(
            ChannelLoad(
                name=c.name,
                calls=calls,
                aht_seconds=aht,
                patience_seconds=np.where(np.isinf(pat), np.inf, pat),
                answer_within_seconds=t.answer_within_seconds,
                sl_definition=t.sl_definition,
            )
        )
    if req.agents is None:
        res = required_agents_shared_pool(loads, targets, req.interval_minutes, max_agents=MAX_AGENTS)
        agents, metrics, feasible = res.agents.astype(int), res.metrics, res.feasible
    else:
        agents = np.asarray(req.agents, dtype=int)
        metrics = evaluate_shared_pool(agents, loads, req.interval_minutes)
        feasible = np.logical_and.reduce([meets_targets(metrics[c.name], targets[c.name]) for c in ordered])
    heads = rostered_heads(agents, req.shrinkage).astype(int)
    hours = req.interval_minutes / 60
    first = ordered[0]
    intervals = [
        {
            "interval_start": first.intervals[i].interval_start,
            "agents": int(agents[i]),
            "rostered_agents": int(heads[i]),
            "feasible": bool(feasible[i]),
            "channels": {c.name: _figures(metrics[c.name], i) for c in ordered},
        }
        for i in range(len(agents))
    ]
    summaries = {}
    for load in loads:
        m = metrics[load.name]
        calls = np.asarray(load.calls, dtype=float)
        ab = m.abandon_rate * calls
        summaries[load.name] = {
            "calls": float(calls.sum()),
            "expected_abandoned": json_float(float(ab.sum())) if np.isfinite(ab).all() else None,
            "service_level": _weighted(m.service_level, calls),
        }
    return {
        "priority_order": [c.name for c in ordered],
        "intervals": intervals,
        "channels": summaries,
        "agent_hours": float(agents.sum() * hours),
        "rostered_hours": float(heads.sum() * hours),
        "intervals_infeasible": int((~feasible).sum()),
    }
