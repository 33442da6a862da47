"""Erlang C and Erlang A: published values, independent exact references, limits, monotonicity, inverse.

Tolerances: against exact references 1e-9 absolute (1e-7 for ASA, which uses a finite-difference
derivative); against published figures, the figure's own rounding.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.linalg import expm

from scheduling.queueing import (
    SL_DEFINITIONS,
    Targets,
    evaluate,
    meets_targets,
    required_agents,
    rostered_heads,
)

# ---------------------------------------------------------------------------------------------------------
# independent references


def erlang_c_exact(n: int, a: Fraction) -> Fraction:
    """Erlang C probability of waiting in exact rational arithmetic (textbook formula, factorials)."""
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


def erlang_c_reference(n: int, calls: int, minutes: int, aht: int, t: float) -> dict[str, float]:
    a = Fraction(calls * aht, minutes * 60)
    pw = erlang_c_exact(n, a)
    drain = (n - a) / aht  # n mu - lambda
    return {
        "p_wait": float(pw),
        "service_level": 1.0 - float(pw) * math.exp(-float(drain) * t),
        "asa_seconds": float(pw / drain),
        "occupancy": float(a / n),
    }


def erlang_a_reference(n: int, lam: float, mu: float, theta: float, t: float, m_max: int = 400) -> dict:
    """Erlang A by brute force: truncated birth-death chain plus a matrix exponential of the tagged call.

    A call arriving with m calls ahead moves forward at rate n mu + j theta (j ahead), abandons at theta;
    P(answered | m) = n mu / (n mu + (m+1) theta) and E[W 1{answered} | m] = P(answered | m) *
    sum_{j<=m} 1/(n mu + (j+1) theta). Nothing here shares code or formulas with the library.
    """
    w = np.empty(n + m_max + 1)
    w[0] = 1.0
    for k in range(1, n + m_max + 1):
        w[k] = w[k - 1] * lam / (min(k, n) * mu + max(k - n, 0) * theta)
    pi = w / w.sum()
    q = pi[n:]  # arrival finds m = 0..m_max ahead
    size = m_max + 3
    served, aband = m_max + 1, m_max + 2
    gen = np.zeros((size, size))
    for j in range(m_max + 1):
        fwd = n * mu + j * theta
        gen[j, j - 1 if j > 0 else served] += fwd
        gen[j, aband] += theta
        gen[j, j] = -(fwd + theta)
    trans = expm(gen * t)
    served_t = q @ trans[: m_max + 1, served]
    ab_t = q @ trans[: m_max + 1, aband]
    m = np.arange(m_max + 1)
    p_served_m = n * mu / (n * mu + (m + 1) * theta)
    wait_m = p_served_m * np.cumsum(1.0 / (n * mu + (m + 1) * theta))
    p_ab = q @ (1 - p_served_m)
    answered_t = (1 - q.sum()) + served_t
    return {
        "p_wait": q.sum(),
        "abandon_rate": p_ab,
        "offered": answered_t,
        "answered": answered_t / (1 - p_ab),
        "offered_excl_short_abandons": answered_t / (1 - ab_t),
        "asa_seconds": (q @ wait_m) / (1 - p_ab),
        "occupancy": lam * (1 - p_ab) / (n * mu),
    }


# ---------------------------------------------------------------------------------------------------------
# Erlang C


def test_published_erlang_c_example() -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example": 100 calls in 30 min,
    AHT 180 s, 80% in 20 s. Published: 14 agents, P(wait) 17.41%, service level 88.84%, ASA 7.8 s,
    occupancy 71.43%, and 20 heads after 30% shrinkage. Checked first against exact rational arithmetic."""
    ref = erlang_c_reference(14, 100, 30, 180, 20.0)
    assert round(ref["p_wait"] * 100, 2) == 17.41
    assert round(ref["service_level"] * 100, 2) == 88.84
    assert round(ref["asa_seconds"], 1) == 7.8
    assert round(ref["occupancy"] * 100, 2) == 71.43

    m = evaluate("erlang_c", 14, 100, 30, 180, answer_within_seconds=20)
    for key, value in ref.items():
        assert getattr(m, key)[0] == pytest.approx(value, rel=1e-12)
    assert m.abandon_rate[0] == 0.0

    req = required_agents("erlang_c", 100, 30, 180, Targets(service_level=0.8, answer_within_seconds=20))
    assert req.agents.tolist() == [14]
    assert req.feasible.all()
    assert rostered_heads(req.agents, 0.3).tolist() == [20]


