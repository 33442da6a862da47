"""Staffing maths for Force Control Rooms: Erlang C/A, shared 999/101 pool, simulation, patience.

A plain library (numpy/scipy only); it never imports ``app``. See docs/staffing.md.
"""

from scheduling.patience import PatienceEstimate, estimate_patience, estimate_patience_by_channel
from scheduling.priority import (
    ChannelLoad,
    SharedPoolRequirement,
    evaluate_shared_pool,
    required_agents_shared_pool,
)
from scheduling.queueing import (
    DEFAULT_MAX_AGENTS,
    MODELS,
    SL_DEFINITIONS,
    QueueMetrics,
    Requirement,
    Targets,
    evaluate,
    meets_targets,
    offered_load,
    required_agents,
    rostered_heads,
)
from scheduling.simulation import SimChannel, SimulationResult, simulate

__all__ = [
    "DEFAULT_MAX_AGENTS",
    "MODELS",
    "SL_DEFINITIONS",
    "ChannelLoad",
    "PatienceEstimate",
    "QueueMetrics",
    "Requirement",
    "SharedPoolRequirement",
    "SimChannel",
    "SimulationResult",
    "Targets",
    "estimate_patience",
    "estimate_patience_by_channel",
    "evaluate",
    "evaluate_shared_pool",
    "meets_targets",
    "offered_load",
    "required_agents",
    "required_agents_shared_pool",
    "rostered_heads",
    "simulate",
]
