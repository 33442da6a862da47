"""Patience estimation: the exponential MLE, its interval, the fit check, and the no-abandonment case."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scheduling.patience import estimate_patience, estimate_patience_by_channel, kaplan_meier
from scheduling.simulation import SimChannel, simulate


def censored(rng: np.random.Generator, patience: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    offered_wait = rng.exponential(60.0, size)
    offered_wait[rng.random(size) < 0.5] = 0.0  # half answered at once
    return np.minimum(patience, offered_wait), patience < offered_wait


@pytest.mark.parametrize("seed", range(5))
def test_exponential_recovered(seed: int) -> None:
    rng = np.random.default_rng(seed)
    wait, ab = censored(rng, rng.exponential(200.0, 20_000), 20_000)
    est = estimate_patience(wait, ab)
    assert est.finite
    assert est.mean_patience_seconds == pytest.approx(wait.sum() / ab.sum())
    assert est.ci_low < 200.0 < est.ci_high
    assert est.fit_ok and est.ks_distance < 0.03
    assert est.chi2_p_value > 0.01


def test_non_exponential_flagged() -> None:
    rng = np.random.default_rng(1)
    wait, ab = censored(rng, rng.lognormal(np.log(150), 1.0, 20_000), 20_000)
    est = estimate_patience(wait, ab)
    assert not est.fit_ok
    assert est.chi2_p_value < 1e-6


def test_zero_abandonments() -> None:
    wait = np.array([0.0, 5.0, 10.0, 30.0])
    est = estimate_patience(wait, np.array(["answered"] * 4))
    assert not est.finite and math.isinf(est.mean_patience_seconds) and math.isinf(est.ci_high)
    # 95% lower bound: rate <= chi2(0.95; 2) / 2W = ln(20) / W
    assert est.ci_low == pytest.approx(45.0 / math.log(20.0))
    assert not est.fit_ok


def test_outcome_strings_and_validation() -> None:
    est = estimate_patience([10.0, 20.0, 30.0], ["abandoned", "answered", "abandoned"])
    assert est.n_abandoned == 2 and est.mean_patience_seconds == 30.0
    with pytest.raises(ValueError):
        estimate_patience([1.0], ["hung up"])
    with pytest.raises(ValueError):
        estimate_patience([-1.0], [True])


def test_kaplan_meier_by_hand() -> None:
    # waits 1(ab) 2(ans) 3(ab) 3(ab) 4(ans): S(1)=4/5, S(3)=4/5 * (1 - 2/3)
    times, surv, at_risk = kaplan_meier(np.array([1, 2, 3, 3, 4.0]), np.array([1, 0, 1, 1, 0], dtype=bool))
    np.testing.assert_array_equal(times, [1.0, 3.0])
    np.testing.assert_allclose(surv, [0.8, 0.8 / 3])
    np.testing.assert_array_equal(at_risk, [5, 3])


def test_patience_from_simulated_queue() -> None:
    """End to end: the simulation's own records give back the patience it was run with."""
    res = simulate([SimChannel("101", 100.0, 300.0, 150.0, 60.0)], 30, 15, n_intervals=300, seed=4)
    ch = res.channels[0]
    est = estimate_patience(ch.call_wait, ~ch.call_answered)
    # ~4,200 abandonments: standard error ~1.5%; allow 5% (about 3.3 standard errors)
    assert est.mean_patience_seconds == pytest.approx(150.0, rel=0.05)
    assert est.fit_ok


def test_by_channel_on_bank_data_if_present() -> None:
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "technion_anonbank_1999_01_calls.csv"
    if not path.exists():
        pytest.skip("shared data not present")
    import pandas as pd

    df = pd.read_csv(path)
    out = estimate_patience_by_channel(
        df["wait_seconds"].to_numpy(), df["outcome"].to_numpy(), df["call_type"].to_numpy()
    )
    ps = out["PS"]
    assert ps.finite and ps.ci_low < ps.mean_patience_seconds < ps.ci_high
    assert ps.n_calls == int((df["call_type"] == "PS").sum())


def test_calibrate_patience_recovers_the_truth_from_interval_history() -> None:
    """Expected abandonment under Erlang A at 150 s patience, fed back in, gives 150 s (to 0.1%)."""
    from scheduling import evaluate
    from scheduling.patience import calibrate_patience

    rng = np.random.default_rng(3)
    offered = rng.uniform(20, 60, 300)
    agents = np.round(offered * 300 / 900) + rng.integers(0, 3, 300)
    m = evaluate("erlang_a", agents, offered, 15, 300, patience_seconds=150.0)
    theta = calibrate_patience(offered, m.abandon_rate * offered, agents, 300, 15)
    assert theta == pytest.approx(150.0, rel=1e-3)
    assert calibrate_patience(offered, np.zeros_like(offered), agents, 300, 15) is None
