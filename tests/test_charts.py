"""The shared figures: what each shows, where the lines sit, and that user text stays inert."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analytics.results import ChartSeries, MetricEffect, NetValue, PilotResult
from pilotproof import charts


def _effect(metric="cycle_time", direction="lower_is_better", verdict="real", effect_pct=-20.0):
    dates = pd.date_range("2025-01-01", periods=10, freq="W-MON")
    counterfactual = np.full(10, 10.0)
    observed = np.r_[np.full(5, 10.0), np.full(5, 8.0)]
    series = pd.DataFrame(
        {
            "date": dates,
            "observed": observed,
            "counterfactual": counterfactual,
            "cf_low": np.r_[np.full(5, np.nan), np.full(5, 9.5)],
            "cf_high": np.r_[np.full(5, np.nan), np.full(5, 10.5)],
            "control": np.full(10, 9.0),
        }
    )
    return MetricEffect(
        pilot_id="P1", metric=metric, direction=direction, kind="value", verdict=verdict,
        reasons=(), method="its", frequency="W", n_pre=5, n_post=5, effect_pct=effect_pct,
        ci_low_pct=effect_pct - 4, ci_high_pct=effect_pct + 4, effect_abs=-2.0, ci_low_abs=-2.4,
        ci_high_abs=-1.6, mde_pct=3.0, baseline=10.0, threshold_pct=10.0, tolerance_pct=None,
        chart=ChartSeries.of(series),
    )  # fmt: skip


def test_series_chart_draws_observed_counterfactual_band_control_and_threshold():
    fig = charts.series_chart(_effect(), "2025-02-10", unit="hours")
    names = [trace.name for trace in fig.data]
    assert names == [
        "Expected without the pilot, 95% range",
        "Expected without the pilot",
        "Control group",
        "Observed",
        "Scaling threshold (10% better)",
    ]
    threshold = fig.data[-1]
    # 10% below a counterfactual of 10 for a lower-is-better metric, over the post window only
    assert list(threshold.y) == pytest.approx([9.0] * 5)
    assert fig.layout.yaxis.title.text == "Cycle time (hours)"
    assert any(a.text == "Go-live" for a in fig.layout.annotations)


def test_threshold_is_above_the_counterfactual_for_higher_is_better():
    fig = charts.series_chart(_effect("margin", "higher_is_better"), "2025-02-10")
    assert list(fig.data[-1].y) == pytest.approx([11.0] * 5)


def test_event_labels_and_pilot_names_are_escaped():
    events = pd.DataFrame({"date": ["2025-01-20"], "label": ['<a href="http://x.test">re-org</a>']})
    fig = charts.series_chart(_effect(), "2025-02-10", events=events)
    texts = [a.text for a in fig.layout.annotations]
    assert '&lt;a href="http://x.test"&gt;re-org&lt;/a&gt;' in texts
    result = PilotResult("<b>x</b>", "scale", (), ("cycle_time",), (), (_effect(),))
    forest = charts.forest_plot([result])
    assert forest.data[0].y[0].startswith("&lt;b&gt;x&lt;/b&gt;")


def test_forest_plot_puts_improvements_right_and_colours_by_verdict():
    good = PilotResult("A", "scale", (), ("cycle_time",), (), (_effect(effect_pct=-20.0),))
    bad = PilotResult(
        "B", "stop", (), ("margin",), (), (_effect("margin", "higher_is_better", "worse", -5.0),)
    )
    fig = charts.forest_plot([good, bad])
    by_name = {trace.name: trace for trace in fig.data}
    assert by_name["Real impact"].x[0] == pytest.approx(20.0)
    assert by_name["Real impact"].marker.color == charts.VERDICT_COLORS["real"]
    assert by_name["Worse"].x[0] == pytest.approx(-5.0)
    assert list(by_name["Scaling threshold"].x) == [10.0, 10.0]


def test_value_bridge_adds_up_and_is_absent_without_net_value():
    net = NetValue("cost_per_transaction", 500_000, 120_000, 380_000, 250_000, 510_000)
    result = PilotResult("A", "scale", (), ("cost_per_transaction",), (), (), net_value=net)
    fig = charts.value_bridge(result, currency="USD")
    waterfall = fig.data[0]
    assert list(waterfall.y[:2]) == [500_000, -120_000]
    assert list(waterfall.text) == ["USD\u00a0500k", "USD\u00a0-120k", "USD\u00a0380k"]
    assert fig.layout.yaxis.title.text == "Per year (USD)"
    assert charts.value_bridge(PilotResult("B", "stop", (), (), (), ())) is None


def test_empty_inputs_give_an_explicit_empty_figure():
    assert charts.forest_plot([]).layout.annotations[0].text == "No effects to compare"
    empty = _effect()
    empty = replace(empty, chart=None)
    assert charts.series_chart(empty, None).layout.annotations[0].text == "No series to show"


def test_forest_plot_labels_wrap_and_the_legend_sits_below_the_axis_title():
    result = PilotResult("A", "scale", (), ("cost_per_transaction",), (),
                         (_effect("cost_per_transaction"),))  # fmt: skip
    fig = charts.forest_plot([result], labels={"A": "Route and load planning, Leeds depot"})
    # two lines rather than a label cut at the figure's edge ("ransaction")
    assert fig.data[0].y[0] == "Route and load planning, Leeds depot<br>cost per transaction"
    assert fig.layout.yaxis.automargin is True
    # the legend hangs from the bottom of the figure, in a margin below the axis title
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
    assert fig.layout.margin.b >= 100


def test_activity_metrics_never_wear_the_colour_of_real_impact():
    usage = replace(_effect("ai_usage", "higher_is_better", "real", 4100.0), kind="activity")
    fig = charts.forest_plot([PilotResult("A", "stop", (), ("ai_usage",), (), (usage,))])
    assert fig.data[0].name == "Activity, not value"
    assert fig.data[0].marker.color == charts.ACTIVITY_COLOR != charts.VERDICT_COLORS["real"]


def test_daily_data_can_be_drawn_as_weekly_means_with_a_flat_threshold():
    dates = pd.date_range("2025-01-06", periods=28, freq="D")  # four weeks from a Monday
    wiggle = np.tile([8.0, 12.0, 8.0, 12.0, 8.0, 12.0, 10.0], 4)  # a weekly mean of 10
    series = pd.DataFrame(
        {"date": dates, "observed": wiggle, "counterfactual": wiggle + 1.0,
         "cf_low": wiggle, "cf_high": wiggle + 2.0, "control": np.nan}
    )  # fmt: skip
    effect = replace(_effect(), frequency="D", n_pre=14, n_post=14, chart=ChartSeries.of(series))
    daily = charts.series_chart(effect, "2025-01-20")
    weekly = charts.series_chart(effect, "2025-01-20", weekly=True)
    observed = next(t for t in weekly.data if t.name == "Observed")
    assert len(observed.x) == 4 and list(observed.y) == pytest.approx([10.0] * 4)
    assert len(next(t for t in daily.data if t.name == "Observed").x) == 28
    # the threshold is one flat level (10% under the post mean counterfactual of 11), drawn
    # dotted, never the counterfactual's dashes
    threshold = weekly.data[-1]
    assert set(np.round(threshold.y, 6)) == {9.9} and threshold.line.dash == "dot"
    counterfactual = next(t for t in weekly.data if t.name == "Expected without the pilot")
    assert counterfactual.line.dash == "dash"


def test_the_weekly_points_are_the_analytics_weekly_series_counted_from_go_live():
    """The partner saw the app's weekly chart and the exports' disagree for one daily pilot.
    Both draw the analytics' one weekly rule (`analytics.frequency.weekly_means`): 7-day weeks
    counted from go-live, dated by their first day, so no week mixes days before and after
    it; a week with no data is a gap. Here the data start on a Wednesday, go live on a
    Thursday and miss most of a week."""
    from analytics.frequency import weekly_means

    dates = pd.date_range("2025-01-01", periods=45, freq="D")  # Wednesday 1 January
    rng = np.random.default_rng(7)
    observed = 10.0 + rng.normal(0, 1, len(dates))
    series = pd.DataFrame(
        {
            "date": dates,
            "observed": observed,
            "counterfactual": observed + 0.5,
            "cf_low": observed,
            "cf_high": observed + 1.0,
            "control": np.nan,
        }
    ).drop(index=range(20, 26))  # Tuesday 21 to Sunday 26 January: only Monday 20 is left
    go_live = pd.Timestamp("2025-01-23")  # a Thursday
    effect = replace(_effect(), frequency="D", n_pre=22, n_post=17, chart=ChartSeries.of(series))
    fig = charts.series_chart(effect, go_live, weekly=True)
    drawn = next(t for t in fig.data if t.name == "Observed")
    rule = weekly_means(effect.series, "date", go_live)
    assert list(pd.to_datetime(drawn.x)) == list(rule["date"])
    np.testing.assert_allclose(np.asarray(drawn.y, float), rule["observed"], equal_nan=True)
    # reference outside the rule: pandas' groups of weeks since go-live, those the data's first
    # and last days cut short left out (only whole weeks are drawn at either end)
    first, last = series["date"].min(), series["date"].max()
    week = series.groupby((series["date"] - go_live).dt.days // 7)["observed"].mean()
    starts = go_live + pd.to_timedelta(week.index * 7, unit="D")
    whole = (starts >= first) & (starts + pd.Timedelta(days=6) <= last)
    np.testing.assert_allclose(rule["observed"].dropna(), week[whole].to_numpy())
    assert go_live in set(rule["date"])  # a week starts at go-live: none straddles it
    assert ((rule["date"] - go_live).dt.days % 7 == 0).all()
    # without a go-live, weeks run Monday to Sunday (pandas' W-SUN periods)
    plain = weekly_means(effect.series)
    monday = series.groupby(series["date"].dt.to_period("W-SUN"))["observed"].mean()
    whole_weeks = [p for p in monday.index if p.start_time >= first and p.end_time <= last]
    assert [p.start_time for p in whole_weeks] == list(plain["date"])
    assert (plain["date"].dt.day_of_week == 0).all()


def test_a_week_with_no_data_is_a_gap_not_a_line_across_it():
    from analytics.frequency import weekly_means

    days = pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-26"])  # no data 13-19 January
    weeks = weekly_means(pd.DataFrame({"date": days, "observed": [1.0, 3.0, 5.0]}))
    assert list(weeks["date"]) == list(pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20"]))
    assert weeks["observed"].iloc[0] == 2.0 and np.isnan(weeks["observed"].iloc[1])


def test_a_week_the_data_cover_only_in_part_is_not_drawn_at_either_end():
    # daily data Thursday 2 January to Saturday 1 February 2025, go-live Wednesday 15 January:
    # the 7-day weeks from go-live start 1 January (data from its second day) and end with
    # 29 January - 4 February (data for 4 of its days): the mean of a few weekdays would bend
    # the line where a weekday pattern runs through the data
    from analytics.frequency import weekly_means

    days = pd.date_range("2025-01-02", "2025-02-01", freq="D")
    pattern = np.where(days.day_of_week >= 5, 10.0, 0.0)  # weekends high
    frame = pd.DataFrame({"date": days, "observed": 20.0 + pattern})
    weeks = weekly_means(frame, "date", pd.Timestamp("2025-01-15"))
    assert list(weeks["date"]) == list(pd.to_datetime(["2025-01-08", "2025-01-15", "2025-01-22"]))
    assert np.allclose(weeks["observed"], 20.0 + 20.0 / 7)  # every week: two weekend days
    # a pilot five days after go-live keeps its one (partial) week
    short = frame[frame["date"] <= "2025-01-19"]
    tail = weekly_means(short, "date", pd.Timestamp("2025-01-15"))
    assert tail["date"].iloc[-1] == pd.Timestamp("2025-01-15")
    assert weekly_means(pd.DataFrame({"date": [], "observed": []})).empty


def test_fix_is_drawn_in_okabe_ito_blue_never_the_mirage_amber():
    """A fix is real value with something to repair; the partner read the amber Fix bars of
    the decision board as mirages."""
    from pilotproof import ui
    from pilotproof.views import decision_board_chart

    assert charts.DECISION_COLORS["fix"] == "#0072B2"
    assert charts.DECISION_COLORS["fix"] not in charts.VERDICT_COLORS.values()
    board = pd.DataFrame(
        {"company": ["A"], "function": ["x"], "scale": [0], "fix": [1], "extend": [0],
         "stop": [0], "pilots": [1]}
    )  # fmt: skip
    fix = next(t for t in decision_board_chart(board).data if t.name == "Fix")
    assert fix.marker.color == "#0072B2"
    # the app's badges and list headings: Fix blue, never the mirage badge's orange
    assert ui._DECISION_BADGE["fix"] == "blue" != ui._VERDICT_BADGE["mirage"]


def test_a_mix_shift_mirage_is_compared_at_the_same_mix_of_work():
    """The partner saw the order desk assistant at +26% on the Compare page (past the scaling
    threshold, ahead of real wins) and at +0.3% in the deck: the app now draws what the deck
    draws, the rate part at the same mix of work, never the mix's apparent gain."""
    mix = replace(
        _effect(verdict="mirage", effect_pct=-25.8),
        reasons=("mix_shift",), rate_effect_pct=-0.3, mix_effect_pct=-25.5,
    )  # fmt: skip
    mirage = PilotResult("M", "stop", ("no_real_value",), ("cycle_time",), (), (mix,))
    real = PilotResult("R", "scale", (), ("cycle_time",), (), (_effect(effect_pct=-20.0),))
    drawn, labels = charts.at_same_mix([mirage, real], {"M": "Order desk", "R": "Invoices"})
    assert labels == {"M": "Order desk (same mix)", "R": "Invoices"}
    moved = drawn[0].metrics[0]
    # without an interval of its own, a point: never '-0.3% to -0.3%'
    assert (moved.effect_pct, moved.ci_low_pct, moved.ci_high_pct) == (-0.3, None, None)
    assert drawn[1] is real
    assert _forest_hover(charts.forest_plot(drawn, labels=labels), "Order desk") == ""
    fig = charts.forest_plot(drawn, labels=labels)
    xs = {y: x for trace in fig.data for x, y in zip(trace.x, trace.y, strict=False)
          if trace.name not in ("Scaling threshold",)}  # fmt: skip
    order = next(x for y, x in xs.items() if str(y).startswith("Order desk (same mix)"))
    assert order == pytest.approx(0.3)  # improvement: 0.3% lower is 0.3% better


