"""POST /v1/staffing and /v1/staffing/shared-pool, and the patience endpoint: wiring, figures, bad input."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from scheduling import Targets, evaluate, required_agents


def body(**kw: object) -> dict:
    base = {
        "interval_minutes": 15,
        "model": "erlang_a",
        "intervals": [{"calls": c, "aht_seconds": 300, "patience_seconds": 120} for c in (10.0, 40.0, 75.5)],
        "targets": {"service_level": 0.9, "answer_within_seconds": 10},
        "shrinkage": 0.3,
        "agents": None,
    }
    return base | kw


def test_requirement_is_the_fewest_meeting_targets(client: TestClient) -> None:
    r = client.post("/v1/staffing", json=body())
    assert r.status_code == 200, r.text
    out = r.json()["intervals"]
    for iv, calls in zip(out, (10.0, 40.0, 75.5), strict=True):
        assert iv["feasible"] and iv["service_level"] >= 0.9
        assert iv["rostered_agents"] == math.ceil(iv["agents"] / 0.7)
        # One agent fewer misses the target: the same engine, evaluated directly.
        m = evaluate("erlang_a", iv["agents"] - 1, calls, 15, 300, patience_seconds=120, answer_within_seconds=10)
        assert m.service_level[0] < 0.9
    assert r.json()["summary"]["calls"] == pytest.approx(125.5)
    assert r.json()["summary"]["intervals_infeasible"] == 0


def test_evaluation_matches_library_and_flags_misses(client: TestClient) -> None:
    agents = [3, 11, 14]
    r = client.post("/v1/staffing", json=body(agents=agents, shrinkage=0.0))
    assert r.status_code == 200, r.text
    got = r.json()["intervals"]
    lib = evaluate("erlang_a", agents, [10.0, 40.0, 75.5], 15, 300, patience_seconds=120, answer_within_seconds=10)
    for i, iv in enumerate(got):
        assert iv["service_level"] == pytest.approx(lib.service_level[i], abs=1e-6)
        assert iv["abandon_rate"] == pytest.approx(lib.abandon_rate[i], abs=1e-6)
        assert iv["feasible"] == bool(lib.service_level[i] >= 0.9)
        assert iv["agents"] == iv["rostered_agents"] == agents[i]
    summary = r.json()["summary"]
    assert summary["expected_abandoned"] == pytest.approx(
        float((lib.abandon_rate * [10.0, 40.0, 75.5]).sum()), rel=1e-5
    )


def test_erlang_c_has_no_abandonment_and_reports_instability(client: TestClient) -> None:
    b = body(model="erlang_c", agents=[2, 16, 30])  # 10 calls x 300 s / 900 s = 3.33 Erlangs > 2 agents
    for iv in b["intervals"]:
        iv.pop("patience_seconds")
    out = client.post("/v1/staffing", json=b).json()["intervals"]
    assert out[0]["stable"] is False and out[0]["service_level"] is None and out[0]["feasible"] is False
    assert all(iv["abandon_rate"] == 0 for iv in out[1:])
    lib = required_agents("erlang_c", [10.0, 40.0, 75.5], 15, 300, Targets(0.9, 10))
    b["agents"] = None
    req = client.post("/v1/staffing", json=b).json()["intervals"]
    assert [iv["agents"] for iv in req] == lib.agents.tolist()


def test_more_targets_need_at_least_as_many_agents(client: TestClient) -> None:
    plain = client.post("/v1/staffing", json=body()).json()["intervals"]
    t = {"service_level": 0.9, "answer_within_seconds": 10, "max_abandon_rate": 0.01, "max_occupancy": 0.7}
    strict = client.post("/v1/staffing", json=body(targets=t)).json()["intervals"]
    for a, b in zip(plain, strict, strict=True):
        assert b["agents"] >= a["agents"] and b["abandon_rate"] <= 0.01 + 1e-9 and b["occupancy"] <= 0.7 + 1e-9


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"intervals": [{"calls": -1, "aht_seconds": 300, "patience_seconds": 60}]}, "intervals.0.calls"),
        ({"intervals": [{"calls": 5, "aht_seconds": 0, "patience_seconds": 60}]}, "intervals.0.aht_seconds"),
        ({"targets": {"service_level": 1.5, "answer_within_seconds": 10}}, "targets.service_level"),
        ({"targets": {"service_level": 0, "answer_within_seconds": 10}}, "targets.service_level"),
        ({"agents": [1, 2]}, "agents"),
        ({"agents": [1, -2, 3]}, "agents"),
        ({"intervals": [{"calls": 5, "aht_seconds": 300}]}, "intervals"),
        ({"intervals": []}, "intervals"),
        ({"intervals": [{"calls": 1, "aht_seconds": 300, "patience_seconds": 60}] * 40_001}, "intervals"),
        ({"model": "erlang_x"}, "model"),
        ({"shrinkage": 1.0}, "shrinkage"),
        ({"interval_minutes": 20}, "interval_minutes"),
    ],
)
def test_bad_staffing_input_names_the_field(client: TestClient, change: dict, field: str) -> None:
    r = client.post("/v1/staffing", json=body(**change))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.json()["errors"]


def pool(**kw: object) -> dict:
    base = {
        "interval_minutes": 15,
        "channels": [
            {
                "name": "101",
                "intervals": [{"calls": c, "aht_seconds": 360} for c in (20, 60, 90)],
                "patience_seconds": 240,
            },
            {
                "name": "999",
                "intervals": [{"calls": c, "aht_seconds": 300} for c in (10, 30, 45)],
                "patience_seconds": 90,
            },
        ],
        "shrinkage": 0.25,
    }
    return base | kw


def test_shared_pool_uses_stored_priority_and_targets(client: TestClient) -> None:
    r = client.post("/v1/staffing/shared-pool", json=pool())
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["priority_order"] == ["999", "101"]  # 999 first although listed second
    for iv in out["intervals"]:
        assert iv["feasible"]
        assert iv["channels"]["999"]["service_level"] >= 0.9  # stored 999 target: 90% in 10 s
        assert iv["channels"]["101"]["service_level"] >= 0.8  # stored 101 target: 80% in 60 s
        assert iv["rostered_agents"] == math.ceil(iv["agents"] / 0.75)
    fewer = [iv["agents"] - 1 for iv in out["intervals"]]
    ev = client.post("/v1/staffing/shared-pool", json=pool(agents=fewer)).json()
    assert not any(iv["feasible"] for iv in ev["intervals"])
    # Pooling never needs more than two separate teams would.
    sep = 0
    for name, sl, t, pat in (("999", 0.9, 10, 90), ("101", 0.8, 60, 240)):
        ch = next(c for c in pool()["channels"] if c["name"] == name)
        ivs = [dict(iv, patience_seconds=pat) for iv in ch["intervals"]]
        b = body(intervals=ivs, targets={"service_level": sl, "answer_within_seconds": t}, shrinkage=0)
        sep += sum(iv["agents"] for iv in client.post("/v1/staffing", json=b).json()["intervals"])
    assert sum(iv["agents"] for iv in out["intervals"]) <= sep


def test_shared_pool_bad_input(client: TestClient) -> None:
    p = pool()
    p["channels"][1]["intervals"] = p["channels"][1]["intervals"][:2]
    r = client.post("/v1/staffing/shared-pool", json=p)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "channels"
    p = pool()
    p["channels"][0]["name"] = "web-chat"
    r = client.post("/v1/staffing/shared-pool", json=p)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "channels.0.targets"
    r = client.post("/v1/staffing/shared-pool", json=pool(agents=[1]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "agents"


def test_patience_from_call_records(client: TestClient) -> None:
    calls = [
        {
            "arrived_at": f"2026-01-05T09:{m:02d}:00Z",
            "wait_seconds": w,
            "outcome": o,
            "handle_seconds": 200 if o == "answered" else 0,
        }
        for m, (w, o) in enumerate(
            [
                (10, "answered"),
                (50, "abandoned"),
                (30, "answered"),
                (110, "abandoned"),
                (5, "answered"),
                (95, "answered"),
            ]
        )
    ]
    assert client.post("/v1/channels/101/calls", json=calls).status_code == 200
    r = client.get("/v1/channels/101/patience")
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["n_calls"], p["n_abandoned"], p["total_wait_seconds"]) == (6, 2, 300.0)
    assert p["mean_patience_seconds"] == pytest.approx(150.0)  # 300 s waited / 2 abandonments
    assert p["ci_low"] < 150 < p["ci_high"]
    r = client.get("/v1/channels/999/patience")
    assert r.status_code == 200 and r.json()["n_calls"] == 0 and r.json()["mean_patience_seconds"] is None
    assert "no call records" in r.json()["note"]
