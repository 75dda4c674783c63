"""Short panels with many control units (issue 10): 3 pre- and 3 post-quarters against 20
control units is a published difference-in-differences design. It leans on the cross-section
(the placebo spread across the control units sets the interval), so it is estimated rather than
refused, and the result states the design's minimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synth import analyse_live, observation_rows

GO = pd.Timestamp("2024-07-01")


def _panel(seed: int, effect: float, n_units: int, n_pre: int = 3, n_post: int = 3):
    """Quarterly: every unit is its own level plus a shared quarter effect plus 3% noise; the
    pilot moves by `effect` (relative) from go-live."""
    rng = np.random.default_rng(seed)
    n = n_pre + n_post
    dates = pd.date_range(end=GO, periods=n_pre + 1, freq="QS")[:-1].append(
        pd.date_range(GO, periods=n_post, freq="QS")
    )
    post = np.arange(n) >= n_pre
    common = rng.normal(0, 0.05, n)
    pilot = f"short-{effect:+.2f}-{n_units}-{seed}"
    treated = 50 * (1 + common + rng.normal(0, 0.03, n)) * (1 + effect * post)
    rows = [observation_rows(pilot, "cycle_time", dates, treated)]
    for k in range(n_units):
        level = rng.uniform(30, 70)
        site = level * (1 + common + rng.normal(0, 0.03, n))
        rows.append(observation_rows(pilot, "cycle_time", dates, site, "control", f"state-{k}"))
    return rows


def _analyse(effect: float, seeds, n_units: int = 20, **kw):
    frames = [r for s in seeds for r in _panel(s, effect, n_units, **kw)]
    return analyse_live(frames, GO)


def test_three_quarters_each_side_with_twenty_controls_find_a_real_effect():
    results = _analyse(-0.25, range(10))
    for result in results:
        effect = result.metrics[0]
        assert effect.method in ("did", "synthetic_control")
        assert effect.verdict == "real", (result.pilot_id, effect.effect_pct, effect.reasons)
        assert effect.effect_pct == pytest.approx(-25, abs=6)
        enough = next(c for c in effect.checks if c.name == "insufficient_data")
        assert "With 20 control units" in enough.explanation
        assert "at least 2 pre-period and 1 post-period" in enough.explanation


def test_three_quarters_each_side_without_an_effect_are_not_called():
    results = _analyse(0.0, range(20))
    called = [r.pilot_id for r in results if r.metrics[0].verdict in ("real", "worse")]
    assert len(called) <= 2, called
    for result in results:
        effect = result.metrics[0]
        assert effect.effect_pct is not None
        assert result.pilot_id in called or effect.ci_low_pct < 0 < effect.ci_high_pct


def test_few_controls_keep_the_time_series_minimum():
    (result,) = _analyse(-0.25, range(1), n_units=4)
    effect = result.metrics[0]
    assert effect.verdict == "inconclusive" and effect.reasons == ("insufficient_data",)
    assert "Needs at least 6 pre-period and 2 post-period" in effect.checks[0].explanation


def test_the_shortest_accepted_panel_does_not_crash():
    (result,) = _analyse(-0.25, range(1), n_pre=2, n_post=1)
    effect = result.metrics[0]
    assert effect.method != "none" and effect.n_pre == 2 and effect.n_post == 1
    assert effect.ci_low_pct is None or effect.ci_low_pct <= effect.effect_pct