def _forest_hover(fig, label: str) -> str:
    """The interval words a forest plot's hover gives the row whose label starts `label`."""
    for trace in fig.data:
        if trace.name == "Scaling threshold":
            continue
        for y, data in zip(trace.y, trace.customdata, strict=True):
            if str(y).startswith(label):
                assert "%{customdata[2]}" in trace.hovertemplate
                return str(data[2])
    raise AssertionError(f"no row {label}")


def test_a_same_mix_rate_part_is_compared_with_its_own_interval():
    """Compare read '-0.3% to -0.3%' for the order desk's same-mix rate part: the point
    repeated as an interval. It now carries the rate part's own interval (from the segment
    rates' noise), in the table's data, the error bar and the hover."""
    mix = replace(
        _effect(verdict="mirage", effect_pct=-25.8),
        reasons=("mix_shift",), rate_effect_pct=-0.3, mix_effect_pct=-25.5,
        rate_ci_low_pct=-1.1, rate_ci_high_pct=0.6,
    )  # fmt: skip
    mirage = PilotResult("M", "stop", ("no_real_value",), ("cycle_time",), (), (mix,))
    drawn, labels = charts.at_same_mix([mirage], {"M": "Order desk"})
    moved = drawn[0].metrics[0]
    assert (moved.effect_pct, moved.ci_low_pct, moved.ci_high_pct) == (-0.3, -1.1, 0.6)
    fig = charts.forest_plot(drawn, labels=labels)
    (trace,) = [t for t in fig.data if t.name != "Scaling threshold"]
    assert trace.x[0] == pytest.approx(0.3)  # lower cost is better
    assert trace.error_x.arrayminus[0] == pytest.approx(0.3 - -0.6)
    assert trace.error_x.array[0] == pytest.approx(1.1 - 0.3)
    assert _forest_hover(fig, "Order desk") == " (95% interval -1.1% to 0.6%)"


