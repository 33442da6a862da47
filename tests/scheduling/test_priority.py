"""Shared pool with 999-over-101 priority: exact cases against a brute-force CTMC, the rest against simulation.

With equal AHTs and patiences the method is exact for P(wait), for every metric of the top channel and for
the lower channel's abandonment (checked to 1e-8 against a truncated two-queue Markov chain). Elsewhere it is
an approximation: the top channel must sit within the simulation's 99% CI or 0.01, the lower channel within
0.03 of service level and 15% (relative) of abandonment in the realistic cases below (30% when the two
patiences differ tenfold).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve

from scheduling.priority import ChannelLoad, evaluate_shared_pool, required_agents_shared_pool
from scheduling.queueing import SL_DEFINITIONS, Targets, evaluate, meets_targets, required_agents
from scheduling.simulation import SimChannel, simulate


def two_class_ctmc(n: int, lam1: float, lam2: float, mu: float, theta: float, qmax: int = 70) -> dict:
    """Stationary law of the exact chain: b < n busy with empty queues, or n busy with queues (q1, q2)."""
    idx = {}
    for b in range(n):
        idx[("b", b)] = len(idx)
    for q1 in range(qmax + 1):
        for q2 in range(qmax + 1):
            idx[(q1, q2)] = len(idx)
    rows, cols, vals = [], [], []

    def add(src: tuple, dst: tuple, rate: float) -> None:
        if rate > 0:
            rows.append(idx[src])
            cols.append(idx[dst])
            vals.append(rate)

    for b in range(n):
        up = ("b", b + 1) if b + 1 < n else (0, 0)
        add(("b", b), up, lam1 + lam2)
        if b > 0:
            add(("b", b), ("b", b - 1), b * mu)
    for q1 in range(qmax + 1):
        for q2 in range(qmax + 1):
            s = (q1, q2)
            if q1 < qmax:
                add(s, (q1 + 1, q2), lam1)
            if q2 < qmax:
                add(s, (q1, q2 + 1), lam2)
            if q1 > 0:
                add(s, (q1 - 1, q2), n * mu + q1 * theta)
                if q2 > 0:
                    add(s, (q1, q2 - 1), q2 * theta)
            elif q2 > 0:
                add(s, (q1, q2 - 1), n * mu + q2 * theta)
            else:
                add(s, ("b", n - 1), n * mu)
    size = len(idx)
    gen = coo_matrix((vals, (rows, cols)), shape=(size, size)).tocsr()
    gen = gen - coo_matrix((np.asarray(gen.sum(axis=1)).ravel(), (range(size), range(size))), shape=(size, size))
    a = gen.T.tolil()
    a[0, :] = 1.0  # replace one balance equation by normalisation
    rhs = np.zeros(size)
    rhs[0] = 1.0
    pi = spsolve(a.tocsr(), rhs)
    grid = pi[n:].reshape(qmax + 1, qmax + 1)
    q1 = np.arange(qmax + 1)
    assert grid[-1, :].sum() + grid[:, -1].sum() < 1e-12  # truncation harmless
    return {
        "p_wait": grid.sum(),
        "p_ab1": theta * (grid.sum(axis=1) @ q1) / lam1,
        "p_ab2": theta * (grid.sum(axis=0) @ q1) / lam2,
    }


@pytest.mark.parametrize(
    ("n", "calls1", "calls2", "aht", "patience"),
    [(5, 10.0, 12.0, 300.0, 120.0), (8, 20.0, 10.0, 200.0, 60.0), (4, 15.0, 15.0, 300.0, 300.0)],
)
def test_exact_against_two_queue_markov_chain(
    n: int, calls1: float, calls2: float, aht: float, patience: float
) -> None:
    ref = two_class_ctmc(n, calls1 / 900, calls2 / 900, 1 / aht, 1 / patience)
    chans = [ChannelLoad("999", calls1, aht, patience, 10.0), ChannelLoad("101", calls2, aht, patience, 60.0)]
    m = evaluate_shared_pool(n, chans, 15)
    assert m["999"].p_wait[0] == pytest.approx(ref["p_wait"], abs=1e-8)
    assert m["101"].p_wait[0] == pytest.approx(ref["p_wait"], abs=1e-8)
    assert m["999"].abandon_rate[0] == pytest.approx(ref["p_ab1"], abs=1e-8)
    assert m["101"].abandon_rate[0] == pytest.approx(ref["p_ab2"], abs=1e-8)


def test_single_channel_pool_is_erlang_a() -> None:
    n = np.arange(5, 40)
    for d in SL_DEFINITIONS:
        pool = evaluate_shared_pool(n, [ChannelLoad("999", 80.0, 300.0, 90.0, 10.0, d)], 15)["999"]
        single = evaluate("erlang_a", n, 80.0, 15, 300.0, 90.0, 10.0, d)
        np.testing.assert_allclose(pool.service_level, single.service_level, atol=1e-12)
        np.testing.assert_allclose(pool.asa_seconds, single.asa_seconds, rtol=1e-9)
        np.testing.assert_allclose(pool.occupancy, single.occupancy, atol=1e-12)


def test_no_abandonment_matches_cobham() -> None:
    """Equal AHTs, no abandonment: mean waits are Cobham's (1954) non-preemptive priority M/M/n result,
    W_k = C(n, a) / (n mu (1 - s_{k-1})(1 - s_k)), s_k = load of channels 1..k / n."""
    n, aht, c1, c2 = 12, 300.0, 15.0, 15.0
    m = evaluate_shared_pool(n, [ChannelLoad("999", c1, aht), ChannelLoad("101", c2, aht)], 15)
    pw = evaluate("erlang_c", n, c1 + c2, 15, aht).p_wait[0]
    s1, s2 = c1 / 900 * aht / n, (c1 + c2) / 900 * aht / n
    assert m["999"].asa_seconds[0] == pytest.approx(pw * aht / n / (1 - s1), rel=1e-9)
    assert m["101"].asa_seconds[0] == pytest.approx(pw * aht / n / ((1 - s1) * (1 - s2)), rel=1e-9)
    unstable = evaluate_shared_pool(9, [ChannelLoad("999", c1, aht), ChannelLoad("101", c2, aht)], 15)
    assert not unstable["101"].stable[0] and np.isnan(unstable["101"].service_level[0])


SIM_CASES = [
    # agents, 999 calls, 101 calls, 999 aht, 101 aht, 999 patience, 101 patience, 101 abandonment rel. tol.
    (38, 40.0, 60.0, 300.0, 300.0, 120.0, 120.0, 0.15),
    (42, 40.0, 60.0, 300.0, 360.0, 90.0, 200.0, 0.15),
    (46, 40.0, 60.0, 300.0, 360.0, 90.0, 200.0, 0.15),
    (40, 40.0, 60.0, 300.0, 360.0, 30.0, 300.0, 0.30),  # 10:1 patience ratio: the method's worst case
]


@pytest.mark.parametrize("case", SIM_CASES)
def test_against_simulation(case: tuple) -> None:
    n, c1, c2, h1, h2, p1, p2, ab_tol = case
    analytic = evaluate_shared_pool(n, [ChannelLoad("999", c1, h1, p1, 10.0), ChannelLoad("101", c2, h2, p2, 60.0)], 15)
    sim = simulate(
        [SimChannel("999", c1, h1, p1, 10.0), SimChannel("101", c2, h2, p2, 60.0)], n, 15, n_intervals=600, seed=1
    )
    top = sim.channel("999").estimate("service_level", start=4, level=0.99)
    assert abs(analytic["999"].service_level[0] - top.value) <= max(top.half_width, 0.01)
    low = sim.channel("101")
    assert abs(analytic["101"].service_level[0] - low.estimate("service_level", start=4).value) <= 0.03
    ab = low.estimate("abandon_rate", start=4).value
    assert analytic["101"].abandon_rate[0] == pytest.approx(ab, rel=ab_tol, abs=0.003)


def test_required_shared_pool_is_fewest_and_pools() -> None:
    rng = np.random.default_rng(2)
    c1, c2 = rng.uniform(5, 80, 40), rng.uniform(5, 120, 40)
    chans = [ChannelLoad("999", c1, 300.0, 90.0), ChannelLoad("101", c2, 360.0, 200.0)]
    targets = {"999": Targets(0.9, 10.0), "101": Targets(0.8, 60.0, max_abandon_rate=0.05)}
    req = required_agents_shared_pool(chans, targets, 15)
    assert req.feasible.all()
    for n, ok_expected in ((req.agents, True), (req.agents - 1, False)):
        chs = [ChannelLoad("999", c1, 300.0, 90.0, 10.0), ChannelLoad("101", c2, 360.0, 200.0, 60.0)]
        m = evaluate_shared_pool(n, chs, 15)
        ok = meets_targets(m["999"], targets["999"]) & meets_targets(m["101"], targets["101"])
        assert (ok == ok_expected).all()
    # pooling never needs more than two separate teams
    sep = (
        required_agents("erlang_a", c1, 15, 300.0, targets["999"], 90.0).agents
        + required_agents("erlang_a", c2, 15, 360.0, targets["101"], 200.0).agents
    )
    assert (req.agents <= sep).all()


def test_monotone_and_three_channels() -> None:
    n = np.arange(1, 90)
    chans = [
        ChannelLoad("999", 40.0, 300.0, 90.0, 10.0),
        ChannelLoad("101", 60.0, 360.0, 200.0, 60.0),
        ChannelLoad("email", 20.0, 600.0, None, 3600.0),
    ]
    m = evaluate_shared_pool(n, chans, 15)
    for name, mm in m.items():
        ok = mm.stable
        assert (np.diff(mm.service_level[ok]) >= -1e-9).all(), name
        assert (np.diff(mm.abandon_rate[ok]) <= 1e-9).all(), name
        assert (np.diff(mm.asa_seconds[ok]) <= 1e-9).all(), name
    assert (m["999"].service_level[m["999"].stable] >= m["101"].service_level[m["999"].stable] - 1).all()
    req = required_agents_shared_pool(chans, [Targets(0.9, 10.0), Targets(0.8, 60.0), Targets(0.9, 3600.0)], 15)
    assert req.feasible.all() and req.agents[0] > 0


def test_zero_calls_and_validation() -> None:
    m = evaluate_shared_pool(
        [0, 5], [ChannelLoad("999", [0.0, 10.0], 300.0, 60.0), ChannelLoad("101", 0.0, 300.0, 60.0)]
    )
    assert m["999"].service_level[0] == 1.0 and m["101"].abandon_rate[1] == 0.0
    with pytest.raises(ValueError):
        evaluate_shared_pool(5, [ChannelLoad("a", 1.0, 300.0), ChannelLoad("a", 1.0, 300.0)])
    with pytest.raises(ValueError):
        required_agents_shared_pool([ChannelLoad("a", 1.0, 300.0)], {"b": Targets(0.8, 20)})
