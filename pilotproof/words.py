"""The words people read for pilotproof's codes: one place, so the app, the charts and every
export call a verdict, a decision, a reason or a check by the same name."""

from __future__ import annotations

from analytics.narrative import REASON_PHRASES
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
# the same words as the action titles (analytics.narrative), so a reason reads alike everywhere
REASON_LABELS: dict[Reason, str] = REASON_PHRASES
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
