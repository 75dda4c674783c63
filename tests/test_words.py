"""Every code people read has one name everywhere: the app, the exports and the action titles."""

from analytics.narrative import REASON_PHRASES
from analytics.results import DECISIONS, REASONS, VERDICTS
from pilotproof.words import (
    CHECK_LABELS,
    DECISION_LABELS,
    REASON_LABELS,
    VERDICT_LABELS,
)


def test_every_code_has_a_label():
    assert set(VERDICT_LABELS) == set(VERDICTS)
    assert set(DECISION_LABELS) == set(DECISIONS)
    assert set(REASON_LABELS) == set(REASONS)
    assert set(CHECK_LABELS) <= set(REASONS)


def test_reasons_read_the_same_in_titles_and_tables():
    # the action titles (analytics.narrative) and the reason columns (pilotproof.words) used to
    # name some reasons differently ("a guardrail got worse" vs "a guardrail worsened")
    assert REASON_LABELS == REASON_PHRASES
    assert len(set(REASON_LABELS.values())) == len(REASON_LABELS)
