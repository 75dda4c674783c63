import numpy as np
import pandas as pd
import pytest

from analytics.mix import decompose, kitagawa, mix_series


def test_kitagawa_hand_example():
    # Two segments. Before: rates 50 / 150, shares 0.5 / 0.5 -> 100.
    # After: rates 45 / 150, shares 0.7 / 0.3 -> 76.5. Total change -23.5.
    # Rate part: (45-50)(0.5+0.7)/2 + 0 = -3.0
    # Composition part: (0.7-0.5)(50+45)/2 + (0.3-0.5)(150+150)/2 = 9.5 - 30 = -20.5
    split = kitagawa([50, 150], [0.5, 0.5], [45, 150], [0.7, 0.3])
    assert split.total == pytest.approx(-23.5)
    assert split.rate == pytest.approx(-3.0)
    assert split.composition == pytest.approx(-20.5)
    assert split.rate + split.composition == pytest.approx(split.total)


def test_mix_series_is_volume_weighted_and_the_split_is_all_composition():
    go = pd.Timestamp("2025-02-01")
    dates = pd.date_range("2025-01-01", periods=62, freq="D")
    post = dates >= go
    rows = []
    for segment, rate, share in (
        ("simple", 60.0, np.where(post, 0.75, 0.5)),
        ("complex", 140.0, np.where(post, 0.25, 0.5)),
    ):
        rows.append(
            pd.DataFrame({"date": dates, "segment": segment, "value": rate, "volume": 1000 * share})
        )
    mix = mix_series(pd.concat(rows), go)
    np.testing.assert_allclose(mix.aggregate[~post], 100.0)
    np.testing.assert_allclose(mix.aggregate[post], 80.0)
    np.testing.assert_allclose(mix.standardised, 100.0)  # rates at the pre-period mix
    split = decompose(mix, go)
    assert split.total == pytest.approx(-20.0)
    assert split.rate == pytest.approx(0.0, abs=1e-9)
    assert split.composition == pytest.approx(-20.0)


def _segmented(rate_change: float, post_share: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    go = pd.Timestamp("2025-03-03")
    dates = pd.date_range(go - pd.Timedelta(days=120), periods=200, freq="D")
    post = np.asarray(dates >= go)
    frames = []
    for segment, rate, share in (
        ("simple", 60.0, np.where(post, post_share, 0.5)),
        ("complex", 140.0, np.where(post, 1 - post_share, 0.5)),
    ):
        value = rate * np.where(post, 1 + rate_change, 1.0) * (1 + rng.normal(0, 0.02, 200))
        frames.append(
            pd.DataFrame(
                {
                    "pilot_id": "S",
                    "metric": "cycle_time",
                    "date": dates,
                    "group": "treatment",
                    "unit": "",
                    "segment": segment,
                    "value": value,
                    "volume": 1000 * share,
                }
            )
        )
    return pd.concat(frames)


@pytest.mark.parametrize(
    ("rate_change", "post_share", "verdict", "mix_shift_fails"),
    [(0.0, 0.75, "mirage", True), (-0.2, 0.55, "real", False), (-0.2, 0.75, "real", False)],
)
def test_mix_shift_check_separates_rates_from_mix(
    rate_change, post_share, verdict, mix_shift_fails
):
    from synth import catalog, empty_thresholds

    from analytics.portfolio import analyze_portfolio

    pilots = pd.DataFrame([{"pilot_id": "S", "go_live": pd.Timestamp("2025-03-03")}])
    (result,) = analyze_portfolio(
        _segmented(rate_change, post_share), pilots, catalog(), empty_thresholds()
    )
    effect = result.metrics[0]
    check = next(c for c in effect.checks if c.name == "mix_shift")
    assert check.applicable
    assert (not check.passed) == mix_shift_fails
    assert effect.verdict == verdict
    assert effect.rate_effect_pct is not None and effect.mix_effect_pct is not None
    assert effect.rate_effect_pct == pytest.approx(100 * rate_change, abs=2.0)
