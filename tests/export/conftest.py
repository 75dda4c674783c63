"""Hand-built analysis results and store frames with known numbers, for the export tests.

The portfolio has three pilots: one ready to scale, one whose guardrail worsened and whose
name is a spreadsheet formula, and one too early to tell with no series at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.results import ChartSeries, CheckResult, MetricEffect, NetValue, PilotResult

EVIL_NAME = '=HYPERLINK("http://x.test")'
GO_LIVE = pd.Timestamp("2026-03-01")
CHECKS = ("noise", "pre_trend", "seasonality", "regression_to_mean", "novelty_decay")


def _series(level: float, effect_pct: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(GO_LIVE - pd.Timedelta(days=60), periods=120, freq="D")
    post = dates >= GO_LIVE
    counterfactual = np.full(len(dates), level)
    observed = counterfactual * np.where(post, 1 + effect_pct / 100, 1.0)
    observed = observed + rng.normal(0, level * 0.02, len(dates))
    return pd.DataFrame(
        {
            "date": dates,
            "observed": observed,
            "counterfactual": counterfactual,
            "cf_low": np.where(post, level * 0.96, np.nan),
            "cf_high": np.where(post, level * 1.04, np.nan),
            "control": np.nan,
        }
    )


def _effect(pilot_id, metric, kind, direction, verdict, effect, low, high, *, failed=(), **kw):
    applied = tuple(
        CheckResult(
            name=name,
            passed=name not in failed,
            applicable=True,
            explanation=f"{name} check on {metric}",
            p_value=0.01 if name in failed else 0.4,
        )
        for name in CHECKS
    )
    no_control = CheckResult(
        name="control_moved", passed=True, applicable=False, explanation="no control group"
    )
    checks = (*applied, no_control)
    return MetricEffect(
        pilot_id=pilot_id,
        metric=metric,
        direction=direction,
        kind=kind,
        verdict=verdict,
        reasons=tuple(failed),
        method="its",
        frequency="D",
        n_pre=60,
        n_post=60,
        effect_pct=effect,
        ci_low_pct=low,
        ci_high_pct=high,
        effect_abs=None if effect is None else effect / 10,
        ci_low_abs=None if low is None else low / 10,
        ci_high_abs=None if high is None else high / 10,
        mde_pct=4.2,
        baseline=10.0,
        threshold_pct=kw.get("threshold_pct", 10.0),
        tolerance_pct=kw.get("tolerance_pct", 5.0),
        checks=checks,
        note=f"{metric} moved {effect}%",
        chart=None if kw.get("series") is None else ChartSeries.of(kw["series"]),
    )


@pytest.fixture(scope="session")
def results() -> tuple[PilotResult, ...]:
    p1 = PilotResult(
        pilot_id="P1",
        decision="scale",
        reasons=(),
        value_metrics=("cycle_time",),
        readiness_missing=(),
        metrics=(
            _effect(
                "P1",
                "cycle_time",
                "value",
                "lower_is_better",
                "real",
                -21.34,
                -25.02,
                -17.51,
                series=_series(10.0, -21.34, 1),
            ),
            _effect(
                "P1",
                "rework_rate",
                "guardrail",
                "lower_is_better",
                "no_change",
                1.2,
                -2.0,
                4.4,
                series=_series(5.0, 1.2, 2),
            ),
        ),
        net_value=NetValue("cycle_time", 480_000.0, 120_000.0, 360_000.0, 300_000.0, 420_000.0),
        summary="Support assistant cut cycle time 21% (95% interval 18-25%); ready to scale",
    )
    p2 = PilotResult(
        pilot_id="P2",
        decision="fix",
        reasons=("burden_shift", "readiness_gap"),
        value_metrics=("cost_per_invoice",),
        readiness_missing=("escalation_path", "control_points"),
        metrics=(
            _effect(
                "P2",
                "cost_per_invoice",
                "value",
                "lower_is_better",
                "real",
                -12.5,
                -15.0,
                -10.0,
                series=_series(4.0, -12.5, 3),
            ),
            _effect(
                "P2",
                "manual_touches",
                "guardrail",
                "lower_is_better",
                "worse",
                9.8,
                6.1,
                13.4,
                failed=("noise",),
                series=_series(3.0, 9.8, 4),
            ),
        ),
        net_value=NetValue("cost_per_invoice", 50_000.0, 90_000.0, -40_000.0, -60_000.0, -20_000.0),
        summary="",
    )
    p3 = PilotResult(
        pilot_id="P3",
        decision="extend",
        reasons=("too_early",),
        value_metrics=("response_time",),
        readiness_missing=(),
        metrics=(
            _effect(
                "P3",
                "response_time",
                "value",
                "lower_is_better",
                "inconclusive",
                None,
                None,
                None,
                failed=("insufficient_data",),
            ),
        ),
        summary="Triage bot: too early to tell; extend the pilot",
    )
    return (p1, p2, p3)


@pytest.fixture(scope="session")
def pilots() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pilot_id": ["P1", "P2", "P3"],
            "pilot_name": ["Support assistant", EVIL_NAME, "Triage <b>bot</b>"],
            "company": ["Acme", "+Globex", "@Initech"],
            "function": ["Support", "Finance", "Support"],
            "vendor": ["VendorA", "-VendorB", "VendorC"],
            "go_live": pd.to_datetime([GO_LIVE] * 3),
            "monthly_cost": [10_000.0, 7_500.0, None],
            "annual_volume": [120_000.0, 50_000.0, None],
            "workflow": ["Ticket triage", "Invoice matching", "Routing"],
            "decision_owner": ["Support lead", "Finance", "Ops"],
            "execution_owner": ["Support ops", "AP team", "Ops"],
            "exception_path": ["Tier 2", "=1+1", "Tier 2"],
            "escalation_path": ["Duty manager", None, "Duty manager"],
            "control_points": ["Weekly QA", None, "Audit trail"],
            "value_metric": ["cycle_time", "cost_per_invoice", "response_time"],
        }
    )


@pytest.fixture(scope="session")
def observations(results) -> pd.DataFrame:
    frames = []
    for result in results:
        for effect in result.metrics:
            if effect.series is None:
                continue
            frames.append(
                pd.DataFrame(
                    {
                        "pilot_id": result.pilot_id,
                        "metric": effect.metric,
                        "date": effect.series["date"],
                        "group": "treatment",
                        "unit": "hours" if effect.metric == "cycle_time" else "",
                        "segment": "",
                        "value": effect.series["observed"],
                        "volume": np.nan,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [1],
            "pilot_id": ["P1"],
            "date": [GO_LIVE + pd.Timedelta(days=20)],
            "label": ["Prompt update"],
        }
    )


@pytest.fixture(scope="session")
def report(results, pilots, observations, events):
    from pilotproof.export.content import build_report

    return build_report(results, pilots, observations, events=events)


@pytest.fixture(scope="session")
def evil_name() -> str:
    return EVIL_NAME
