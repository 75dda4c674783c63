"""The words people read for pilotproof's codes: one place, so the app, the charts and every
export call a verdict, a decision, a reason or a check by the same name."""

from __future__ import annotations

from analytics.results import Decision, Method, Reason, Verdict

VERDICT_LABELS: dict[Verdict, str] = {
    "real": "Real impact",
    "mirage": "Value mirage",
    "inconclusive": "Inconclusive",
    "worse": "Worse",
    "no_change": "No change",
}
DECISION_LABELS: dict[Decision, str] = {
    "scale": "Scale",
    "fix": "Fix",
    "extend": "Extend",
    "stop": "Stop",
}
REASON_LABELS: dict[Reason, str] = {
    "noise": "within normal variation",
    "pre_trend": "already moving before go-live",
    "seasonality": "a seasonal swing",
    "regression_to_mean": "rebound from an unusually bad spell",
    "novelty_decay": "the effect fades",
    "control_moved": "the control group moved as much",
    "mix_shift": "a change in the mix, not the rate",
    "insufficient_data": "not enough data",
    "below_threshold": "below the scaling threshold",
    "burden_shift": "a guardrail worsened",
    "readiness_gap": "readiness gaps",
    "activity_without_outcome": "activity without outcome",
    "no_value_metric": "no value metric",
    "too_early": "too early to tell",
    "no_real_value": "no real value proven",
}
CHECK_LABELS: dict[Reason, str] = {
    "noise": "Noise",
    "pre_trend": "Pre-existing trend",
    "seasonality": "Seasonality",
    "regression_to_mean": "Regression to the mean",
    "novelty_decay": "Novelty decay",
    "control_moved": "Control group moved",
    "mix_shift": "Mix shift",
    "insufficient_data": "Enough data",
}
READINESS_LABELS: dict[str, str] = {
    "workflow": "Workflow",
    "decision_owner": "Decision owner",
    "execution_owner": "Execution owner",
    "exception_path": "Exception path",
    "escalation_path": "Escalation path",
    "control_points": "Control points",
    "value_metric": "Value metric",
}
METHOD_LABELS: dict[Method, str] = {
    "its": "interrupted time series",
    "did": "difference-in-differences",
    "synthetic_control": "synthetic control",
    "none": "no estimate",
}
