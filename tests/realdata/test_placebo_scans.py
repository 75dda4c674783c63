"""Placebo go-lives on long real series with no intervention (`cases.PLACEBO_SERIES`): every
verdict of `real` there is a false positive.

Each fake go-live is read twice, once with the metric lower-is-better and once higher-is-better,
so both tails are tested. A 95% interval leaves 2.5% in each tail, so the nominal false-`real`
rate is at most 2.5% per direction (less, as `real` also needs every mirage check to pass).
The bound asserted here is 5%, per frequency: a loose bound, as a finite scan of a few hundred
verdicts whose post windows sit on the same few series is noisy (with n = 300 and a true rate of
2.5%, the binomial standard error alone is 0.9 points) and neighbouring windows are correlated.
`bench/realdata.py` prints the rates, false `worse` too, by frequency and series."""

from __future__ import annotations

import pandas as pd
import pytest

from .cases import PLACEBO_SERIES, WINDOWS, placebo_rates, placebo_scan

FALSE_REAL_BOUND = 0.05
# False `worse` is the same error in the other tail (a pilot blamed for a deterioration it did
# not cause). Its nominal rate is also 2.5%; measured 2.4 / 6.8 / 6.3% (D / W / M) since a model
# that sets an end-of-pre spell aside is backtested as far ahead as it forecasts and backtests
# borrow no season from the data they test (5.5 / 7.9 / 8.3% before). The bound holds that
# gain; the nominal rate is not met yet.
FALSE_WORSE_BOUND = 0.07
pytestmark = pytest.mark.slow  # about 5-20 s per frequency


@pytest.mark.parametrize("freq", list(WINDOWS))
def test_placebo_go_lives_are_rarely_real_or_worse(freq):
    series = [p for p in PLACEBO_SERIES if p.freq == freq]
    assert len(series) >= 2, f"at least two real series per frequency ({freq})"
    scans = pd.concat([placebo_scan(p) for p in series], ignore_index=True)
    assert len(scans) >= 150, f"too few placebo verdicts for {freq}: {len(scans)}"
    rates = placebo_rates(scans).set_index("freq").loc[freq]
    false_real = scans[scans["verdict"] == "real"]
    assert rates["real_rate"] <= FALSE_REAL_BOUND, (
        f"{freq}: {rates['real']} of {rates['n']} placebo verdicts are real "
        f"({rates['real_rate']:.1%} > {FALSE_REAL_BOUND:.0%}); "
        f"worse {rates['worse_rate']:.1%}; "
        + ", ".join(
            f"{r.series}@{r.go_live.date()} {r.effect_pct:+.1f}%" for r in false_real.itertuples()
        )
    )
    assert rates["worse_rate"] <= FALSE_WORSE_BOUND, (
        f"{freq}: {rates['worse']} of {rates['n']} placebo verdicts are worse "
        f"({rates['worse_rate']:.1%} > {FALSE_WORSE_BOUND:.0%})"
    )


# Where the nominal rate is met, hold it: weekly (428 verdicts) since the structural check
# (`analytics.structural`: a significant change read against a local-level model's interval
# too) 0.9% false real and 0.9% false worse, from 3.3% and 2.6%; all frequencies together
# 1.6% and 1.6%, from 2.7% and 2.5%. Monthly (3.3%, 3.0%) is not yet within 2.5%: El Nino's
# warm phases and CO2's growth spurts are real events in a series called eventless.
NOMINAL = 0.025


def test_weekly_and_all_placebo_go_lives_are_within_the_nominal_rate():
    scans = pd.concat([placebo_scan(p) for p in PLACEBO_SERIES], ignore_index=True)
    rates = placebo_rates(scans).set_index("freq")
    for freq in ("W", "all"):
        row = rates.loc[freq]
        assert row["real_rate"] <= NOMINAL and row["worse_rate"] <= NOMINAL, (freq, row.to_dict())
