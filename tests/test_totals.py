"""Portfolio money totals: per currency, converted only at the user's rates, never across an
unknown currency."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analytics.results import MetricEffect, NetValue, PilotResult
from pilotproof.store.money import Rates
from pilotproof.totals import net_value_words, noise_interval, portfolio_value
from pilotproof.words import causes, money


def _pilot(pid: str, net: float, half: float) -> PilotResult:
    value = NetValue("cost_per_transaction", net + 100, 100, net, net - half, net + half)
    return PilotResult(pid, "scale", (), ("cost_per_transaction",), (), (), net_value=value)


RESULTS = [_pilot("A", 300_000, 30_000), _pilot("B", 100_000, 40_000), _pilot("C", 50_000, 0)]


def test_totals_are_per_currency_without_rates():
    value = portfolio_value(RESULTS, {"A": "EUR", "B": "EUR", "C": "GBP"}, Rates(None, {}))
    assert [(t.currency, t.net, t.pilots) for t in value.per_currency] == [
        ("EUR", 400_000, 2), ("GBP", 50_000, 1),
    ]  # fmt: skip
    eur = value.per_currency[0]
    assert eur.high - eur.net == pytest.approx(50_000)  # 30k and 40k in quadrature
    assert value.converted is None and value.headline() == "EUR\u00a0400k · GBP\u00a050k"


def test_one_total_at_the_users_rates():
    rates = Rates("GBP", {"EUR": 0.5})
    value = portfolio_value(RESULTS, {"A": "EUR", "B": "EUR", "C": "GBP"}, rates)
    assert value.converted.net == pytest.approx(250_000)
    assert value.converted.high - value.converted.net == pytest.approx(25_000)
    assert value.rates_text() == "at your rates 1 EUR = 0.5 GBP"
    assert value.figures()[0][0] == "Net value a year (in GBP)"
    assert [label for label, _ in value.figures("Scaling 2 pilots, a year")] == [
        "Scaling 2 pilots, a year (in GBP)", "Scaling 2 pilots, a year (EUR)",
        "Scaling 2 pilots, a year (GBP)",
    ]  # fmt: skip


def test_a_missing_rate_or_an_unknown_currency_is_never_added():
    missing = portfolio_value(
        RESULTS, {"A": "EUR", "B": "USD", "C": "GBP"}, Rates("GBP", {"EUR": 0.8})
    )
    assert missing.converted is None and len(missing.per_currency) == 3
    unknown = portfolio_value(RESULTS, {"A": "GBP", "C": "GBP"}, Rates("GBP", {}))
    assert unknown.converted is None
    assert unknown.per_currency[-1].currency is None
    assert unknown.per_currency[-1].text() == "100k (currency not set)"


def _within_noise() -> PilotResult:
    """A pilot to stop whose change on cost per transaction is within noise: a gross value of
    GBP -63k a year with a 95% interval of -148k to +22k, and GBP 190k a year of running cost
    (the sample's MF-DISPATCH)."""
    value = NetValue("cost_per_transaction", -63_000, 190_000, -253_000, -338_000, -168_000)
    return PilotResult("D", "stop", (), ("cost_per_transaction",), (), (), net_value=value)


def test_a_gross_value_within_noise_is_not_booked_into_the_totals():
    """Issue 13: a Stop pilot's point gross value from a change within noise was added into the
    portfolio's value. It is left out of every sum, and the totals say how many were."""
    noisy = _within_noise()
    assert noise_interval(noisy) == pytest.approx((-148_000, 22_000))
    value = portfolio_value([*RESULTS, noisy], {"A": "EUR", "B": "EUR", "C": "GBP", "D": "GBP"},
                            Rates(None, {}))  # fmt: skip
    assert [(t.currency, t.net, t.pilots) for t in value.per_currency] == [
        ("EUR", 400_000, 2), ("GBP", 50_000, 1),
    ]  # fmt: skip
    assert value.noise == 1
    assert value.noise_words() == "1 within noise, not added."
    assert (
        noise_interval(RESULTS[0]) is None
        and portfolio_value(RESULTS, {}, Rates(None, {})).noise == 0
    )


def test_a_value_within_noise_reads_as_its_interval_and_its_running_cost():
    words = net_value_words(_within_noise(), "GBP")
    assert words == (
        "value within noise (GBP\u00a0-148k to +22k a year); running cost GBP\u00a0190k a year"
    )
    assert "-253k" not in words and "-63k" not in words  # no point booked as money
    assert net_value_words(RESULTS[0], "EUR") == "EUR\u00a0300k a year"


def _mix_shift(**changes: object) -> MetricEffect:
    """A cost per transaction down 26%, 25.5 points of it from the mix of work shifting."""
    effect = MetricEffect(
        pilot_id="O", metric="cost_per_transaction", direction="lower_is_better", kind="value",
        verdict="mirage", reasons=("mix_shift",), method="its", frequency="W", n_pre=50,
        n_post=20, effect_pct=-25.9, ci_low_pct=-28.4, ci_high_pct=-23.5, effect_abs=-1.0,
        ci_low_abs=-1.1, ci_high_abs=-0.9, mde_pct=3.2, baseline=4.0, threshold_pct=10.0,
        tolerance_pct=None, rate_effect_pct=-0.29, mix_effect_pct=-25.5,
    )  # fmt: skip
    return replace(effect, **changes)


def test_a_mix_shift_whose_rate_part_is_under_the_detectable_effect_is_within_noise():
    """The sample's NW-ORDERS: only the rate part of a mix shift (-0.29%, against a minimum
    detectable effect of 3.2%) is credited, a point with no interval of its own."""
    effect = _mix_shift()
    value = NetValue("cost_per_transaction", 9_200, 117_600, -108_400, -109_200, -107_500)
    result = PilotResult("O", "stop", ("no_real_value",), ("cost_per_transaction",), (),
                         (effect,), net_value=value)  # fmt: skip
    low, high = noise_interval(result)
    per_pct = 9_200 / 0.29
    assert (low, high) == pytest.approx((9_200 - 3.2 * per_pct, 9_200 + 3.2 * per_pct))
    assert low < 0 < high
    assert net_value_words(result, "EUR").startswith("value within noise (EUR\u00a0-92k to +111k")
    clear = replace(effect, rate_effect_pct=-10.0, mix_effect_pct=-15.9)  # told from noise
    assert noise_interval(replace(result, metrics=(clear,))) is None


def test_a_mix_shift_with_its_rate_parts_own_interval_reads_it_as_every_pilot_does():
    """With an interval of its own, the rate part is within noise when its money interval
    (`decision.net_value`'s, which the JSON and the workbook give too) holds zero, and the app
    and exports say that interval, not one sized on the minimum detectable effect."""
    from analytics.decision import net_value

    effect = _mix_shift(
        frequency="D", n_pre=180, n_post=180, rate_ci_low_pct=-1.14, rate_ci_high_pct=0.56
    )
    value = net_value([effect], monthly_cost=9_800, annual_volume=237_000)
    result = PilotResult("O", "stop", ("no_real_value",), ("cost_per_transaction",), (),
                         (effect,), net_value=value)  # fmt: skip
    low, high = noise_interval(result)
    assert (low, high) == pytest.approx((value.ci_low + 117_600, value.ci_high + 117_600))
    per_pct = value.annual_gross / -0.29
    assert (low, high) == pytest.approx(sorted((-1.14 * per_pct, 0.56 * per_pct)))
    assert low < 0 < value.annual_gross < high
    assert net_value_words(result, "EUR").startswith("value within noise (EUR\u00a0-")


def test_money_has_its_currency_and_separators():
    assert money(480_336.7, "EUR") == "EUR\u00a0480k"
    assert money(-1_250_000, "GBP") == "GBP\u00a0-1.25M"
    assert money(480_336.7, "EUR", full=True) == "EUR\u00a0480,337"
    assert money(None, "EUR") == "n/a" and money(950) == "950"


def test_a_mirage_cause_puts_the_specific_one_first():
    assert causes(("noise", "seasonality")) == "season, within normal variation"
    assert causes(("mix_shift",)) == "mix shift: more cheap work, same rates"
    assert causes(("below_threshold",)) == ""