def _rate_effect(scale="points"):
    """A rework rate near 5% (a fraction, 0.05) read in percentage points."""
    effect = _effect("rework_rate")
    series = effect.series.copy()
    for column in ("observed", "counterfactual", "cf_low", "cf_high", "control"):
        series[column] = series[column] / 200.0  # 10 -> 0.05
    return replace(effect, scale=scale, chart=ChartSeries.of(series))


def test_a_fraction_metric_is_drawn_in_percent_on_its_axis_and_hovers():
    fig = charts.series_chart(_rate_effect(), "2025-02-10", unit="rate")
    assert fig.layout.yaxis.tickformat == "~%"  # 0.05 -> 5%, 0.025 -> 2.5%
    assert fig.layout.yaxis.hoverformat == ".1%"  # 0.05 -> 5.0% in the unified hover
    assert fig.layout.yaxis.title.text == "Rework rate (%)"
    assert all(t.hovertemplate is None for t in fig.data)  # no trace overrides the axis


def test_a_metric_in_hours_keeps_its_plain_numbers():
    fig = charts.series_chart(_effect(), "2025-02-10", unit="hours")
    assert fig.layout.yaxis.tickformat is None
    assert fig.layout.yaxis.hoverformat is None
    assert fig.layout.yaxis.title.text == "Cycle time (hours)"


