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