@pytest.mark.parametrize("n", [1, 2, 5, 11, 17, 30, 60])
@pytest.mark.parametrize("load_fraction", [Fraction(1, 10), Fraction(1, 2), Fraction(9, 10), Fraction(99, 100)])
def test_erlang_c_matches_exact_rational(n: int, load_fraction: Fraction) -> None:
    aht = 300
    a = load_fraction * n
    calls = a * 15 * 60 / aht  # calls per 15 minutes giving load a
    ref_pw = float(erlang_c_exact(n, a))
    m = evaluate("erlang_c", n, float(calls), 15, aht, answer_within_seconds=30)
    assert m.p_wait[0] == pytest.approx(ref_pw, rel=1e-10, abs=1e-15)
    drain = float(n - a) / aht
    assert m.service_level[0] == pytest.approx(1 - ref_pw * math.exp(-drain * 30), abs=1e-12)
    assert m.asa_seconds[0] == pytest.approx(ref_pw / drain, rel=1e-10, abs=1e-12)


def test_erlang_c_large_n_matches_erlang_b_recursion() -> None:
    """n = 2000, a = 1800 and 1990: the float Erlang B recursion (stable, no factorials) as reference."""
    for a in (1800.0, 1990.0):
        b = 1.0
        for k in range(1, 2001):
            b = a * b / (k + a * b)
        c = b / (1 - a / 2000 * (1 - b))
        calls = a * 900 / 300
        m = evaluate("erlang_c", 2000, calls, 15, 300, answer_within_seconds=10)
        assert m.stable[0]
        assert m.p_wait[0] == pytest.approx(c, rel=1e-9)


def test_erlang_c_unstable_is_flagged_not_garbage() -> None:
    # loads equal to and above n (10 Erlangs: 100 calls / 30 min at 180 s), and n = 0
    m = evaluate("erlang_c", [0, 5, 10, 11], 100, 30, 180, answer_within_seconds=20)
    assert m.stable.tolist() == [False, False, False, True]
    for name in ("service_level", "abandon_rate", "asa_seconds", "occupancy", "p_wait"):
        values = getattr(m, name)
        assert np.isnan(values[:3]).all(), name
        assert np.isfinite(values[3]), name


def test_erlang_c_sl_definitions_coincide() -> None:
    ms = [evaluate("erlang_c", 12, 100, 30, 180, answer_within_seconds=20, sl_definition=d) for d in SL_DEFINITIONS]
    assert ms[0].service_level[0] == ms[1].service_level[0] == ms[2].service_level[0]


# ---------------------------------------------------------------------------------------------------------
# Erlang A

ERLANG_A_CASES = [
    # n, calls per 15 min, aht, patience, T
    (5, 40, 120, 60, 20),  # moderate
    (10, 100, 180, 120, 20),
    (10, 150, 180, 120, 10),  # overloaded: a = 30 > n = 10
    (8, 50, 300, 1.0, 5),  # tiny patience
    (3, 30, 100, 600, 60),  # long patience
    (20, 250, 60, 30, 0),  # T = 0
]


@pytest.mark.parametrize(("n", "calls", "aht", "patience", "t"), ERLANG_A_CASES)
def test_erlang_a_matches_brute_force(n: int, calls: float, aht: float, patience: float, t: float) -> None:
    ref = erlang_a_reference(n, calls / 900, 1 / aht, 1 / patience, t)
    for d in SL_DEFINITIONS:
        m = evaluate("erlang_a", n, calls, 15, aht, patience, answer_within_seconds=t, sl_definition=d)
        assert m.stable[0]
        assert m.service_level[0] == pytest.approx(ref[d], abs=1e-9), d
    assert m.p_wait[0] == pytest.approx(ref["p_wait"], abs=1e-9)
    assert m.abandon_rate[0] == pytest.approx(ref["abandon_rate"], abs=1e-9)
    assert m.occupancy[0] == pytest.approx(ref["occupancy"], abs=1e-9)
    assert m.asa_seconds[0] == pytest.approx(ref["asa_seconds"], rel=1e-7, abs=1e-9)


