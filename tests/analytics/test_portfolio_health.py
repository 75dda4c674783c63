import math

import numpy as np
import pandas as pd
import pytest

from analytics.portfolio_health import (
    PURGATORY_DAYS,
    decision_board,
    headline,
    maturity,
    purgatory,
    sprawl,
)
from analytics.results import READINESS_FIELDS, MetricEffect, NetValue, PilotResult


def effect(pilot_id, verdict, metric="cycle_time"):
    return MetricEffect(
        pilot_id=pilot_id, metric=metric, direction="lower_is_better", kind="value",
        verdict=verdict, reasons=(), method="its", frequency="W", n_pre=20, n_post=20,
        effect_pct=-20.0, ci_low_pct=-25.0, ci_high_pct=-15.0, effect_abs=-2.0,
        ci_low_abs=-2.5, ci_high_abs=-1.5, mde_pct=5.0, baseline=10.0, threshold_pct=10.0,
        tolerance_pct=None,
    )  # fmt: skip


def result(pilot_id, decision, verdict="real", missing=(), net=None, reasons=()):
    return PilotResult(
        pilot_id=pilot_id, decision=decision, reasons=reasons, value_metrics=("cycle_time",),
        readiness_missing=tuple(missing), metrics=(effect(pilot_id, verdict),), net_value=net,
    )  # fmt: skip


def pilots_frame(rows):
    """rows: (pilot_id, company, function, vendor, go_live)"""
    frame = pd.DataFrame(rows, columns=["pilot_id", "company", "function", "vendor", "go_live"])
    frame["pilot_name"] = frame["pilot_id"].str.upper()
    frame["go_live"] = pd.to_datetime(frame["go_live"])
    frame["monthly_cost"] = 1000.0
    for field in READINESS_FIELDS:
        frame[field] = "named"
    return frame


def net(value, low, high):
    return NetValue("cycle_time", value + 100.0, 100.0, value, low, high)


def test_headline_counts_and_adds_intervals_in_quadrature():
    pilots = pilots_frame([(p, "Acme", "support", "v", "2025-01-01") for p in "abcd"])
    results = [
        result("a", "scale", "real", net=net(1000.0, 400.0, 1600.0)),
        result("b", "stop", "mirage", net=net(-200.0, -1000.0, 600.0)),
        result("c", "extend", "inconclusive"),
        result("d", "fix", "real", net=net(float("nan"), float("nan"), float("nan"))),
    ]
    figures = headline(results, pilots)
    assert (figures.pilots, figures.real_value, figures.mirages) == (4, 2, 1)
    assert figures.valued_pilots == 2
    assert figures.annual_net == pytest.approx(800.0)
    half = math.hypot(600.0, 800.0)  # half-widths 600 and 800 -> 1000
    assert figures.annual_net_low == pytest.approx(800.0 - half)
    assert figures.annual_net_high == pytest.approx(800.0 + half)


def test_headline_quadrature_matches_simulated_sum_of_independent_errors():
    rng = np.random.default_rng(7)
    sds = np.array([100.0, 250.0, 40.0])
    nets = [net(0.0, -1.959963984540054 * s, 1.959963984540054 * s) for s in sds]
    figures = headline([result(str(i), "scale", net=n) for i, n in enumerate(nets)], pd.DataFrame())
    draws = rng.normal(0.0, sds, size=(200_000, 3)).sum(axis=1)
    low, high = np.quantile(draws, [0.025, 0.975])
    assert figures.annual_net_low == pytest.approx(low, rel=0.02)
    assert figures.annual_net_high == pytest.approx(high, rel=0.02)


def test_headline_without_net_values_is_none():
    figures = headline([result("a", "extend", "inconclusive")], pilots_frame([]))
    assert figures.annual_net is None and figures.valued_pilots == 0


