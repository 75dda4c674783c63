"""Every code people read has one name everywhere: the app, the exports and the action titles."""

from analytics.narrative import REASON_PHRASES
from analytics.results import DECISIONS, REASONS, VERDICTS
from pilotproof.words import (
    CHECK_LABELS,
    DECISION_ACTIONS,
    DECISION_LABELS,
    REASON_LABELS,
    VERDICT_LABELS,
    plain_words,
)


def test_every_code_has_a_label():
    assert set(VERDICT_LABELS) == set(VERDICTS)
    assert set(DECISION_LABELS) == set(DECISIONS) == set(DECISION_ACTIONS)
    assert set(REASON_LABELS) == set(REASONS)
    assert set(CHECK_LABELS) <= set(REASONS)


def test_reasons_read_the_same_in_titles_and_tables():
    # the action titles (analytics.narrative) and the reason columns (pilotproof.words) used to
    # name some reasons differently ("a guardrail got worse" vs "a guardrail worsened")
    assert REASON_LABELS == REASON_PHRASES
    assert len(set(REASON_LABELS.values())) == len(REASON_LABELS)


def test_large_changes_read_as_multiples():
    from pilotproof.words import change_text

    assert change_text(-21.34) == "-21.3%" and change_text(300.0) == "+300.0%"
    assert change_text(4100.0) == "42x" and change_text(4067.6) == "41.7x"
    assert change_text(250_000.0) == "2,501x"
    assert change_text(350.0) == "4.5x" and change_text(None) == "n/a"


def test_activity_and_guardrails_have_their_own_words():
    from pilotproof.words import guardrail_status, verdict_label

    assert verdict_label("real", "activity") == "Activity, not value"
    assert verdict_label("real", "value") == "Real impact"
    assert guardrail_status("no_change", False) == "held"
    assert guardrail_status("mirage", True) == "held"
    assert guardrail_status("worse", True) == "worsened beyond tolerance"
    # +4.5 points against 5 tolerated: the title said within, the table said beyond (partner)
    assert guardrail_status("worse", False) == "worsened, within tolerance"
    # a 95% interval that still reaches past the tolerance: not shown within it, never "held"
    assert guardrail_status("inconclusive", False, unproven=True) == (
        "not yet shown within tolerance"
    )
    assert guardrail_status("worse", False, unproven=True) == (
        "worsened, not yet shown within tolerance"
    )
    assert guardrail_status("worse", True, unproven=False) == "worsened beyond tolerance"


def test_explanations_in_plain_words():
    from pilotproof.words import plain_words

    assert plain_words("The 95% interval (autocorrelation-robust) includes no change.") == (
        "The 95% interval includes no change: the move is within normal variation."
    )
    assert plain_words("60 pre-period and 30 post-period points (D).") == (
        "About 2 months of daily history before go-live (60 days) and 30 days after."
    )
    assert "placebo" not in plain_words("and a placebo go-live shows none.")
    # a passed noise check says what it found, not a double negative
    passed = plain_words("The 95% interval excludes no change.")
    assert "excludes no change" not in passed
    assert passed.startswith("The change is larger than noise explains")


def test_money_never_breaks_between_currency_and_amount():
    from pilotproof.words import NBSP, money

    assert money(480_000, "EUR") == f"EUR{NBSP}480k"
    assert " " not in money(-108_381, "GBP")  # no breakable space anywhere in an amount
    assert money(480_000) == "480k"


def test_regression_to_the_mean_reads_as_a_rebound():
    from pilotproof.words import causes

    assert causes(("noise", "regression_to_mean")) == (
        "a rebound after an unusually bad spell, within normal variation"
    )


def test_a_bar_is_said_in_words_and_in_its_metrics_scale():
    """'may worsen <= 5%' read as code and said percent for a points metric (issue 13)."""
    from pilotproof.words import bar_words

    assert bar_words("value", 10.0, None, False) == "at least 10% better"
    assert bar_words("guardrail", None, 5.0, True) == "at most 5 points worse"
    assert bar_words("guardrail", None, 1.0, True) == "at most 1 point worse"
    assert bar_words("activity", 10.0, 5.0, False) == ""