@pytest.mark.parametrize(
    ("unit", "scale", "percent"),
    [
        ("rate", "points", True),
        ("rate", "relative", True),  # a rate a partner chose to read in percent change
        ("Share ", "relative", True),
        ("", "points", True),  # percentage points are only ever of a fraction
        ("hours", "relative", False),
        ("", "relative", False),
        ("EUR", "relative", False),
    ],
)
def test_value_axis_is_percent_for_a_fraction_only(unit, scale, percent):
    assert charts.value_axis(unit, scale).percent is percent


def test_an_excel_axis_format_has_the_decimals_its_step_needs():
    axis = charts.value_axis("rate")
    assert axis.excel_format(0.05) == "0%"
    assert axis.excel_format(0.005) == "0.0%"
    assert axis.excel_format(0.0025) == "0.00%"
    assert axis.excel_format() == "0.0%"
    assert charts.value_axis("hours").excel_format(0.5) == "#,##0.###"


def test_aligned_panels_write_a_fraction_in_percent_and_hours_as_numbers():
    panels = [
        ("A\nRework rate (%)", _rate_effect(), pd.Timestamp("2025-02-10")),
        ("B\nCycle time (hours)", _effect(), pd.Timestamp("2025-02-10")),
    ]
    fig = charts.aligned_multiples(panels, units={"rework_rate": "rate", "cycle_time": "hours"})
    assert fig.layout.yaxis.tickformat == "~%" and fig.layout.yaxis.hoverformat == ".1%"
    assert fig.layout.yaxis2.tickformat is None and fig.layout.yaxis2.hoverformat is None


