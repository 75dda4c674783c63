"""End to end on the shipped sample: ingest into a fresh store, analyse the portfolio, and hold
each pilot's value-metric verdict, reason and decision against the truth built into the data
(`data/sample/expected.csv`).

`expected_reason` is the story's reason code: it must appear among the metric's reasons (a
mirage check) or the pilot's reasons (burden_shift, readiness_gap, too_early, ...). Empty for a
clean win.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sample_data import SAMPLE_DIR, load_generator

from analytics.portfolio import analyze_portfolio
from analytics.results import PilotResult
from pilotproof.store import Store, sample_files, seed_catalog

EXPECTED = pd.read_csv(SAMPLE_DIR / "expected.csv", keep_default_na=False)

# Real wins as built by data/sample/make_sample.py: (relative change at full effect, ease-in
# days). The true average effect over the post window is size x mean ease-in factor.
BUILT_IN_EFFECTS = {
    ("NW-AP", "cycle_time"): (-31.0, 5),
    ("HB-TRIAGE", "cycle_time"): (-26.0, 56),
    ("HB-FNOL", "cycle_time"): (-21.0, 21),
    ("CB-ASSIST", "response_time"): (-36.0, 7),
    ("MF-AUDIT", "cost_per_transaction"): (-34.0, 14),
}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> tuple[dict[str, PilotResult], pd.DataFrame, pd.DataFrame]:
    with Store(tmp_path_factory.mktemp("truth") / "x.duckdb") as store:
        seed_catalog(store)  # the custom metric's unit, as the app seeds it
        store.ingest(sample_files(), user="test")
        observations, pilots = store.observations(), store.pilots()
        results = analyze_portfolio(observations, pilots, store.catalog(), store.thresholds())
    return {r.pilot_id: r for r in results}, observations, pilots


def case_id(row) -> str:
    return f"{row.pilot_id}-{row.metric}-{row.expected_reason or row.expected_verdict}"


@pytest.mark.parametrize("row", list(EXPECTED.itertuples(index=False)), ids=case_id)
def test_verdict_reason_and_decision_match_the_truth(row, analysed):
    results, _, _ = analysed
    pilot = results[row.pilot_id]
    effects = {m.metric: m for m in pilot.metrics}
    assert row.metric in effects, f"{row.pilot_id} has no result for {row.metric}"
    effect = effects[row.metric]
    story = f"{row.pilot_id} {row.metric}: {effect.note} {pilot.summary}"
    assert effect.verdict == row.expected_verdict, story
    if row.expected_reason:
        assert row.expected_reason in {*effect.reasons, *pilot.reasons}, story
    assert pilot.decision == row.expected_decision, story


def test_value_metrics_are_the_ones_the_teams_named(analysed):
    results, _, pilots = analysed
    named = pilots.set_index("pilot_id")["value_metric"]
    for pilot_id, result in results.items():
        if pd.notna(named[pilot_id]):
            assert result.value_metrics == (named[pilot_id],), pilot_id
    assert set(results) == set(pilots["pilot_id"])


@pytest.mark.parametrize("key", sorted(BUILT_IN_EFFECTS), ids="-".join)
def test_real_wins_interval_covers_the_built_in_effect(key, analysed):
    results, observations, pilots = analysed
    pilot_id, metric = key
    size, ease_days = BUILT_IN_EFFECTS[key]
    go_live = pilots.set_index("pilot_id").loc[pilot_id, "go_live"]
    rows = observations[
        (observations["pilot_id"] == pilot_id)
        & (observations["metric"] == metric)
        & (observations["group"] == "treatment")
    ]
    post_dates = pd.DatetimeIndex(sorted(rows.loc[rows["date"] >= go_live, "date"].unique()))
    generator = load_generator()
    truth = size * generator.step(post_dates, go_live, ease_days=ease_days).mean()
    effect = next(m for m in results[pilot_id].metrics if m.metric == metric)
    assert effect.ci_low_pct <= truth <= effect.ci_high_pct, (truth, effect)