def test_a_board_reads_no_p_value_name_nor_an_operators_step():
    """'permutation p', '80% power, 5% level' and 'Check the source.' are for the people who
    load the data, not for a board (issue 13); the rest of the sentence stays whole."""
    from pilotproof.words import board_words

    control = (
        "The control group improved as much. Each of the 5 control units analysed as if it had "
        "gone live: the pilot's change ranks 5 of 6 (permutation p = 0.83)."
    )
    assert board_words(control) == (
        "The control group improved as much. Each of the 5 comparison units was analysed as if "
        "it had gone live: the pilot's change after go-live is larger than 1 of the 5 "
        "comparison units' own."
    )
    slip = (
        "One value, 9694 on 2025-03-10, is 104x its neighbours; it was left out. Check the source."
    )
    assert board_words(slip) == slip.removesuffix(" Check the source.")
    power = (
        "A pre/post comparison could detect a change of about 8.3% at best (80% power, 5% level)."
    )
    assert board_words(power).endswith("about 8.3% at best.")
    assert board_words("(autocorrelation-robust) kept") == plain_words(
        "(autocorrelation-robust) kept"
    )


def test_a_placebo_rank_says_what_is_ranked_numbers_kept():
    """'ranks 5 of 6 (permutation p = 0.83)' (partner): rank r of n + 1 (1 the largest) is a
    change after go-live larger than n + 1 - r of the n comparison units' own."""
    from pilotproof.words import plain_words

    def ranked(rank: int, units: int, p: float) -> str:
        return plain_words(
            f"Each of the {units} control units analysed as if it had gone live: the pilot's "
            f"change ranks {rank} of {units + 1} (permutation p = {p:.2f})."
        )

    assert ranked(5, 5, 0.83) == (
        "Each of the 5 comparison units was analysed as if it had gone live: the pilot's "
        "change after go-live is larger than 1 of the 5 comparison units' own (a change this "
        "large turns up in about 8 in 10 units without the pilot)."
    )  # not "83% of the time by chance" (read-through B14)
    assert "larger than each of the 5 comparison units' own" in ranked(1, 5, 0.17)
    assert "about 2 in 10 units without the pilot" in ranked(1, 5, 0.17)
    assert "no larger than any of the 19 comparison units' own" in ranked(20, 19, 1.0)
    assert "larger than 12 of the 19" in ranked(8, 19, 0.4)


def test_history_and_sizes_are_said_as_a_partner_says_them():
    """'52 pre-period and 3 post-period points ... 8.3%' (partner): how long the history is,
    and what the 8.3% measures."""
    from pilotproof.words import plain_words, span_words

    text = plain_words(
        "52 pre-period and 3 post-period points (W). Without the pilot, the metric was "
        "projected from the pre-period's level; tested on the pre-period, its forecasts were "
        "off by 8.3% on average."
    )
    assert text.startswith(
        "A year of weekly history before go-live (52 weeks) and 3 weeks after. Without the "
        "pilot, the metric was projected from its level before go-live;"
    )
    assert "missed by 8.3% on average (the typical error in what would have happened anyway)" in (
        text
    )
    sizing = plain_words(
        "Needs at least 8 pre-period and 4 post-period points at this frequency; has 52 and 3. "
        "With these 52 pre-period and 3 post-period points, a pre/post comparison could detect "
        "a change of about 8.3% at best (80% power, 5% level).",
        "W",
    )
    assert sizing == (
        "Needs at least 8 weeks before go-live and 4 weeks after; has 52 and 3. With a year "
        "(52 weeks) before go-live and 3 weeks after, a before/after comparison could tell a "
        "change apart from normal variation only from about 8.3% (a real change that size is "
        "found 4 times in 5, with a 1-in-20 risk of a false alarm)."
    )
    assert [span_words(n, f) for n, f in ((182, "D"), (700, "D"), (196, "W"), (3, "W"))] == [
        "about 6 months", "about 2 years", "about 4 years", "3 weeks",
    ]  # fmt: skip
    assert span_words(12, None) == "12 readings" and span_words(2, "Y") == "2 years"


# what a statistician writes and a partner does not say
JARGON = (
    "pre-period", "post-period", "post window", "ranks", "permutation", "placebo",
    "autocorrelation", "cross-section", "exchangeable", "leave-one-out", "minimum detectable",
    "interrupted time series", "power,", "(D)", "(W)", "(M)",
)  # fmt: skip


