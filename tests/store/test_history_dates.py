"""Historical series: dates before 1900 (river flows, old policy panels) get in and are
analysed; impossible years are still refused."""

from __future__ import annotations

import numpy as np
import pytest

from pilotproof.analysis import analyze_store
from pilotproof.store import IngestError, Store


def test_yearly_series_from_the_nineteenth_century(csv_file, store: Store) -> None:
    rng = np.random.default_rng(0)
    lines = ["pilot_id,date,metric,value"]
    for year in range(1860, 1910):
        level = 100.0 - (15.0 if year >= 1890 else 0.0)
        lines.append(f"NILE,{year},cycle_time,{level + rng.normal(0, 3):.2f}")
    store.ingest([csv_file("pilots.csv", "pilot_id,go_live\nNILE,1890-01-01\n")])
    store.ingest([csv_file("flows.csv", "\n".join(lines) + "\n")])
    effect = analyze_store(store)[0].metrics[0]
    assert effect.frequency == "Y"
    assert effect.verdict == "real"
    assert -20 < effect.effect_pct < -10
    season = next(c for c in effect.checks if c.name == "seasonality")
    assert "less than a year" not in season.explanation.lower()


def test_a_year_out_of_range_is_still_refused(csv_file, store: Store) -> None:
    bad = csv_file("old.csv", "pilot_id,date,metric,value\nP1,1650-01-01,cycle_time,5\n")
    with pytest.raises(IngestError) as refused:
        store.ingest([bad])
    assert "old.csv:2" in str(refused.value)