def test_decision_board_counts_by_company_and_function():
    pilots = pilots_frame(
        [("a", "Acme", "support", "x", "2025-01-01"), ("b", "Acme", "support", "y", "2025-01-01"),
         ("c", "Acme", "finance", "x", "2025-01-01"), ("d", "Beta", "support", "x", "2025-01-01")]
    )  # fmt: skip
    results = [result("a", "scale"), result("b", "stop"), result("c", "scale"), result("d", "fix")]
    board = decision_board(results, pilots)
    expected = ["company", "function", "scale", "fix", "extend", "stop", "pilots"]
    assert list(board.columns) == expected
    acme_support = board[(board.company == "Acme") & (board.function == "support")].iloc[0]
    assert (acme_support.scale, acme_support.stop, acme_support.fix, acme_support.pilots) == (
        1, 1, 0, 2,
    )  # fmt: skip
    assert board["pilots"].sum() == 4
    assert list(board["company"]) == ["Acme", "Acme", "Beta"]


def test_decision_board_empty():
    board = decision_board([], pilots_frame([]))
    assert board.empty and "scale" in board.columns


def test_purgatory_flags_long_running_pilots_without_decision():
    as_of = pd.Timestamp("2025-12-31")
    long_ago = as_of - pd.Timedelta(days=PURGATORY_DAYS + 30)
    recent = as_of - pd.Timedelta(days=30)
    pilots = pilots_frame(
        [("old_extend", "A", "f", "v", long_ago), ("old_scale", "A", "f", "v", long_ago),
         ("new_extend", "A", "f", "v", recent), ("old_fix", "A", "g", "v", long_ago),
         ("old_stop", "A", "g", "v", long_ago)]
    )  # fmt: skip
    results = [
        result("old_extend", "extend"), result("old_scale", "scale"),
        result("new_extend", "extend"), result("old_fix", "fix"), result("old_stop", "stop"),
    ]  # fmt: skip
    stuck = purgatory(results, pilots, as_of)
    assert {p.pilot_id for p in stuck} == {"old_extend", "old_fix"}
    assert all(p.days_live == PURGATORY_DAYS + 30 for p in stuck)
    assert "no decision is logged" in stuck[0].rule


def test_purgatory_boundary_is_inclusive():
    as_of = pd.Timestamp("2025-12-31")
    pilots = pilots_frame([("p", "A", "f", "v", as_of - pd.Timedelta(days=PURGATORY_DAYS))])
    assert len(purgatory([result("p", "extend")], pilots, as_of)) == 1
    assert purgatory([result("p", "extend")], pilots, as_of, min_days=PURGATORY_DAYS + 1) == ()


def test_sprawl_groups_overlapping_tools_in_one_function():
    pilots = pilots_frame(
        [("a", "Acme", "support", "OpenAI", "2025-01-01"),
         ("b", "Acme", "support", "Anthropic", "2025-01-01"),
         ("c", "Acme", "support", "OpenAI", "2025-01-01"),
         ("d", "Acme", "finance", "X", "2025-01-01"),
         ("e", "Beta", "support", "X", "2025-01-01")]
    )  # fmt: skip
    groups = sprawl(pilots)
    assert len(groups) == 1
    group = groups[0]
    assert (group.company, group.function, group.pilots, group.vendors) == (
        "Acme", "support", 3, 2,
    )  # fmt: skip
    assert group.monthly_cost == 3000.0
    assert group.pilot_names == ("A", "B", "C")
    assert sprawl(pilots_frame([])) == ()


def test_maturity_stages_follow_their_rules():
    rows, results = [], []
    # Exp: nothing proven
    rows += [("e1", "Exp", "f1", "v", "2025-01-01"), ("e2", "Exp", "f2", "v", "2025-01-01")]
    results += [result("e1", "extend", "inconclusive"), result("e2", "stop", "mirage")]
    # Ex: proven but readiness gaps
    rows += [("x1", "Ex", "f1", "v", "2025-01-01"), ("x2", "Ex", "f2", "v", "2025-01-01")]
    results += [result("x1", "scale"), result("x2", "fix", missing=("decision_owner",))]
    # Spr: proven, ready, but two tools in one function
    rows += [("s1", "Spr", "f1", "v", "2025-01-01"), ("s2", "Spr", "f1", "w", "2025-01-01")]
    results += [result("s1", "scale"), result("s2", "scale")]
    # Coo: proven, 3 of 4 ready, no sprawl
    rows += [(f"c{i}", "Coo", f"f{i}", "v", "2025-01-01") for i in range(4)]
    results += [result("c0", "scale"), result("c1", "extend", "inconclusive"),
                result("c2", "extend", "inconclusive"),
                result("c3", "fix", "inconclusive", missing=("control_points",))]  # fmt: skip
    # Orc: all ready, half scaling cleanly
    rows += [(f"o{i}", "Orc", f"f{i}", "v", "2025-01-01") for i in range(2)]
    results += [result("o0", "scale"), result("o1", "extend", "inconclusive")]
    stages = {m.company: m for m in maturity(results, pilots_frame(rows))}
    assert {c: m.stage for c, m in stages.items()} == {
        "Exp": "experimenting", "Ex": "expanding", "Spr": "expanding",
        "Coo": "coordinating", "Orc": "orchestrating",
    }  # fmt: skip
    assert "readiness" in stages["Ex"].rule
    assert "overlapping tools" in stages["Spr"].rule
    assert (stages["Coo"].proven, stages["Coo"].ready, stages["Coo"].scaling) == (1, 3, 1)