def test_no_explanation_of_the_sample_portfolio_reads_as_statistics(tmp_path):
    """Every check the explorer shows for the sample portfolio, through `plain_words`, and
    every sentence the analytics can write about history, sizes and ranks: no jargon left,
    every number kept."""
    import re

    from pilotproof.analysis import analyze_store
    from pilotproof.store import Store, seed_sample
    from pilotproof.words import CHECK_LABELS, plain_words

    with Store(tmp_path / "sample.duckdb") as store:
        seed_sample(store)
        results = analyze_store(store)
    texts = [
        (c.explanation, plain_words(c.explanation, e.frequency))
        for r in results
        for e in r.metrics
        for c in e.checks
    ]
    assert len(texts) > 100
    for before, after in texts:
        assert not [j for j in JARGON if j in after], after
        # a rank and a test's power are said in other words (the tests above pin them)
        kept = re.sub(r"ranks \d+ of \d+ \(permutation p = [0-9.]+\)|\(80% power, 5% level\)",
                      "", before)  # fmt: skip
        numbers = re.findall(r"\d+(?:\.\d+)?%?", kept)
        assert all(n in after for n in numbers), (before, after)
    assert not any(j in " ".join(CHECK_LABELS.values()) for j in ("Regression", "decay"))


def test_a_pilot_with_its_running_cost_has_cost_data_and_lacks_a_net_value():
    """The Stop list counted a pilot with a monthly cost as one 'with cost data' while the
    Pilots table called the same pilot 'no cost data: add annual volume'."""
    from pilotproof.words import NOT_IN_MONEY, missing_cost_words, missing_value_words

    assert missing_cost_words(9800.0, None).startswith("no net value: add annual volume")
    assert missing_cost_words(None, None).startswith("no cost data: add monthly cost and annual")
    assert missing_cost_words(float("nan"), 1000.0).startswith("no cost data: add monthly cost")
    assert missing_cost_words(9800.0, 1000.0) == NOT_IN_MONEY
    assert missing_value_words(9800.0, None) == "Value not stated: annual volume not given."
    assert missing_value_words(None, 5.0) == (
        "Value not stated: no cost data (monthly cost not given)."
    )


def test_a_guardrail_within_tolerance_gives_its_level_before_and_after():
    # "rework rate +4.5 points downstream (within the 5 points tolerated)" hid that rework
    # nearly doubled, 5.9% to 10.4% (read-through A2): the levels stand beside the tolerance
    from dataclasses import replace

    from analytics.results import MetricEffect, PilotResult
    from pilotproof.words import burden_words

    rework = MetricEffect(
        pilot_id="P", metric="rework_rate", direction="lower_is_better", kind="guardrail",
        verdict="worse", reasons=(), method="its", frequency="D", n_pre=60, n_post=60,
        effect_pct=76.3, ci_low_pct=60.0, ci_high_pct=90.0, effect_abs=0.045,
        ci_low_abs=0.035, ci_high_abs=0.055, mde_pct=None, baseline=0.059,
        threshold_pct=None, tolerance_pct=5.0, scale="points", effect_points=4.5,
        ci_low_points=3.5, ci_high_points=5.5,
    )  # fmt: skip
    result = PilotResult("P", "scale", (), (), (), (rework,))
    assert burden_words(result) == (
        "rework rate +4.5 points downstream (5.9% → 10.4%, within the 5 points tolerated)"
    )
    breached = replace(result, metrics=(replace(rework, tolerance_pct=0.5),))
    assert burden_words(breached) == "rework rate +4.5 points downstream"
    touches = replace(
        rework, metric="manual_touches", scale="relative", baseline=12.0, effect_abs=1.5,
        effect_pct=12.5, effect_points=None, tolerance_pct=20.0,
    )  # fmt: skip
    assert burden_words(replace(result, metrics=(touches,))) == (
        "manual touches +12% downstream (12.0 → 13.5, within the 20% tolerated)"
    )


def test_board_words_avoid_the_statisticians_jargon():
    # read-through B14: "a fake go-live before the real one", "orchestrating", "difference-in-
    # differences" in the method line, "counterfactual" in every legend
    from pilotproof.words import (
        EXPECTED_BAND,
        EXPECTED_LINE,
        METHOD_SUMMARY,
        STAGE_LABELS,
        plain_words,
    )

    trend = "No pre-existing trend explains the change, and a placebo go-live shows none."
    said = plain_words(trend)
    assert "fake" not in said and "placebo" not in said
    assert said.endswith("the same test run at an earlier date, when nothing changed, shows none.")
    early = plain_words("A fake go-live in the pre-period shows a similar effect.")
    assert early.startswith("The same test run at an earlier date, when nothing changed, shows")
    assert METHOD_SUMMARY["did"] == "compared with the control sites"
    assert "orchestrating" not in " ".join(STAGE_LABELS.values()).lower()
    assert "counterfactual" not in f"{EXPECTED_LINE} {EXPECTED_BAND}".lower()
