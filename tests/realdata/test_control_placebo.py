"""Placebo-in-space on real panels (issue 10): control units that were never treated, each
analysed as if it had gone live against the others, come out `real` or `worse` at most at the
nominal rate. Before placebo-in-space inference, 12 of 170 did (7.1%: 9 of 50 on the Texas
prison panel)."""

from __future__ import annotations

from .cases import control_panels, placebo_in_space


def test_placebo_units_on_real_panels_are_significant_at_most_one_in_twenty():
    cases = control_panels()
    assert len(cases) >= 3
    found = [row for case in cases for row in placebo_in_space(case)]
    called = [unit for unit, verdict, _ in found if verdict in ("real", "worse")]
    assert len(found) >= 100
    assert len(called) <= 0.05 * len(found), called
