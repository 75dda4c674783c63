"""The portfolio's annualised net value, never added across currencies without a rate.

Each pilot's net value is in its own currency (its company's, or its own). Totals are kept
per currency; only when the user has chosen a reporting currency and entered a rate for every
currency involved is there one converted total, shown with the rates it used. A pilot whose
currency is not known is its own group: it is never added to anything.

A gross value read from a change within noise is not money: `noise_interval` says when a
pilot's change cannot be told from zero, and then the totals leave the pilot out and the words
give the interval instead of a point (`net_value_words`); the machine columns (JSON, XLSX) keep the
estimate as it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from analytics.results import MetricEffect, PilotResult
from pilotproof.words import (
    NO_CURRENCY,
    WHERE_TO_ADD_COST,
    effect_change_words,
    money,
    no_value_words,
)


class Rates(Protocol):
    """The reporting currency and the user's rates (`pilotproof.store.money.Rates`), named
    by shape so the exports, which never touch the store, can total money the same way."""

    @property
    def reporting(self) -> str | None: ...

    @property
    def rates(self) -> Mapping[str, float]: ...

    def convertible(self, currencies: set[str]) -> bool: ...


@dataclass(frozen=True)
class Total:
    """A sum of annualised net values in one currency (None: not known), with its 95%
    interval (the pilots' half-widths added in quadrature, as independent errors)."""

    currency: str | None
    net: float
    low: float
    high: float
    pilots: int

    def text(self) -> str:
        """'EUR 372k', or '372k (currency not set)'."""
        amount = money(self.net, self.currency)
        return amount if self.currency else f"{amount} ({NO_CURRENCY})"

    def interval(self) -> str:
        """'EUR 310k to 434k (95%)': short enough for a laptop's figure card."""
        return f"{money(self.low, self.currency)} to {money(self.high)} (95%)"


@dataclass(frozen=True)
class PortfolioValue:
    """The totals per currency (known currencies first, alphabetically) and, when the rates
    allow it, one total in the reporting currency with the rates used."""

    per_currency: tuple[Total, ...]
    converted: Total | None = None
    rates_used: tuple[tuple[str, float], ...] = ()
    reporting: str | None = None
    noise: int = 0  # pilots with a net value left out: their gross value is within noise

    def noise_words(self) -> str:
        """'2 within noise, not added.' (pilots whose gross value cannot be told from zero), or
        '' when none was left out."""
        return f"{self.noise} within noise, not added." if self.noise else ""

    def headline(self) -> str:
        """What the headline figure shows: the converted total, the one currency's total, or
        each currency's total side by side ('EUR 372k · GBP 135k'); 'n/a' without any."""
        if self.converted is not None:
            return self.converted.text()
        if not self.per_currency:
            return "n/a"
        return " · ".join(t.text() for t in self.per_currency)

    def figures(self, label: str = "Net value a year") -> list[tuple[str, Total]]:
        """The headline figures, (label, total): the converted total first when there is
        one, then each currency's; one `label` when there is one currency."""
        if len(self.per_currency) == 1 and self.converted is None:
            return [(label, self.per_currency[0])]
        out = []
        if self.converted is not None:
            out.append((f"{label} (in {self.reporting})", self.converted))
        for total in self.per_currency:
            out.append((f"{label} ({total.currency or NO_CURRENCY})", total))
        return out

    @property
    def pilots(self) -> int:
        """How many pilots' net values the totals hold."""
        return sum(t.pilots for t in self.per_currency)

    def detail(self) -> str:
        """The line under the figures: the rates a converted total used, or that amounts in
        different currencies were not added; '' with one currency."""
        if self.converted is not None:
            return f"The total in {self.reporting} is {self.rates_text()} (Settings)."
        if len(self.per_currency) > 1:
            return (
                "Not added across currencies: enter a reporting currency and its rates in "
                "Settings to see one total."
            )
        return ""

    def rates_text(self) -> str:
        """'at your rates 1 EUR = 0.86 GBP, 1 USD = 0.79 GBP', or '' when nothing was
        converted."""
        if self.converted is None or not self.rates_used:
            return ""
        pairs = ", ".join(f"1 {c} = {r:g} {self.reporting}" for c, r in self.rates_used)
        return f"at your rates {pairs}"


def gross_interval(result: PilotResult) -> tuple[float, float] | None:
    """The 95% interval of a pilot's annual gross value, in its currency, as the noise rule
    reads it (`noise_interval`); None without a net value (or with a non-finite one).

    The gross interval is the net value's plus the running cost (`analytics.decision.net_value`
    carries the effect's interval through the same formula; for a mix shift, which credits only
    its rate part, the rate part's own interval). A mix shift whose rate part has no interval of
    its own (`rate_ci_low_pct`) gets the credited gross value plus or minus the money its minimum
    detectable effect (`mde_pct`) would be worth.
    """
    net = result.net_value
    if net is None or not all(map(math.isfinite, (net.annual_gross, net.ci_low, net.ci_high))):
        return None
    mix = _mix_rate(result)
    if mix is not None:
        rate, mde = mix
        per_pct = abs(net.annual_gross / rate)  # money a 1% change in the rate part is worth
        return net.annual_gross - mde * per_pct, net.annual_gross + mde * per_pct
    return net.ci_low + net.annual_cost, net.ci_high + net.annual_cost


def _mix_rate(result: PilotResult) -> tuple[float, float] | None:
    """(rate part %, minimum detectable effect %) of a mix shift on the net value's metric whose
    rate part has no interval of its own; None otherwise (with one, the net value's interval
    carries it: `analytics.decision.net_value`)."""
    net = result.net_value
    effect = next((e for e in result.value_effects if net and e.metric == net.metric), None)
    if effect is None or "mix_shift" not in effect.reasons or _rate_interval(effect):
        return None
    rate, whole, mde = effect.rate_effect_pct, effect.effect_pct, effect.mde_pct
    return (rate, mde) if rate and whole and mde else None


def noise_interval(result: PilotResult) -> tuple[float, float] | None:
    """The 95% interval of a pilot's annual gross value (`gross_interval`, in its currency)
    when it holds zero, the change on its value metric being within noise; None when the gross
    value is told apart from zero (or there is no net value). A mix shift is within noise when
    its rate part is smaller than the minimum detectable effect."""
    interval = gross_interval(result)
    if interval is None:
        return None
    mix = _mix_rate(result)
    if mix is not None:
        return interval if abs(mix[0]) < mix[1] else None
    return interval if interval[0] <= 0.0 <= interval[1] else None


def booked(result: PilotResult) -> bool:
    """Whether a pilot's net value is booked as money: it has one and its gross value is told
    apart from zero (`noise_interval`). Only a booked value is drawn as a bar of money."""
    net = result.net_value
    return net is not None and math.isfinite(net.annual_net) and noise_interval(result) is None


def _rate_interval(effect: MetricEffect) -> bool:
    """Whether a mix shift's rate part has an interval of its own."""
    return effect.rate_ci_low_pct is not None and effect.rate_ci_high_pct is not None


def net_value_words(result: PilotResult, currency: str | None, *, full: bool = False) -> str:
    """A pilot's annualised net value as people read it, the one rule for the app and every
    export: 'EUR 480k a year'; a pilot to stop that loses money 'costs EUR 252k a year, net';
    a gross value within noise never booked as a point: 'value within noise (EUR -148k to
    +22k a year); running cost EUR 190k a year'. '' without a net value."""
    net = result.net_value
    if net is None or not math.isfinite(net.annual_net):
        return ""
    unknown = "" if currency else f" ({NO_CURRENCY})"
    if (noise := noise_interval(result)) is not None:
        low = money(noise[0], currency, full=full)
        high = ("+" if noise[1] >= 0 else "") + money(noise[1], full=full)
        cost = money(net.annual_cost, currency, full=full)
        return f"value within noise ({low} to {high} a year); running cost {cost} a year{unknown}"
    if result.decision == "stop" and net.annual_net < 0:
        # a pilot to stop saves nothing proven: what it is worth is what it costs
        text = f"costs {money(-net.annual_net, currency, full=full)} a year, net{unknown}"
    else:
        text = f"{money(net.annual_net, currency, full=full)} a year{unknown}"
    return text + money_source(result)


def money_source(result: PilotResult) -> str:
    """The metric a booked net value comes from, beside the money, when it is not the pilot's
    headline metric (a reason quoting cycle time -30% beside money from cost per transaction):
    ', from cost per transaction -27% (-29% to -25%)'; '' when the headline is that metric."""
    net = result.net_value
    head = result.headline
    if net is None or (head is not None and head.metric == net.metric):
        return ""
    effect = next((e for e in result.metrics if e.metric == net.metric), None)
    return f", from {effect_change_words(effect)}" if effect is not None else ""


def per_currency(amounts: Iterable[tuple[str | None, float | None]]) -> dict[str | None, float]:
    """(currency, amount) pairs summed per currency (None: not known), known currencies first
    alphabetically; an amount that is None or not finite is left out. Never one sum across
    currencies."""
    sums: dict[str | None, float] = {}
    for code, amount in amounts:
        if amount is not None and math.isfinite(amount):
            sums[code] = sums.get(code, 0.0) + float(amount)
    return {c: sums[c] for c in sorted(sums, key=lambda c: (c is None, c or ""))}


def amounts_words(sums: Mapping[str | None, float], *, full: bool = False) -> str:
    """`per_currency` sums in words, one amount per currency: 'GBP 462k + USD 144k' (every
    digit with `full`: 'EUR 14,500 + GBP 21,000'); an unknown currency says so; '' for none."""
    return " + ".join(
        money(amount, code, full=full) + ("" if code else f" ({NO_CURRENCY})")
        for code, amount in sums.items()
    )


def unbooked_words(pilots: Sequence[tuple[float | None, float | None, str | None]]) -> str:
    """The pilots without a net value among those counted, each (monthly cost, annual volume,
    currency), in words: 'the other 3 (value not in money: no cost per transaction): running
    them costs GBP 462k + USD 144k a year' (`no_value_words`; their running cost a year per
    currency); '' for none."""
    if not pilots:
        return ""
    why = {no_value_words(cost, volume) for cost, volume, _ in pilots}
    n = len(pilots)
    text = f"the other {n}" if n > 1 else "the other one"
    text += f" ({why.pop()})" if len(why) == 1 else " (no net value)"
    sums = per_currency((code, None if c is None else 12 * c) for c, _, code in pilots)
    if sums:
        text += f": running {'them' if n > 1 else 'it'} costs {amounts_words(sums)} a year"
    return text


WHERE_TO_ADD_MONTHLY_COST = WHERE_TO_ADD_COST.replace("them", "the monthly cost")


@dataclass(frozen=True)
class StopSavings:
    """What stopping the pilots to stop saves: their monthly running cost. `total` in words
    per currency ('EUR 9,800 + GBP 15,800', '' when none has cost data), `priced` pilots with
    a monthly cost of `pilots`, and `each` pilot_id -> its own ('saves GBP 15,800 a month',
    or 'no cost data')."""

    pilots: int
    priced: int
    total: str
    each: dict[str, str]

    def sentence(self) -> str:
        """'Stopping these 7 saves EUR 15,400 + GBP 15,800 a month in running cost (5 with
        cost data; 2 with no cost data).'; '' when there is nothing to stop."""
        if not self.pilots:
            return ""
        these = "this pilot" if self.pilots == 1 else f"these {self.pilots}"
        if not self.priced:
            return f"What stopping {these} saves: no cost data ({WHERE_TO_ADD_MONTHLY_COST})."
        unpriced = self.pilots - self.priced
        known = f" ({self.priced} with cost data; {unpriced} with no cost data)" if unpriced else ""
        return f"Stopping {these} saves {self.total} a month in running cost{known}."


def stop_savings(stopped: Iterable[tuple[str, float | None, str | None]]) -> StopSavings:
    """What stopping saves, from each pilot to stop as (pilot_id, monthly cost or None,
    currency): each one's monthly cost in its currency and their total per currency
    (`per_currency`), for the app's Stop list and the board exports alike."""
    each: dict[str, str] = {}
    costs: list[tuple[str | None, float | None]] = []
    for pilot_id, amount, code in stopped:
        costs.append((code, amount))
        each[pilot_id] = (
            "no cost data"
            if amount is None or not math.isfinite(amount)
            else f"saves {money(amount, code, full=True)}{'' if code else f' ({NO_CURRENCY})'}"
            " a month"
        )
    priced = sum(1 for words in each.values() if words != "no cost data")
    return StopSavings(len(each), priced, amounts_words(per_currency(costs), full=True), each)


def portfolio_value(
    results: Sequence[PilotResult], currencies: Mapping[str, str | None], rates: Rates
) -> PortfolioValue:
    """Total the pilots' net values per currency, and in the reporting currency when every
    currency involved has a rate. A pilot whose gross value is within noise
    (`noise_interval`) is left out: a point estimate that cannot be told from zero is not
    portfolio value."""
    groups: dict[str | None, list[tuple[float, float]]] = {}
    noise = 0
    for result in results:
        net = result.net_value
        if net is None or not math.isfinite(net.annual_net):
            continue
        if noise_interval(result) is not None:
            noise += 1
            continue
        half = (net.ci_high - net.ci_low) / 2.0
        half = half if math.isfinite(half) else 0.0
        groups.setdefault(currencies.get(result.pilot_id), []).append((net.annual_net, half))
    order = sorted(groups, key=lambda c: (c is None, c or ""))
    totals = tuple(_total(c, groups[c]) for c in order)
    known = {c for c in groups if c is not None}
    if not groups or None in groups or not rates.convertible(known) or rates.reporting is None:
        return PortfolioValue(totals, reporting=rates.reporting, noise=noise)
    factor = {c: 1.0 if c == rates.reporting else float(rates.rates[c]) for c in known}
    converted = _total(
        rates.reporting,
        [(net * factor[c], half * factor[c]) for c in known for net, half in groups[c]],
    )
    used = tuple((c, factor[c]) for c in sorted(known) if c != rates.reporting)
    return PortfolioValue(totals, converted, used, rates.reporting, noise)


def _total(currency: str | None, parts: list[tuple[float, float]]) -> Total:
    net = float(sum(n for n, _ in parts))
    half = math.sqrt(sum(h * h for _, h in parts))
    return Total(currency, net, net - half, net + half, len(parts))
