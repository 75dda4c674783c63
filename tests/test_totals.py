"""Portfolio money totals: per currency, converted only at the user's rates, never across an
unknown currency."""

from __future__ import annotations

import pytest

from analytics.results import NetValue, PilotResult
from pilotproof.store.money import Rates
from pilotproof.totals import portfolio_value
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


def test_money_has_its_currency_and_separators():
    assert money(480_336.7, "EUR") == "EUR\u00a0480k"
    assert money(-1_250_000, "GBP") == "GBP\u00a0-1.25M"
    assert money(480_336.7, "EUR", full=True) == "EUR\u00a0480,337"
    assert money(None, "EUR") == "n/a" and money(950) == "950"


def test_a_mirage_cause_puts_the_specific_one_first():
    assert causes(("noise", "seasonality")) == "season, within normal variation"
    assert causes(("mix_shift",)) == "mix shift: more cheap work, same rates"
    assert causes(("below_threshold",)) == ""
