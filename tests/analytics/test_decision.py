from dataclasses import replace

import pytest
from statsmodels.stats.power import NormalIndPower

from analytics.decision import guardrail_unproven, metric_verdict, net_value, pilot_decision
from analytics.levels import MDE_FACTOR
from analytics.mirage import Significance
from analytics.narrative import metric_note, pilot_summary
from analytics.results import CheckResult, MetricEffect


def effect(metric="cycle_time", verdict="real", pct=-20.0, kind="value", **kw) -> MetricEffect:
    base = dict(
        pilot_id="P",
        metric=metric,
        direction="lower_is_better",
        kind=kind,
        verdict=verdict,
        reasons=(),
        method="its",
        frequency="D",
        n_pre=100,
        n_post=50,
        effect_pct=pct,
        ci_low_pct=pct - 4,
        ci_high_pct=pct + 4,
        effect_abs=pct / 10,
        ci_low_abs=(pct - 4) / 10,
        ci_high_abs=(pct + 4) / 10,
        mde_pct=3.0,
        baseline=10.0,
        threshold_pct=10.0,
        tolerance_pct=5.0,
    )
    base.update(kw)
    return MetricEffect(**base)


def sig(improved=False, worsened=False, naive=False):
    return Significance(-1.0, 1.0, improved, worsened, naive)


def check(name, passed=True):
    return CheckResult(name, passed, True, "x")


def test_mde_factor_matches_statsmodels_power():
    # NormalIndPower().solve_power(nobs1=1, alpha=0.05, power=0.8, ratio=0): one-sample z test
    ref = NormalIndPower().solve_power(effect_size=None, nobs1=1, alpha=0.05, power=0.8, ratio=0)
    # statsmodels also counts the (negligible) power in the opposite tail: equal to ~1e-6
    assert pytest.approx(ref, rel=1e-5) == MDE_FACTOR


@pytest.mark.parametrize(
    ("significance", "checks", "mde", "expected"),
    [
        (sig(improved=True), [check("noise")], 2.0, ("real", ())),
        (sig(improved=True), [check("novelty_decay", False)], 2.0, ("mirage", ("novelty_decay",))),
        (sig(worsened=True), [check("noise")], 2.0, ("worse", ())),
        (sig(naive=True), [check("noise", False)], 2.0, ("mirage", ("noise",))),
        (
            sig(),
            [check("noise", False), check("pre_trend", False)],
            2.0,
            ("mirage", ("noise", "pre_trend")),
        ),
        (sig(), [check("noise", False)], 30.0, ("inconclusive", ("noise",))),
        (sig(), [check("noise", False)], 2.0, ("no_change", ("noise",))),
        (
            sig(improved=True),
            [check("insufficient_data", False)],
            2.0,
            ("inconclusive", ("insufficient_data",)),
        ),
    ],
)
def test_metric_verdict_rules(significance, checks, mde, expected):
    assert metric_verdict(significance, checks, mde, 10.0) == expected


def test_noise_alone_is_a_mirage_only_when_a_worthwhile_gain_is_ruled_out():
    # the interval's most favourable end, as an improvement in %: 6% < 10% threshold -> mirage;
    # 14% -> a 10% gain is still possible, so the data cannot tell (and the pilot extends)
    noisy = [check("noise", False)]
    assert metric_verdict(sig(naive=True), noisy, 30.0, 10.0, best_pct=6.0) == (
        "mirage",
        ("noise",),
    )
    assert metric_verdict(sig(naive=True), noisy, 30.0, 10.0, best_pct=14.0) == (
        "inconclusive",
        ("noise",),
    )
    # a named cause is a mirage however wide the interval
    named = [check("noise", False), check("pre_trend", False)]
    assert metric_verdict(sig(naive=True), named, 30.0, 10.0, best_pct=14.0)[0] == "mirage"


def test_a_slight_significant_worsening_behind_a_naive_win_is_a_mirage():
    behind = sig(worsened=True, naive=True)
    explained = [check("noise"), check("control_moved", False)]
    assert metric_verdict(behind, explained, 2.0, 10.0, 1.5, 5.0) == ("mirage", ("control_moved",))
    assert metric_verdict(behind, explained, 2.0, 10.0, 8.0, 5.0) == ("worse", ("control_moved",))
    assert metric_verdict(behind, [check("noise")], 2.0, 10.0, 1.5, 5.0) == ("worse", ())
    assert metric_verdict(sig(worsened=True), explained, 2.0, 10.0, 1.5, 5.0)[0] == "worse"


