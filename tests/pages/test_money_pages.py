"""What an operating partner read on the sample portfolio's Portfolio and Explorer pages against
the board exports: one money rule (`pilotproof.totals`) on every surface. Each test fails on the
pages before the fix."""

from __future__ import annotations

import pytest
from pagetools import open_page, texts

from pilotproof import ui
from pilotproof.totals import net_value_words


@pytest.mark.parametrize("pilot", ["MF-DISPATCH", "NW-ORDERS"])
def test_the_explorer_words_a_value_within_noise_as_the_portfolio_does(sample_db, pilot):
    """Route planning read 'Net value GBP -253k a year (-338k to -168k)' on the Explorer and
    'value within noise (GBP -148k to +22k a year)' on Portfolio; Order desk an interval of
    +/-0.9k. The Explorer now says the Portfolio's words and draws no bar of money."""
    app = open_page("pages/explorer.py", pilot=pilot)
    result = next(r for r in ui.results() if r.pilot_id == pilot)
    words = net_value_words(result, ui.currencies().get(pilot))
    assert words.startswith("value within noise (")
    shown = texts(app).replace("\\", "")
    assert words[:1].upper() + words[1:] in shown
    net = result.net_value
    assert f"{round(net.annual_net / 1000):.0f}k" not in shown  # the net point is not booked
    assert "Annualised value" in [h.value for h in app.subheader]
    titles = [c.proto.spec for c in app.get("plotly_chart")]
    assert not any("Waterfall" in spec for spec in titles)


def test_the_explorer_still_draws_a_booked_value_with_the_same_words(sample_db):
    app = open_page("pages/explorer.py", pilot="NW-AP")
    result = next(r for r in ui.results() if r.pilot_id == "NW-AP")
    assert f"Net value: {net_value_words(result, 'EUR')}." in texts(app).replace("\\", "")
    assert any("waterfall" in c.proto.spec for c in app.get("plotly_chart"))


def test_the_portfolio_first_screen_marks_a_scale_under_a_lowered_bar(sample_db):
    """'Scaling 4 pilots' counted FNOL, which is Scale only under a threshold lowered after the
    results (pre-registered: Fix), without a word."""
    from analytics.portfolio_health import standing_decision
    from pilotproof.claims import LOWERED_BAR, lowered_only

    app = open_page("pages/portfolio.py")
    to_scale = [r for r in ui.results() if standing_decision(r) == "scale"]
    lowered = sum(lowered_only(r) for r in to_scale)
    assert lowered == 1
    want = f"Scaling {len(to_scale)} pilots ({lowered} {LOWERED_BAR})"
    first = [c.value.replace("\\", "") for c in app.caption][:2]
    assert any(c.startswith(want) for c in first), first


def test_the_portfolio_first_screen_says_what_scaling_the_pilots_without_money_costs(sample_db):
    """'no net value' for three Scale pilots read as worthless, and neither their running cost
    nor what is missing (a cost per transaction) was on the first screen; the card label
    'Scaling 4 pilots, 1 with a net value, a year' was hard to read."""
    from analytics.portfolio_health import standing_decision
    from pilotproof.words import NOT_IN_MONEY, money

    app = open_page("pages/portfolio.py")
    pilots = ui.pilots().set_index("pilot_id")
    others = [
        r.pilot_id for r in ui.results() if standing_decision(r) == "scale" and r.net_value is None
    ]
    assert len(others) == 3
    sums: dict[str, float] = {}
    for pilot_id in others:
        code = ui.currencies()[pilot_id]
        sums[code] = sums.get(code, 0.0) + 12 * float(pilots.loc[pilot_id, "monthly_cost"])
    costs = " + ".join(money(sums[c], c) for c in sorted(sums))
    caption = next(c.value for c in app.caption if c.value.startswith("Scaling ")).replace("\\", "")
    assert caption.endswith(
        f": 1 with a net value; the other 3 ({NOT_IN_MONEY}): running them costs {costs} a year."
    )
    labels = [m.label for m in app.metric]
    assert "Scaling 4 pilots: net value of 1, a year" in labels
    scale = [
        m.value.replace("\\", "") for m in app.markdown if "Support reply assistant" in m.value
    ]
    entry = next(line for line in scale if line.startswith("**Support reply"))
    cost = money(12 * float(pilots.loc["CB-ASSIST", "monthly_cost"]), ui.currencies()["CB-ASSIST"])
    assert f"{NOT_IN_MONEY}; running cost {cost} a year" in entry
    assert "no net value" not in entry
