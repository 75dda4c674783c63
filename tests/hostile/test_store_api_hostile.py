"""The Store's write methods (the ones the Settings, Readiness and Explorer pages call) with
hostile arguments: refused with a StoreError and nothing written, or stored as inert text."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotproof.store import Store, StoreError

from .conftest import dump


@pytest.fixture
def store(registry: Path):
    with Store(registry) as opened:
        yield opened


def _refused(store: Store, call) -> None:
    before = dump_store(store)
    with pytest.raises(StoreError):
        call()
    assert dump_store(store) == before


def dump_store(store: Store) -> dict:
    def rows(frame) -> list[tuple]:
        return [tuple(repr(v) for v in row) for row in frame.itertuples(index=False)]

    return {
        "catalog": rows(store.catalog()),
        "thresholds": rows(store.thresholds()),
        "events": rows(store.events()),
        "pilots": rows(store.pilots()),
        "version": store.data_version(),
    }


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s: s.add_metric("m1", "sideways", "", "value", 5, 5), id="direction"),
        pytest.param(
            lambda s: s.add_metric("m2", "lower_is_better", "", "vanity", 5, 5), id="kind"
        ),
        pytest.param(
            lambda s: s.add_metric("cycle_time", "higher_is_better", "", "value", 5, 5),
            id="builtin_flip",
        ),
        pytest.param(
            lambda s: s.add_metric("", "lower_is_better", "", "value", 5, 5), id="no_name"
        ),
        pytest.param(lambda s: s.save_readiness("ZZ", {"workflow": "x"}), id="readiness_pilot"),
        pytest.param(lambda s: s.save_readiness("P1", {"x; DROP": "y"}), id="readiness_field"),
        pytest.param(lambda s: s.add_event("P1", "2024-02-30", "x"), id="event_date"),
        pytest.param(lambda s: s.undo_upload(9999), id="undo_unknown"),
    ],
)
def test_refused_and_nothing_written(store: Store, call) -> None:
    _refused(store, lambda: call(store))


def test_hostile_text_is_stored_as_text(store: Store, registry: Path) -> None:
    label = "'); DROP TABLE events; --"
    event_id = store.add_event("P1", "2024-01-05", label)
    store.save_readiness("P1", {"workflow": "<script>alert(1)</script>", "value_metric": None})
    store.save_mapping("'; DROP TABLE mappings; --", {"Pilot": "pilot_id"})
    assert store.events("P1").set_index("event_id").loc[event_id, "label"] == label
    assert store.pilots().set_index("pilot_id").loc["P1", "workflow"] == "<script>alert(1)</script>"
    assert store.mappings()["'; DROP TABLE mappings; --"] == {"Pilot": "pilot_id"}
    store.close()
    assert {"events", "mappings", "observations", "pilots"} <= set(dump(registry))


@pytest.mark.parametrize(
    ("threshold", "tolerance"),
    [(float("nan"), 5.0), (float("inf"), 5.0), (-5.0, 5.0), (10.0, float("nan")), (10.0, -1.0)],
)
def test_set_threshold_refuses_non_finite_or_negative(
    store: Store, threshold: float, tolerance: float
) -> None:
    _refused(store, lambda: store.set_threshold("cycle_time", threshold, tolerance))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s: s.set_threshold("nope", 5.0, 5.0), id="threshold_metric"),
        pytest.param(
            lambda s: s.set_threshold("cycle_time", 5.0, 5.0, pilot_id="ZZ"), id="threshold_pilot"
        ),
        pytest.param(lambda s: s.add_event("ZZ", "2024-01-05", "x"), id="event_pilot"),
    ],
)
def test_unknown_ids_are_refused(store: Store, call) -> None:
    _refused(store, lambda: call(store))
