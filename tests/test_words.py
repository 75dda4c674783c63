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


def test_explanations_in_plain_words():
    from pilotproof.words import plain_words

    assert plain_words("The 95% interval (autocorrelation-robust) includes no change.") == (
        "The 95% interval includes no change: the move is within normal variation."
    )
    assert plain_words("60 pre-period and 30 post-period points (D).") == (
        "60 pre-period and 30 post-period points (daily)."
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
    assert board_words(control) == control.replace(" (permutation p = 0.83)", "")
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