def test_forest_hovers_say_points_for_a_fraction_and_percent_otherwise():
    rate = replace(
        _effect("margin", "higher_is_better"), scale="points", effect_points=2.0,
        ci_low_points=1.0, ci_high_points=3.0, threshold_pct=1.0,
    )  # fmt: skip
    results = [
        PilotResult("A", "scale", (), ("margin",), (), (rate,)),
        PilotResult("B", "scale", (), ("cycle_time",), (), (_effect(),)),
    ]
    fig = charts.forest_plot(results)
    effects = next(t for t in fig.data if t.name == "Real impact")
    assert "%{customdata[0]:.1f}%{customdata[1]}%{customdata[2]}" in effects.hovertemplate
    assert [row[1] for row in effects.customdata] == [" points", "%"]
    assert effects.customdata[0][2] == " (95% interval 1.0 points to 3.0 points)"
    threshold = next(t for t in fig.data if t.name == "Scaling threshold")
    assert list(threshold.customdata) == [" points", "%"]


def test_aligned_panels_draw_daily_data_as_the_weekly_view():
    """Compare's small multiples drew a daily pilot's dashed expected line day by day, which at
    a panel's width zig-zags into hatching (read-through B10); they draw the explorer's weekly
    view: the analytics' weekly means, weeks counted from go-live."""
    from analytics.frequency import weekly_means

    dates = pd.date_range("2025-01-06", periods=56, freq="D")  # eight weeks from a Monday
    wiggle = np.tile([8.0, 12.0, 8.0, 12.0, 8.0, 12.0, 10.0], 8)
    series = pd.DataFrame(
        {"date": dates, "observed": wiggle, "counterfactual": wiggle + 1.0,
         "cf_low": wiggle, "cf_high": wiggle + 2.0, "control": np.nan}
    )  # fmt: skip
    go_live = pd.Timestamp("2025-02-03")
    daily = replace(_effect(), frequency="D", n_pre=28, n_post=28, chart=ChartSeries.of(series))
    fig = charts.aligned_multiples([("Daily pilot\nCycle time", daily, go_live)])
    expected, observed = fig.data[0], fig.data[1]
    rule = weekly_means(daily.series, "date", go_live)
    assert len(observed.x) == len(rule) == 8
    days = (rule["date"] - go_live).dt.days
    np.testing.assert_allclose(np.asarray(observed.x, float), days)
    np.testing.assert_allclose(np.asarray(expected.y, float), rule["counterfactual"])
    assert list(np.round(np.asarray(observed.y, float), 6)) == [10.0] * 8  # the zig-zag is gone
    weekly = _effect()  # weekly data are drawn as they are
    fig = charts.aligned_multiples([("Weekly pilot\nCycle time", weekly, go_live)])
    assert len(fig.data[1].x) == len(weekly.series)
