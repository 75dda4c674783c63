"""Placebo-in-space inference for control groups (issue 10): each control unit analysed as if
it had gone live gives the spread the choice of controls alone produces, the treated unit's
rank among them and a permutation p-value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synth import analyse_live, ar1, observation_rows

from pilotproof.analysis import to_json

GO = pd.Timestamp("2025-06-02")
N_PRE, N_POST = 60, 26


def _panel(seed: int, effect: float, n_units: int = 15) -> list[pd.DataFrame]:
    """Weekly, 60 weeks before and 26 after go-live: every unit (the pilot and its controls)
    is a shared factor plus a persistent unit-level AR(1) (rho 0.97), so each gap wanders for
    months, the way sites drift apart; the pilot moves by `effect` at go-live."""
    rng = np.random.default_rng(seed)
    n = N_PRE + N_POST
    dates = pd.date_range(GO - pd.Timedelta(weeks=N_PRE), periods=n, freq="W-MON")
    post = np.arange(n) >= N_PRE
    common = ar1(rng, n, 0.5, 2.0)
    pilot = f"panel-{effect:+.2f}-{seed}"
    treated = 40 * (1 + effect * post) + common + ar1(rng, n, 0.97, 1.0)
    rows = [observation_rows(pilot, "cycle_time", dates, treated)]
    for k in range(n_units):
        site = rng.uniform(30, 50) + common + ar1(rng, n, 0.97, 1.0)
        rows.append(observation_rows(pilot, "cycle_time", dates, site, "control", f"site-{k}"))
    return rows


def _analyse(effect: float, seeds: range, n_units: int = 15):
    return analyse_live([r for s in seeds for r in _panel(s, effect, n_units)], GO)


def test_wandering_controls_do_not_make_a_null_pilot_significant():
    # the gap model's own interval alone called 9 of 40 such null pilots `real` or `worse`
    results = _analyse(0.0, range(20))
    called = [r.pilot_id for r in results if r.metrics[0].verdict in ("real", "worse")]
    assert len(called) <= 2, called
    assert all(r.decision != "scale" for r in results)


def test_a_real_effect_ranks_first_among_the_placebo_units():
    results = _analyse(-0.15, range(10))
    for result in results:
        effect = result.metrics[0]
        assert effect.verdict == "real", (result.pilot_id, effect.effect_pct, effect.reasons)
        assert effect.placebo_units == 15 and effect.placebo_rank <= 3
        assert effect.permutation_p == pytest.approx(effect.placebo_rank / 16)
        assert effect.rmspe_ratio > 1
    # a wandering placebo unit can outrank a real effect now and then, not usually
    assert sum(r.metrics[0].placebo_rank == 1 for r in results) >= 8
    metric = to_json(results[:1])["pilots"][0]["metrics"][0]
    assert metric["placebo_rank"] == 1 and metric["permutation_p"] == pytest.approx(1 / 16)
    assert metric["placebo_units"] == 15 and metric["rmspe_ratio"] > 1


def test_a_null_pilot_ranks_among_its_placebos():
    ranks = [r.metrics[0].placebo_rank for r in _analyse(0.0, range(20))]
    # uniform on 1..16 under the null: the mean rank is 8.5; 20 draws put it within 6 to 11
    assert 6 <= np.mean(ranks) <= 11, ranks


def test_too_few_controls_for_a_permutation_say_so_with_none():
    (result,) = _analyse(-0.15, range(1), n_units=3)
    effect = result.metrics[0]
    assert effect.placebo_units is None and effect.permutation_p is None
    assert to_json([result])["pilots"][0]["metrics"][0]["permutation_p"] is None


def test_the_control_check_says_what_the_inference_rests_on():
    (many,) = _analyse(-0.15, range(1))
    check = next(c for c in many.metrics[0].checks if c.name == "control_moved")
    assert "Each of the 15 control units analysed as if it had gone live" in check.explanation
    assert "ranks 1 of 16 (permutation p = 0.06)" in check.explanation
    (one,) = _analyse(-0.15, range(1), n_units=1)
    check = next(c for c in one.metrics[0].checks if c.name == "control_moved")
    assert "With one control unit, the interval assumes" in check.explanation
    assert "exchangeable" in check.explanation