def test_erlang_a_tends_to_erlang_c() -> None:
    c = evaluate("erlang_c", np.arange(11, 20), 100, 30, 180, answer_within_seconds=20)
    previous = np.inf
    for patience in (1e3, 1e5, 1e7, 1e9, 1e12):
        a = evaluate("erlang_a", np.arange(11, 20), 100, 30, 180, patience, answer_within_seconds=20)
        gap = max(
            np.abs(a.service_level - c.service_level).max(),
            np.abs(a.p_wait - c.p_wait).max(),
            np.abs(a.asa_seconds - c.asa_seconds).max() / 100,
            a.abandon_rate.max(),
        )
        assert gap < previous
        previous = gap
    assert previous < 1e-5
    inf = evaluate("erlang_a", np.arange(11, 20), 100, 30, 180, np.inf, answer_within_seconds=20)
    np.testing.assert_array_equal(inf.service_level, c.service_level)


@pytest.mark.parametrize("patience", [1.0, 30.0, 200.0, 1e4, 1e7])
@pytest.mark.parametrize("load", [1800.0, 2500.0])
def test_erlang_a_large_n_stable(patience: float, load: float) -> None:
    """n up to 2000 with 1,800 and 2,500 Erlangs (overload): finite, bounded, and consistent with throughput."""
    n = np.array([1700, 1800, 1850, 2000])
    calls = load * 900 / 300
    m = evaluate("erlang_a", n, calls, 15, 300, patience, answer_within_seconds=10)
    for name in ("service_level", "abandon_rate", "asa_seconds", "occupancy", "p_wait"):
        assert np.isfinite(getattr(m, name)).all(), name
    assert ((m.service_level >= 0) & (m.service_level <= 1)).all()
    assert (m.occupancy <= 1 + 1e-12).all()
    # served load cannot exceed n: abandonment >= 1 - n/a
    assert (m.abandon_rate >= 1 - n / load - 1e-9).all()
    assert (np.diff(m.service_level) >= -1e-12).all()
    assert (np.diff(m.abandon_rate) <= 1e-12).all()


def test_erlang_a_large_n_matches_brute_force_moderate() -> None:
    """A larger case the brute force can still do: n = 200, a = 190, patience 180 s."""
    ref = erlang_a_reference(200, 190 / 300, 1 / 300, 1 / 180, 10, m_max=600)
    m = evaluate("erlang_a", 200, 190 * 3, 15, 300, 180, answer_within_seconds=10)
    assert m.service_level[0] == pytest.approx(ref["offered"], abs=1e-9)
    assert m.abandon_rate[0] == pytest.approx(ref["abandon_rate"], abs=1e-9)
    assert m.asa_seconds[0] == pytest.approx(ref["asa_seconds"], rel=1e-7)


@pytest.mark.parametrize("model", ["erlang_c", "erlang_a"])
@pytest.mark.parametrize("patience", [2.0, 120.0, 1e5])
def test_monotone_in_agents(model: str, patience: float) -> None:
    n = np.arange(1, 80)
    for d in SL_DEFINITIONS:
        m = evaluate(model, n, 200, 15, 300, patience, answer_within_seconds=15, sl_definition=d)
        ok = m.stable
        sl = m.service_level[ok]
        assert (np.diff(sl) >= -1e-12).all(), d
    for name in ("abandon_rate", "asa_seconds", "occupancy", "p_wait"):
        v = getattr(m, name)[m.stable]
        assert (np.diff(v) <= 1e-12).all(), name


def test_sl_definitions_order() -> None:
    """offered <= offered_excl_short_abandons <= answered (denominators shrink), strictly with abandonment."""
    sl = [
        evaluate("erlang_a", 9, 100, 15, 120, 40, answer_within_seconds=20, sl_definition=d).service_level[0]
        for d in ("offered", "offered_excl_short_abandons", "answered")
    ]
    assert sl[0] < sl[1] < sl[2]


