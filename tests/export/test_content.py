"""The format-independent report: action titles, numbers, footer and data hash."""

from __future__ import annotations

import pandas as pd

from pilotproof.export.content import (
    action_title,
    build_report,
    data_hash,
    threshold_levels,
    waterfall_parts,
)


def test_action_titles_come_from_the_analysis_or_are_built_from_the_headline(report, evil_name):
    titles = [p.action_title for p in report.pilots]
    assert titles[0] == "Support assistant cut cycle time 21% (95% interval 18-25%); ready to scale"
    # P2 has no summary from the analysis: built from its value metric and decision
    assert (
        titles[1]
        == f"{evil_name} cut cost per invoice 12% (95% interval 10-15%); fix before scaling"
    )
    assert titles[2] == "Triage bot: too early to tell; extend the pilot"


def test_built_title_spells_out_an_interval_that_crosses_zero(results):
    effect = results[0].metrics[0]
    from dataclasses import replace

    crossing = replace(effect, effect_pct=-3.0, ci_low_pct=-8.0, ci_high_pct=2.0)
    result = replace(results[0], summary="", decision="extend", metrics=(crossing,))
    assert action_title(result, "Bot", crossing) == (
        "Bot cut cycle time 3% (95% interval -8% to +2%); extend: too early to tell"
    )


def test_headline_is_the_value_metric(results, report):
    assert results[1].headline.metric == "cost_per_invoice"
    assert [p.headline for p in report.pilots] == [r.headline for r in results]


def test_sections_carry_readiness_gaps_guardrails_and_checks(report):
    p2 = report.pilots[1]
    assert p2.readiness_gaps == ("Escalation path", "Control points")
    assert [g.metric for g in p2.guardrails] == ["manual_touches"]
    # a guardrail's check lines say whether it held, never "Noise FAIL"
    assert p2.check("manual_touches", "noise").outcome == "worsened beyond tolerance"
    assert p2.check("manual_touches", "control_moved").outcome == "worsened beyond tolerance"
    assert p2.check("cost_per_invoice", "control_moved").outcome == "n/a"
    assert p2.check("cost_per_invoice", "pre_trend").outcome == "pass"
    assert report.pilots[0].units["cycle_time"] == "hours"


def test_footer_names_data_as_of_scope_method_version_and_hash(report, observations):
    footer = report.footer
    assert footer.data_as_of == pd.Timestamp(observations["date"].max()).strftime("%Y-%m-%d")
    assert footer.scope == "Whole portfolio (3 pilots: P1, P2, P3)"
    assert "estimated from its own history" in footer.method  # plain words, no method names
    assert len(footer.data_hash) == 16
    for part in (footer.data_as_of, footer.scope, footer.version, footer.data_hash):
        assert part in footer.text


def test_selection_narrows_pilots_data_and_scope(results, pilots, observations, evil_name):
    report = build_report(
        results, pilots, observations, pilot_ids=["P2"], filters={"function": "Finance"}
    )
    assert [p.pilot_id for p in report.pilots] == ["P2"]
    assert set(report.observations["pilot_id"]) == {"P2"}
    assert report.footer.scope == "Pilots: P2; filters: function=Finance"
    assert report.title == f"Proof of value: {evil_name}"


def test_data_hash_ignores_row_order_but_sees_a_changed_value(observations, pilots):
    shuffled = observations.sample(frac=1.0, random_state=3)
    assert data_hash(shuffled, pilots) == data_hash(observations, pilots)
    changed = observations.copy()
    changed.loc[5, "value"] += 0.001
    assert data_hash(changed, pilots) != data_hash(observations, pilots)


def test_threshold_level_is_one_flat_level_after_go_live_as_the_app_draws_it(results, pilots):
    from dataclasses import replace

    import numpy as np

    from analytics.results import ChartSeries

    effect = results[0].metrics[0]  # cycle time, lower is better, threshold 10%
    go_live = pilots["go_live"].iloc[0]
    series = effect.series.assign(counterfactual=np.linspace(8.0, 12.0, len(effect.series)))
    effect = replace(effect, chart=ChartSeries.of(series))
    levels = threshold_levels(effect, go_live)
    post = series["date"] >= go_live
    assert levels[~post].isna().all()
    # the post window's mean counterfactual, 10% better: flat, never the counterfactual's shape
    expected = series.loc[post, "counterfactual"].mean() * 0.9
    assert (levels[post] - expected).abs().max() < 1e-12


