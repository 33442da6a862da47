"""Run pyworkforce's MinRequiredResources on a JSON problem from stdin; print a JSON result on stdout.

Runs inside a throwaway venv that has pyworkforce (bench/roster.py creates it on demand), never in the product's
venv, and imports nothing from fcr-planner. Input: {"num_days", "periods", "shifts_coverage": {name: [0/1]*periods},
"required_resources": [[int]*periods]*days, "max_search_time", "num_search_workers"}.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    """Solve and report status, cost, per day/shift resources and wall time."""
    from pyworkforce.scheduling import MinRequiredResources

    problem = json.load(sys.stdin)
    t0 = time.perf_counter()
    scheduler = MinRequiredResources(
        num_days=problem["num_days"],
        periods=problem["periods"],
        shifts_coverage=problem["shifts_coverage"],
        required_resources=problem["required_resources"],
        max_period_concurrency=problem.get("max_period_concurrency", 10_000),
        max_shift_concurrency=problem.get("max_shift_concurrency", 10_000),
        max_search_time=problem["max_search_time"],
        num_search_workers=problem["num_search_workers"],
    )
    solution = scheduler.solve()
    solution["seconds"] = time.perf_counter() - t0
    json.dump(solution, sys.stdout)


if __name__ == "__main__":
    main()
