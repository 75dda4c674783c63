"""The portfolio's annualised net value, never added across currencies without a rate.

Each pilot's net value is in its own currency (its company's, or its own). Totals are kept
per currency; only when the user has chosen a reporting currency and entered a rate for every
currency involved is there one converted total, shown with the rates it used. A pilot whose
currency is not known is its own group: it is never added to anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from analytics.results import PilotResult
from pilotproof.words import NO_CURRENCY, money


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


def portfolio_value(
    results: Sequence[PilotResult], currencies: Mapping[str, str | None], rates: Rates
) -> PortfolioValue:
    """Total the pilots' net values per currency, and in the reporting currency when every
    currency involved has a rate."""
    groups: dict[str | None, list[tuple[float, float]]] = {}
    for result in results:
        net = result.net_value
        if net is None or not math.isfinite(net.annual_net):
            continue
        half = (net.ci_high - net.ci_low) / 2.0
        half = half if math.isfinite(half) else 0.0
        groups.setdefault(currencies.get(result.pilot_id), []).append((net.annual_net, half))
    order = sorted(groups, key=lambda c: (c is None, c or ""))
    totals = tuple(_total(c, groups[c]) for c in order)
    known = {c for c in groups if c is not None}
    if not groups or None in groups or not rates.convertible(known) or rates.reporting is None:
        return PortfolioValue(totals, reporting=rates.reporting)
    factor = {c: 1.0 if c == rates.reporting else float(rates.rates[c]) for c in known}
    converted = _total(
        rates.reporting,
        [(net * factor[c], half * factor[c]) for c in known for net, half in groups[c]],
    )
    used = tuple((c, factor[c]) for c in sorted(known) if c != rates.reporting)
    return PortfolioValue(totals, converted, used, rates.reporting)


def _total(currency: str | None, parts: list[tuple[float, float]]) -> Total:
    net = float(sum(n for n, _ in parts))
    half = math.sqrt(sum(h * h for _, h in parts))
    return Total(currency, net, net - half, net + half, len(parts))