def test_waterfall_parts_stack_back_to_each_step():
    for start, end in ((0, 480), (480, 360), (50, -40), (-10, -40), (0, -40)):
        base_up, up, base_down, down = waterfall_parts(start, end)
        assert base_up >= 0 and up >= 0 and base_down <= 0 and down <= 0
        # positives stack upwards from zero, negatives downwards: the visible bars cover
        # exactly the span of the step, without overlap
        spans = [(base_up, base_up + up)] if up else []
        spans += [(base_down + down, base_down)] if down else []
        assert min(lo for lo, _ in spans) == min(start, end)
        assert max(hi for _, hi in spans) == max(start, end)
        assert sum(hi - lo for lo, hi in spans) == abs(end - start)


def test_empty_inputs_still_make_a_report():
    report = build_report(
        (), pd.DataFrame(columns=["pilot_id"]), pd.DataFrame(columns=["pilot_id", "date"])
    )
    assert report.pilots == ()
    assert report.footer.data_as_of == "no data"
    assert report.subtitle == "No pilots"


def test_long_daily_series_are_drawn_as_weekly_means_that_never_straddle_go_live():
    from dataclasses import replace

    import numpy as np
    import pandas as pd
    import pytest

    from analytics.results import ChartSeries, MetricEffect
    from pilotproof.export.content import display_series

    go_live = pd.Timestamp("2026-03-04")  # a Wednesday: calendar weeks would straddle it
    dates = pd.date_range("2025-06-01", "2026-09-30", freq="D")
    post = dates >= go_live
    frame = pd.DataFrame(
        {
            "date": dates,
            "observed": np.where(post, 8.0, 10.0) + np.arange(len(dates)) % 7,
            "counterfactual": 10.0,
            "cf_low": np.where(post, 9.5, np.nan),
            "cf_high": np.where(post, 10.5, np.nan),
            "control": np.nan,
        }
    )
    effect = MetricEffect(
        pilot_id="P",
        metric="cycle_time",
        direction="lower_is_better",
        kind="value",
        verdict="real",
        reasons=(),
        method="its",
        frequency="D",
        n_pre=1,
        n_post=1,
        effect_pct=-20.0,
        ci_low_pct=-22.0,
        ci_high_pct=-18.0,
        effect_abs=-2.0,
        ci_low_abs=-2.2,
        ci_high_abs=-1.8,
        mde_pct=1.0,
        baseline=10.0,
        threshold_pct=10.0,
        tolerance_pct=None,
        chart=ChartSeries.of(frame),
    )
    shown, note = display_series(effect, go_live)
    assert note == " (weekly means)"
    assert len(shown) == pytest.approx(len(frame) / 7, abs=2)
    assert go_live in set(shown["date"])  # a week starts on go-live
    pre = shown["date"] < go_live
    assert shown.loc[pre, "cf_low"].isna().all() and shown.loc[~pre, "cf_low"].eq(9.5).all()
    assert shown.loc[~pre, "threshold"].eq(9.0).all() and shown.loc[pre, "threshold"].isna().all()
    # whole weeks average the weekday cycle (0..6) away: observed mean is level + 3
    full = shown.iloc[1:-1]
    assert set(full["observed"].round(9)) == {13.0, 11.0}
    short, note = display_series(replace(effect, chart=ChartSeries.of(frame[:100])), go_live)
    assert note == "" and len(short) == 100


def test_a_guardrail_worse_within_its_tolerance_says_so_everywhere(results, pilots, observations):
    # the deck's title said "+4.5 points (within the 5 points tolerated)" while its table said
    # "worsened beyond tolerance": the table read the verdict alone, not the tolerance
    from dataclasses import replace

    def tolerating(effect):
        return replace(effect, tolerance_pct=20.0) if effect.metric == "manual_touches" else effect

    within = tuple(replace(r, metrics=tuple(tolerating(e) for e in r.metrics)) for r in results)
    p2 = build_report(within, pilots, observations).pilots[1]
    guardrail = p2.guardrails[0]
    assert guardrail.status_text == "worsened, within tolerance" and not guardrail.breached
    assert p2.check("manual_touches", "noise").outcome == "worsened, within tolerance"
    beyond = build_report(results, pilots, observations).pilots[1].guardrails[0]
    assert beyond.status_text == "worsened beyond tolerance" and beyond.breached
