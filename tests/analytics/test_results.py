"""The facts the result types own: a direction's sign, a pilot's value metrics and headline."""

from dataclasses import replace

import pytest

from analytics.results import MetricEffect, MetricKind, PilotResult, Verdict, direction_sign


def test_a_direction_becomes_a_sign_in_one_place_and_an_unknown_one_is_refused():
    assert direction_sign("higher_is_better") == 1.0
    assert direction_sign("lower_is_better") == -1.0
    with pytest.raises(ValueError, match="'up_is_good'"):
        direction_sign("up_is_good")  # type: ignore[arg-type]  # the refusal is the point


def _effect(
    metric: str, kind: MetricKind, verdict: Verdict, improvement: float | None
) -> MetricEffect:
    return MetricEffect(
        pilot_id="P", metric=metric, direction="higher_is_better", kind=kind,
        verdict=verdict, reasons=(), method="its", frequency="W", n_pre=20, n_post=10,
        effect_pct=improvement, ci_low_pct=None, ci_high_pct=None, effect_abs=None,
        ci_low_abs=None, ci_high_abs=None, mde_pct=None, baseline=None, threshold_pct=None,
        tolerance_pct=None,
    )  # fmt: skip


def _pilot(value_metrics: tuple[str, ...], *effects: MetricEffect) -> PilotResult:
    return PilotResult("P", "fix", (), value_metrics, (), effects)


def test_the_headline_is_the_first_value_metric_not_the_one_that_did_best():
    first = _effect("cost", "value", "no_change", 1.0)
    best = _effect("cycle_time", "value", "real", 30.0)
    guardrail = _effect("errors", "guardrail", "real", 50.0)
    result = _pilot(("cost", "cycle_time"), first, best, guardrail)
    assert result.headline is first  # before: the action title spoke of the 30% gain
    assert result.value_effects == (first, best)
    assert result.effects_of() == (first, best)
    assert result.effects_of("errors") == (guardrail,)
    assert result.effects_of("absent") == ()


def test_a_pilot_without_a_value_metric_has_no_headline():
    activity = _effect("logins", "activity", "real", 80.0)
    guardrail = _effect("errors", "guardrail", "real", 5.0)
    assert _pilot((), guardrail, activity).headline is None
    assert _pilot((), guardrail, activity).value_effects == ()
    # a guardrail the team named as its value metric is one
    assert _pilot(("errors",), guardrail, activity).headline is guardrail


def test_the_sign_turns_a_change_into_an_improvement():
    up = _effect("conversion", "value", "real", 4.0)
    down = replace(up, direction="lower_is_better")
    assert (up.sign, down.sign) == (1.0, -1.0)
    assert (up.improvement_pct, down.improvement_pct) == (4.0, -4.0)