def test_maturity_burden_shift_keeps_a_company_from_orchestrating():
    rows = [(f"o{i}", "Orc", f"f{i}", "v", "2025-01-01") for i in range(2)]
    results = [result("o0", "scale", reasons=("burden_shift",)), result("o1", "scale")]
    assert maturity(results, pilots_frame(rows))[0].stage == "orchestrating"
    results = [result("o0", "scale", reasons=("burden_shift",)), result("o1", "extend")]
    assert maturity(results, pilots_frame(rows))[0].stage == "coordinating"


def test_a_logged_decision_is_the_one_board_purgatory_and_maturity_count():
    """The partner saw 'still fix: no scale or stop decision yet' beside a logged Scale: the
    decision log is read, consistently with the decisions-taken table."""
    from dataclasses import replace

    from analytics.governance import Governance, LoggedDecision
    from analytics.portfolio_health import standing_decision

    as_of = pd.Timestamp("2025-12-31")
    long_ago = as_of - pd.Timedelta(days=PURGATORY_DAYS + 60)
    pilots = pilots_frame(
        [("logged", "A", "f", "v", long_ago), ("silent", "A", "f", "v", long_ago)]
    )
    scale = LoggedDecision("scale", "fix", "ships in Dec", "VP Support", pd.Timestamp("2025-08-17"))
    log = Governance("logged", "pre_registered", decisions=(scale,))
    logged = replace(result("logged", "fix"), governance=log)
    results = [logged, result("silent", "fix")]
    assert standing_decision(logged) == "scale" and standing_decision(results[1]) == "fix"
    stuck = purgatory(results, pilots, as_of)
    assert [p.pilot_id for p in stuck] == ["silent"]
    assert "pilotproof recommends 'fix' and no decision is logged" in stuck[0].rule
    board = decision_board(results, pilots).iloc[0]
    assert (board.scale, board.fix) == (1, 1)
    assert maturity(results, pilots)[0].scaling == 1


def test_a_fix_logged_keeps_a_pilot_in_purgatory_and_says_who_logged_it():
    from dataclasses import replace

    from analytics.governance import Governance, LoggedDecision

    as_of = pd.Timestamp("2025-12-31")
    pilots = pilots_frame([("p", "A", "f", "v", as_of - pd.Timedelta(days=PURGATORY_DAYS))])
    fix = LoggedDecision("fix", "scale", "", "dana", pd.Timestamp("2025-09-01"))
    logged = replace(
        result("p", "scale"), governance=Governance("p", "pre_registered", (), decisions=(fix,))
    )
    (stuck,) = purgatory([logged], pilots, as_of)
    assert stuck.decision == "fix" and "'fix' logged by dana on 2025-09-01" in stuck.rule


def test_headline_counts_add_up_to_the_pilots():
    pilots = pilots_frame([(p, "Acme", "support", "v", "2025-01-01") for p in "abcde"])
    results = [
        result("a", "scale", "real"),
        result("b", "stop", "mirage"),
        result("c", "extend", "inconclusive"),
        result("d", "stop", "no_change"),
    ]  # "e" is not analysed: not proven either
    figures = headline(results, pilots)
    assert (figures.real_value, figures.mirages, figures.not_proven) == (1, 1, 3)
    assert figures.real_value + figures.mirages + figures.not_proven == figures.pilots
    assert figures.both == 0
