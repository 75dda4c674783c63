"""Placebo-in-space with heavy tails and with several treated units (issue 10).

* The placebo bound: with J placebo effects, a treated effect is significant only beyond the
  ceil(0.95 (J + 1))-th smallest in size (a rank in the top 5% of the J + 1 units).
* A pilot that is the mean of k treated units is compared with means of k control units
  (Arkhangelsky et al. 2021, algorithm 4): single-unit placebos are about sqrt(k) times noisier
  than the pilot and would bury a real effect."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from synth import analyse_live, ar1, observation_rows

from analytics.did import PLACEBO_DRAWS, placebo_bound, placebo_draws
from pilotproof.analysis import to_json

GO = pd.Timestamp("2025-06-02")
N_PRE, N_POST = 60, 26


def test_placebo_bound_is_the_order_statistic_a_five_percent_rank_needs():
    sizes = np.arange(1.0, 20.0)  # 19 placebos: only beyond the largest is a rank of 1 in 20
    assert placebo_bound(sizes) == 19.0
    assert placebo_bound(-sizes[::-1]) == 19.0  # sizes: the sign does not matter
    assert placebo_bound(np.arange(1.0, 19.0)) is None  # 18: no rank reaches 5%
    assert placebo_bound(np.arange(1.0, 40.0)) == 38.0  # 39: the second largest (2 of 40)
    assert placebo_bound(np.r_[np.arange(1.0, 20.0), np.nan]) is None


def test_placebo_groups_are_single_units_or_distinct_groups_of_k():
    assert placebo_draws(12, 1) == [(u,) for u in range(12)]
    groups = placebo_draws(12, 3)  # 220 possible: PLACEBO_DRAWS drawn
    assert len(groups) == len(set(groups)) == PLACEBO_DRAWS
    assert all(len(g) == 3 and len(set(g)) == 3 and max(g) < 12 for g in groups)
    assert groups == placebo_draws(12, 3)  # the same data, the same answer
    assert len(placebo_draws(9, 2)) == math.comb(9, 2)  # 36: every group
    # too few donors would remain, or the groups outnumber them: single units (conservative)
    assert placebo_draws(8, 4) == [(u,) for u in range(8)]


def _panel(seed: int, effect: float, n_treated: int, n_controls: int) -> list[pd.DataFrame]:
    """Weekly, 60 before and 26 after go-live: every site is a shared factor plus its own AR(1)
    noise (rho 0.6, sd 2 on a level near 40); the pilot runs on `n_treated` sites, each moving by
    `effect` at go-live, reported site by site."""
    rng = np.random.default_rng(seed)
    n = N_PRE + N_POST
    dates = pd.date_range(GO - pd.Timedelta(weeks=N_PRE), periods=n, freq="W-MON")
    post = np.arange(n) >= N_PRE
    common = ar1(rng, n, 0.5, 2.0)
    pilot = f"sites-{n_treated}-{effect:+.2f}-{seed}"
    rows = []
    for k in range(n_treated):
        site = rng.uniform(35, 45) * (1 + effect * post) + common + ar1(rng, n, 0.6, 2.0)
        rows.append(observation_rows(pilot, "cycle_time", dates, site, "treatment", f"t-{k}"))
    for k in range(n_controls):
        site = rng.uniform(35, 45) + common + ar1(rng, n, 0.6, 2.0)
        rows.append(observation_rows(pilot, "cycle_time", dates, site, "control", f"c-{k}"))
    return rows


def _analyse(effect: float, seeds: range, n_treated: int = 8, n_controls: int = 24):
    return analyse_live([r for s in seeds for r in _panel(s, effect, n_treated, n_controls)], GO)


def test_a_mean_of_eight_sites_is_compared_with_means_of_eight_control_sites():
    # a 5% fall on each of 8 sites: the mean's noise is about a third of one site's; against
    # single control sites as placebos (the spread of one site) 4 of these 6 were within noise
    # (intervals 8 to 15 points wide; the oracle's is 4.7)
    results = _analyse(-0.05, range(6))
    for result in results:
        effect = result.metrics[0]
        assert "noise" not in effect.reasons, (result.pilot_id, effect.effect_pct, effect.reasons)
        assert effect.placebo_group_units == 8 and effect.placebo_units >= 90
    covered = [r.metrics[0].ci_low_pct < -5 < r.metrics[0].ci_high_pct for r in results]
    assert sum(covered) >= 5, [(r.metrics[0].ci_low_pct, r.metrics[0].ci_high_pct) for r in results]
    metric = to_json(results[:1])["pilots"][0]["metrics"][0]
    assert metric["placebo_group_units"] == 8
    check = next(c for c in results[0].metrics[0].checks if c.name == "control_moved")
    assert "The pilot is the mean of 8 units" in check.explanation


def test_a_null_mean_of_sites_is_not_called_against_groups_of_sites():
    results = _analyse(0.0, range(20))
    called = [r.pilot_id for r in results if r.metrics[0].verdict in ("real", "worse")]
    assert len(called) <= 2, called  # 5% of 20 is 1; 2 allows for the draw
    widths = [r.metrics[0].ci_high_pct - r.metrics[0].ci_low_pct for r in results]
    # the oracle: the post-minus-pre mean gap of 8 treated against 24 control sites, each AR(1)
    # with rho 0.6 and sd 2 (long-run sd 2 / 0.4 = 5) on a level near 40, in % of the level
    long_run = 2.0 / (1 - 0.6)
    per_site = long_run * math.sqrt(1 / N_POST + 1 / N_PRE)
    oracle = 2 * 1.96 * per_site * math.sqrt(1 / 8 + 1 / 24) / 40 * 100
    assert np.median(widths) <= 2.5 * oracle, (np.median(widths), oracle)


@pytest.mark.parametrize("n_treated", [1])
def test_one_treated_site_keeps_single_unit_placebos(n_treated):
    (result,) = _analyse(-0.15, range(1), n_treated=n_treated, n_controls=12)
    effect = result.metrics[0]
    assert effect.placebo_group_units == 1 and effect.placebo_units == 12