def test_decision_rules():
    win = effect()
    small = effect(pct=-5.0)
    rework_up = effect("rework_rate", "worse", pct=20.0, kind="guardrail")
    rework_slightly_up = effect(
        "rework_rate", "worse", pct=3.0, kind="guardrail", ci_low_pct=2.0, ci_high_pct=4.0
    )
    usage = effect("ai_usage", "real", pct=300.0, kind="activity", direction="higher_is_better")
    flat = effect(verdict="no_change", pct=0.5)
    unclear = effect(verdict="inconclusive", pct=1.0)
    assert pilot_decision([win], [], [usage], []) == ("scale", ())
    assert pilot_decision([win], [rework_slightly_up], [], []) == ("scale", ())
    assert pilot_decision([win], [rework_up], [], []) == ("fix", ("burden_shift",))
    assert pilot_decision([win], [], [], ["exception_path"]) == ("fix", ("readiness_gap",))
    assert pilot_decision([small], [], [], []) == ("fix", ("below_threshold",))
    assert pilot_decision([flat], [], [usage], []) == (
        "stop",
        ("no_real_value", "activity_without_outcome"),
    )
    assert pilot_decision([unclear], [], [], []) == ("extend", ("too_early",))
    # a guardrail whose data still allow more than its tolerance has not been shown no worse:
    # value is real, nothing to fix, so the pilot runs on until the guardrail is measured
    rework_noisy = effect("rework_rate", "inconclusive", pct=2.0, kind="guardrail")
    assert pilot_decision([win], [rework_noisy], [], []) == ("extend", ("guardrail_unproven",))
    assert pilot_decision([win], [rework_noisy], [], ["exception_path"]) == (
        "fix",
        ("readiness_gap", "guardrail_unproven"),
    )
    assert pilot_decision([unclear], [rework_noisy], [], []) == ("extend", ("too_early",))
    assert pilot_decision([], [], [usage], []) == (
        "fix",
        ("no_value_metric", "activity_without_outcome"),
    )


def test_a_guardrail_is_non_inferior_when_its_whole_interval_is_within_tolerance():
    """The non-inferiority rule (ICH E9 3.3.2): the worse end of the 95% interval against the
    tolerance, on either direction and in points for a point-scale guardrail."""
    lower = dict(kind="guardrail", verdict="no_change", pct=0.0, tolerance_pct=5.0)
    assert not guardrail_unproven(effect("rework", ci_low_pct=-4.0, ci_high_pct=4.9, **lower))
    assert guardrail_unproven(effect("rework", ci_low_pct=-4.0, ci_high_pct=5.1, **lower))
    # higher is better: the low end is the worse one
    quality = dict(lower, direction="higher_is_better")
    assert guardrail_unproven(effect("quality", ci_low_pct=-5.1, ci_high_pct=4.0, **quality))
    assert not guardrail_unproven(effect("quality", ci_low_pct=-4.9, ci_high_pct=9.0, **quality))
    # a point-scale guardrail is read in points against a tolerance in points
    points = dict(lower, scale="points", tolerance_pct=None, effect_points=0.1)
    narrow = effect("rework", ci_low_points=-0.2, ci_high_points=0.4, **points)
    assert not guardrail_unproven(narrow)  # default tolerance 0.5 points
    assert guardrail_unproven(replace(narrow, ci_high_points=0.6))
    # no interval: nothing shown; a breach is a breach, not also unproven
    assert guardrail_unproven(effect("rework", ci_low_pct=None, ci_high_pct=None, **lower))
    assert guardrail_unproven(effect("rework", ci_low_pct=-1.0, ci_high_pct=float("nan"), **lower))
    assert not guardrail_unproven(effect("rework", "worse", pct=20.0, kind="guardrail"))


