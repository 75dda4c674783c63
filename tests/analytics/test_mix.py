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
    # the rate part has its own interval around it, from the segment rates' noise
    low, high = effect.rate_ci_low_pct, effect.rate_ci_high_pct
    assert low is not None and high is not None
    assert low < effect.rate_effect_pct < high
    # the true rate part: the rates' change at the average of the two mixes, in % of the
    # pre-period level (rates 60 and 140, half and half before)
    weights = np.array([(0.5 + post_share) / 2, (0.5 + 1 - post_share) / 2])
    truth = 100 * rate_change * float(weights @ [60.0, 140.0]) / 100.0
    assert low < truth < high


def _noisy_mix(rng: np.random.Generator, rho: float, rate_change: float) -> tuple:
    """Two segments whose daily rates carry AR(1) noise (half of it shared by both on the same
    day), a weekday volume pattern, and a mix shift at go-live (simple orders 52% -> 74%)."""
    dates = pd.date_range("2025-01-01", periods=300, freq="D")
    go = dates[180]
    post = np.asarray(dates >= go)

    def ar1() -> np.ndarray:
        shocks, out = rng.normal(size=len(dates)), np.zeros(len(dates))
        for t in range(1, len(dates)):
            out[t] = rho * out[t - 1] + shocks[t]
        return out

    shared = ar1()
    weekday = np.array([1.1, 1.1, 1.0, 1.0, 0.9, 0.3, 0.2])[dates.day_of_week]
    frames = []
    segments = (("simple", 3.1, 0.52, 0.74), ("complex", 12.4, 0.48, 0.26))
    for segment, rate, before, after in segments:
        noise = rate * 0.05 * np.sqrt(0.5) * (shared + ar1())
        value = rate * np.where(post, 1 + rate_change, 1.0) + noise
        volume = rng.poisson(200 * np.where(post, after, before) * weekday) + 1
        frames.append(pd.DataFrame({"date": dates, "segment": segment, "value": value,
                                    "volume": volume.astype(float)}))  # fmt: skip
    return mix_series(pd.concat(frames), go), go


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_the_rate_parts_interval_covers_the_truth_as_often_as_it_says(rho):
    """Compare showed a mix shift's same-mix rate part as '-0.3% to -0.3%': a point, no
    interval. Its standard error (the delta method with the mix held as observed, the segment
    rates' autocorrelated noise) gives a 95% interval that covers the true rate part (zero here,
    however far the mix moved) about 95% of the time."""
    from analytics.levels import critical_t

    rng = np.random.default_rng(7)
    covered = []
    for _ in range(200):
        mix, go = _noisy_mix(rng, rho, 0.0)
        split = decompose(mix, go)
        assert split.composition < -1.0  # the mix moved the average a lot
        assert split.rate_se is not None and split.rate_se > 0 and split.rate_df > 10
        covered.append(abs(split.rate) <= critical_t(split.rate_df) * split.rate_se)
    assert 0.90 <= np.mean(covered) <= 0.99


def test_a_period_too_short_to_measure_its_noise_gives_no_rate_interval():
    dates = pd.date_range("2025-01-01", periods=40, freq="D")
    go = dates[-2]  # two post dates for two segments: no noise left to measure
    rows = pd.concat(
        pd.DataFrame({"date": dates, "segment": s, "value": v, "volume": 10.0})
        for s, v in (("a", 1.0), ("b", 2.0))
    )
    split = decompose(mix_series(rows, go), go)
    assert split is not None and split.rate_se is None and split.rate_df is None


def test_rates_without_noise_give_no_rate_interval():
    go = pd.Timestamp("2025-02-01")
    dates = pd.date_range("2025-01-01", periods=62, freq="D")
    rows = pd.concat(
        pd.DataFrame({"date": dates, "segment": s, "value": v, "volume": 10.0})
        for s, v in (("a", 1.0), ("b", 2.0))
    )
    split = decompose(mix_series(rows, go), go)
    assert split is not None and split.rate == pytest.approx(0.0, abs=1e-12)
    assert split.rate_se is None