def test_no_calls_needs_no_agents() -> None:
    req = required_agents("erlang_a", [0, 10], 15, 300, Targets(0.9, 10), patience_seconds=60)
    assert req.agents[0] == 0 and req.agents[1] > 0
    assert req.metrics.service_level[0] == 1.0 and req.metrics.abandon_rate[0] == 0.0


# ---------------------------------------------------------------------------------------------------------
# inverse

TARGET_SETS = [
    Targets(service_level=0.9, answer_within_seconds=10),
    Targets(service_level=0.8, answer_within_seconds=60, sl_definition="answered"),
    Targets(service_level=0.8, answer_within_seconds=20, sl_definition="offered_excl_short_abandons"),
    Targets(max_abandon_rate=0.03),
    Targets(max_asa_seconds=5),
    Targets(max_occupancy=0.85),
    Targets(service_level=0.95, answer_within_seconds=10, max_abandon_rate=0.01, max_asa_seconds=3, max_occupancy=0.8),
]


@pytest.mark.parametrize("model", ["erlang_c", "erlang_a"])
@pytest.mark.parametrize("targets", TARGET_SETS)
def test_inverse_returns_fewest(model: str, targets: Targets) -> None:
    rng = np.random.default_rng(4)
    calls = np.concatenate([rng.uniform(1, 400, 60), [0.5, 1500.0, 6000.0]])
    aht = rng.uniform(120, 400, calls.size)
    aht[-1] = 270.0  # 1,800 Erlangs
    patience = rng.uniform(1, 400, calls.size)
    req = required_agents(model, calls, 15, aht, targets, patience_seconds=patience)
    assert req.feasible.all()
    at_n = evaluate(model, req.agents, calls, 15, aht, patience, targets.answer_within_seconds, targets.sl_definition)
    assert meets_targets(at_n, targets).all()
    below = evaluate(
        model, req.agents - 1, calls, 15, aht, patience, targets.answer_within_seconds, targets.sl_definition
    )
    assert not meets_targets(below, targets).any()
    np.testing.assert_array_equal(req.metrics.service_level, at_n.service_level)


def test_max_occupancy_counts_served_load_only() -> None:
    """Impatient callers (2 s): Erlang A occupancy is served load / n, so 99% occupancy needs fewer agents
    than the offered-load bound ceil(a / 0.99)."""
    calls, aht, patience = 600.0, 300.0, 2.0  # a = 200 Erlangs
    req = required_agents("erlang_a", calls, 15, aht, Targets(max_occupancy=0.99), patience_seconds=patience)
    n = req.agents[0]
    assert req.metrics.occupancy[0] <= 0.99
    served = 200 * (1 - req.metrics.abandon_rate[0])
    assert req.metrics.occupancy[0] == pytest.approx(served / n)
    assert evaluate("erlang_a", n - 1, calls, 15, aht, patience).occupancy[0] > 0.99
    assert n < math.ceil(200 / 0.99)


def test_unreachable_targets_are_reported() -> None:
    """Targets out of reach below max_agents come back feasible=False with the metrics at max_agents."""
    targets = Targets(service_level=0.999999, answer_within_seconds=0)
    req = required_agents("erlang_a", [100, 0], 15, 300, targets, patience_seconds=60, max_agents=40)
    assert req.feasible.tolist() == [False, True]
    assert req.agents.tolist() == [40, 0]
    assert req.metrics.service_level[0] < 0.999999
    req = required_agents("erlang_c", 5000, 15, 300, Targets(0.8, 20), max_agents=100)
    assert not req.feasible[0]
    assert not req.metrics.stable[0]


def test_rostered_heads() -> None:
    assert rostered_heads([14, 8, 0, 7], 0.3).tolist() == [20, 12, 0, 10]
    assert rostered_heads(8, 0.2).tolist() == 10  # 8 / 0.8 is 10.000000000000002 in binary
    with pytest.raises(ValueError):
        rostered_heads(5, 1.0)


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        evaluate("erlang_a", 5, 10, 15, 300)  # no patience
    with pytest.raises(ValueError):
        evaluate("erlang_b", 5, 10, 15, 300)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Targets(sl_definition="within")
    with pytest.raises(ValueError):
        evaluate("erlang_c", -1, 10, 15, 300)