def test_net_value_from_cost_per_transaction():
    # cost per transaction fell 2.0 (1.5-2.5) on 10,000 transactions a year, 1,000 a month
    cpt = effect(
        "cost_per_transaction", pct=-20.0, effect_abs=-2.0, ci_low_abs=-2.5, ci_high_abs=-1.5
    )
    value = net_value([cpt], monthly_cost=1000.0, annual_volume=10000.0)
    assert value.annual_gross == pytest.approx(20000.0)
    assert value.annual_cost == pytest.approx(12000.0)
    assert value.annual_net == pytest.approx(8000.0)
    assert (value.ci_low, value.ci_high) == (pytest.approx(3000.0), pytest.approx(13000.0))
    assert net_value([cpt], None, 10000.0) is None
    assert net_value([effect()], 1000.0, 10000.0) is None


def test_net_value_credits_only_the_rate_part_of_a_mix_shift():
    # cost per transaction fell 2.0 in all, but three quarters of the fall is the mix of work
    # (Kitagawa: rate -5%, composition -15% of the pre level), so only a quarter is the pilot's
    cpt = effect(
        "cost_per_transaction", verdict="mirage", pct=-20.0, effect_abs=-2.0,
        ci_low_abs=-2.5, ci_high_abs=-1.5, reasons=("mix_shift",),
        rate_effect_pct=-5.0, mix_effect_pct=-15.0,
    )  # fmt: skip
    value = net_value([cpt], monthly_cost=1000.0, annual_volume=10000.0)
    assert value.annual_gross == pytest.approx(5000.0)
    assert value.annual_net == pytest.approx(-7000.0)
    # without an interval of its own the rate part is anything between nothing and the whole
    # change, never the whole change's interval narrowed by the share (-8,250 to -5,750)
    assert (value.ci_low, value.ci_high) == (pytest.approx(-12000.0), pytest.approx(13000.0))
    # with one (rate -7% to -3%), its own interval in money: 1,000 a year for each 1%
    measured = replace(cpt, rate_ci_low_pct=-7.0, rate_ci_high_pct=-3.0)
    value = net_value([measured], monthly_cost=1000.0, annual_volume=10000.0)
    assert value.annual_gross == pytest.approx(5000.0)
    assert (value.ci_low, value.ci_high) == (pytest.approx(-9000.0), pytest.approx(-5000.0))
    # a rate part that may have gone either way: the interval says so, around a clamped point
    either = replace(cpt, rate_effect_pct=0.5, rate_ci_low_pct=-2.0, rate_ci_high_pct=3.0)
    value = net_value([either], monthly_cost=1000.0, annual_volume=10000.0)
    assert value.annual_gross == pytest.approx(0.0)
    assert value.ci_low < value.annual_net < value.ci_high
    # nothing from the rates: the pilot saved nothing, it only cost its running cost
    rates_flat = replace(cpt, rate_effect_pct=0.0, mix_effect_pct=-20.0)
    assert net_value([rates_flat], 1000.0, 10000.0).annual_net == pytest.approx(-12000.0)
    # a mix that moved without failing the check changes nothing
    passed = replace(cpt, verdict="real", reasons=())
    assert net_value([passed], 1000.0, 10000.0).annual_gross == pytest.approx(20000.0)


def test_words():
    win = effect(pct=-21.3, ci_low_pct=-25.0, ci_high_pct=-17.4)
    assert metric_note(win) == "cycle time 21% lower than it would have been, 95% interval 17-25%"
    title = pilot_summary("Support assistant", "scale", (), win, ())
    assert title == "Support assistant cut cycle time 21% (95% interval 17-25%); ready to scale"
    gap = pilot_summary("Bot", "fix", ("readiness_gap",), win, ("exception_path",))
    assert gap.endswith("fix before scaling: missing exception path")
    assert pilot_summary("Bot", "extend", ("too_early",), None, ()) == (
        "Bot: too early to tell, extend the pilot"
    )
    assert pilot_summary("Bot", "extend", ("guardrail_unproven",), win, ()).endswith(
        "; extend the pilot: a guardrail not yet shown within its tolerance"
    )
    # a mirage names the move a naive reading takes for an improvement, whatever the estimate
    lift = replace(
        win, direction="higher_is_better", verdict="mirage", effect_pct=-1.0, reasons=("noise",)
    )
    assert "the apparent rise in cycle time" in pilot_summary("Bot", "stop", (), lift, ())
    mirage = replace(win, verdict="mirage", reasons=("pre_trend",))
    assert "value mirage (a trend that predates go-live)" in pilot_summary(
        "Bot", "stop", ("no_real_value",), mirage, ()
    )
