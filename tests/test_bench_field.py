"""The field benchmark's generator holds its own truth (`bench/field/`): its oracle interval
covers the true effect about 95% of the time under the generator's model, each family's true
effect is the one its README states, and the files it writes follow the README's input contract.

Nothing here runs the engine: the engine's accuracy is measured by `bench.field.score`, never
asserted in a test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.field import generate
from bench.field.generate import FAMILIES


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Small GLS solves: several BLAS threads on two shared cores only fight (40x slower)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scipy's stack here
        yield
        return
    with threadpool_limits(1):
        yield


#: Families whose oracle is cheap enough to draw 200 times in a test, one per kind of model:
#: relative levels, business days, irregular days, heavy tails, Poisson, a rate in points, a
#: log-scale season with growth, a log gap against controls, a variance change.
COVERAGE_FAMILIES = [
    "heavy_tail_effect",
    "irregular_reporting",
    "small_counts_effect",
    "rework_guardrail",
    "seasonal_growth_effect",
    "noisy_control_real",
    "org_wide_controls",
    "variance_change",
    "midweek_golive_weekly",
]


@pytest.mark.parametrize("family", COVERAGE_FAMILIES)
def test_oracle_interval_covers_about_95_percent(family: str) -> None:
    draws = [FAMILIES[family](seed) for seed in range(200)]
    covered = []
    for p in draws:
        assert p.oracle is not None
        lo, hi = p.oracle.interval()
        covered.append(lo <= p.true_effect <= hi)
    # 200 draws: the binomial sd at 0.95 is 0.015; 0.90-0.99 is about three of them
    assert 0.90 <= np.mean(covered) <= 0.99, (family, np.mean(covered))


def test_oracle_sd_is_the_spread_of_its_estimate() -> None:
    """The exact variance a' cov a against the empirical spread of the oracle's estimate."""
    draws = [FAMILIES["small_counts_null"](seed) for seed in range(300)]
    # same design for seeds of one parity; their half-widths differ by the window lengths
    errors = [
        (p.oracle.estimate() - p.true_effect) / p.truth_record()["oracle_halfwidth_pct"]
        for p in draws
        if p.oracle is not None
    ]
    # (estimate - truth) / half-width has sd 1 / 1.96
    assert abs(np.std(errors) * 1.96 - 1.0) < 0.12


@pytest.mark.parametrize(
    ("family", "effect", "scale"),
    [
        ("seasonal_growth_effect", -12.0, "relative"),
        ("seasonal_growth_null", 0.0, "relative"),
        ("business_days", -15.0, "relative"),
        ("heavy_tail_effect", -15.0, "relative"),
        ("heavy_tail_null", 0.0, "relative"),
        ("outage_days_null", 0.0, "relative"),
        ("t3_noise_effect", -15.0, "relative"),
        ("irregular_reporting", -15.0, "relative"),
        ("small_counts_effect", -30.0, "relative"),
        ("small_counts_null", 0.0, "relative"),
        ("rework_guardrail", 3.0, "points"),
        ("rework_null", 0.0, "points"),
        ("org_wide_controls", 0.0, "relative"),
        ("noisy_control_real", -12.0, "relative"),
        ("small_effect_long", -5.0, "relative"),
        ("variance_change", 0.0, "relative"),
        ("old_shift_effect", -15.0, "relative"),
        ("short_post_weekly", -25.0, "relative"),
        ("month_end_null", 0.0, "relative"),
    ],
)
def test_constant_effects_are_what_the_readme_says(family: str, effect: float, scale: str) -> None:
    for seed in range(5):
        p = FAMILIES[family](seed)
        assert p.true_effect == pytest.approx(effect, abs=1e-9)
        assert p.effect_scale == scale


def test_ramp_fade_and_blended_weeks() -> None:
    for seed in range(5):
        ramp = FAMILIES["rollout_6w"](seed)
        # 0 to -20% over 42 days then flat, over a 90-150 day window: between -20 and -13.3
        n_post = ramp.params["n_post"]
        expected = -20.0 * (1 - 21.0 / n_post)  # a day-of-week weighting moves it a little
        assert ramp.true_effect == pytest.approx(expected, abs=0.3)
        fade = FAMILIES["novelty_fade"](seed)
        # amp (1 - k/T)^2 with T half the window: a sixth of amp on average, nothing after T
        assert fade.truth == "none"
        assert fade.true_effect == pytest.approx(-100 * fade.params["amp"] / 6, abs=0.5)
        week = FAMILIES["midweek_golive_weekly"](seed)
        if week.params["label"] == "monday":
            assert week.true_effect == pytest.approx(-15.0)
        else:  # the first post week holds go-live: 4 or 5 of its 7 days treated
            share = (7 - week.params["go_live_weekday"]) / 7
            n = week.params["n_post"]
            assert week.true_effect == pytest.approx(-15.0 * (n - 1 + share) / n)


def test_truth_labels_agree_with_the_effect_sign() -> None:
    for family, make in FAMILIES.items():
        for seed in range(3):
            p = make(seed)
            if p.truth == "improved":
                assert p.true_effect < 0, family  # every metric here is lower-is-better
            elif p.truth == "worsened":
                assert p.true_effect > 0, family
            else:
                assert p.truth == "none"
                assert family == "novelty_fade" or p.true_effect == 0.0, family


def test_written_files_follow_the_input_contract(tmp_path: Path) -> None:
    for family in FAMILIES:
        folder = tmp_path / family
        folder.mkdir()
        pilots = generate.write_portfolio(family, range(3), folder)
        metrics = pd.read_csv(folder / "metrics.csv")
        registry = pd.read_csv(folder / "pilots.csv")
        assert list(metrics.columns[:6]) == ["pilot_id", "date", "metric", "value", "group", "unit"]
        assert set(metrics["group"]) <= {"treatment", "control"}
        assert (metrics["value"] >= 0).all()
        rates = metrics[metrics["metric"] == "rework_rate"]["value"]
        assert (rates <= 1).all()
        dates = pd.to_datetime(metrics["date"])
        assert dates.max() < pd.Timestamp("2026-11-01")
        assert not metrics.duplicated(["pilot_id", "date", "metric", "group", "unit"]).any()
        assert list(registry["pilot_id"]) == [p.pilot_id for p in pilots]
        for p in pilots:
            own = metrics[(metrics["pilot_id"] == p.pilot_id) & (metrics["metric"] == p.metric)]
            treated = own[own["group"] == "treatment"]
            go = pd.Timestamp(p.go_live)
            assert (pd.to_datetime(treated["date"]) < go).sum() >= 3, family
            assert (pd.to_datetime(treated["date"]) >= go).sum() >= 3, family
            assert isinstance(p.go_live, dt.date)


def test_business_days_skip_weekends_and_holidays() -> None:
    p = FAMILIES["business_days"](0)
    days = pd.to_datetime(p.rows["date"])
    assert (days.dt.day_of_week < 5).all()
    off = generate.holidays(2024) | generate.holidays(2025) | generate.holidays(2026)
    assert not set(p.rows["date"]) & off
