"""Re-upload idempotence, replacement with audit, undo, pilot upserts and the small writes."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from analytics.results import READINESS_FIELDS
from pilotproof.store import Store, StoreError, open_default

HEAD = "pilot_id,date,metric,value\n"


def test_reupload_of_the_same_content_is_a_recorded_noop(csv_file, seeded: Store, snapshot) -> None:
    path = csv_file("again.csv", Path(csv_file("x", "")).parent.joinpath("base.csv").read_bytes())
    tables = snapshot(seeded)
    result = seeded.ingest([path])
    assert result.noop and result.upload_ids == ()
    assert "already ingested as upload 2" in result.summary
    after = snapshot(seeded)
    assert after["observations"] == tables["observations"]
    uploads = seeded.uploads()
    assert uploads["outcome"].tolist() == ["ok", "ok", "noop"]
    assert uploads["file_name"].iloc[-1] == "again.csv"  # the name, not the folders


def test_corrected_file_replaces_the_period_and_undo_restores_it(csv_file, seeded: Store) -> None:
    before = seeded.observations()
    corrected = HEAD + "P1,2024-01-02,cycle_time,4.4\nP1,2024-01-03,cycle_time,3.9\n"
    result = seeded.ingest([csv_file("fix.csv", corrected)], user="ana")
    assert result.replaced_rows == 2
    assert "replaced 2 earlier rows" in result.summary
    values = seeded.observations().set_index(seeded.observations()["date"].dt.day)["value"]
    assert values.to_dict() == {1: 5.0, 2: 4.4, 3: 3.9}
    audit = seeded.uploads().iloc[-1]
    assert (audit["user"], audit["outcome"], audit["rows"], audit["kind"]) == (
        "ana",
        "ok",
        2,
        "long",
    )
    assert audit["date_min"] == pd.Timestamp("2024-01-02")

    version = seeded.data_version()
    seeded.undo_upload(result.upload_ids[0])
    assert seeded.data_version() > version
    pd.testing.assert_frame_equal(seeded.observations(), before)
    assert seeded.uploads().iloc[-1]["outcome"] == "undone"
    with pytest.raises(StoreError, match="nothing to undo"):
        seeded.undo_upload(result.upload_ids[0])
    # after an undo the same file is no longer a no-op
    assert not seeded.ingest([csv_file("fix.csv", corrected)]).noop


def test_corrected_uploads_are_undone_newest_first(csv_file, seeded: Store, snapshot) -> None:
    first = seeded.ingest([csv_file("a.csv", HEAD + "P2,2024-01-01,cycle_time,1\n")])
    second = seeded.ingest([csv_file("b.csv", HEAD + "P2,2024-01-01,cycle_time,2\n")])
    before = snapshot(seeded)
    with pytest.raises(StoreError, match=f"corrected later by upload {second.upload_ids[0]}"):
        seeded.undo_upload(first.upload_ids[0])
    assert snapshot(seeded) == before
    seeded.undo_upload(second.upload_ids[0])
    assert seeded.observations(["P2"])["value"].tolist() == [1.0]
    seeded.undo_upload(first.upload_ids[0])
    assert seeded.observations(["P2"]).empty


def test_pilot_versions_are_undone_newest_first(store: Store) -> None:
    store.ingest([("p0.csv", b"pilot_id,go_live\nP1,2024-01-01\n")])
    u = store.ingest([("p1.csv", b"pilot_id,go_live\nP1,2024-02-01\n")]).upload_ids[0]
    v = store.ingest([("p2.csv", b"pilot_id,go_live\nP1,2024-03-01\n")]).upload_ids[0]
    with pytest.raises(StoreError, match="undo that first"):
        store.undo_upload(u)
    store.undo_upload(v)
    store.undo_upload(u)
    pilots = store.pilots()
    assert pilots["go_live"].tolist() == [pd.Timestamp("2024-01-01")]


def test_pilots_upsert_keeps_absent_columns_and_undo_restores(csv_file, store: Store) -> None:
    store.ingest(
        [csv_file("p1.csv", "pilot_id,go_live,workflow,company\nP1,2024-01-01,tickets,Acme\n")]
    )
    update = store.ingest([csv_file("p2.csv", "pilot_id,go_live\nP1,2024-02-01\nP3,2024-05-01\n")])
    pilots = store.pilots().set_index("pilot_id")
    assert pilots.loc["P1", "go_live"] == pd.Timestamp("2024-02-01")
    assert pilots.loc["P1", "workflow"] == "tickets"  # not in the second file: kept
    assert sorted(pilots.index) == ["P1", "P3"]
    store.undo_upload(update.upload_ids[0])
    pilots = store.pilots().set_index("pilot_id")
    assert list(pilots.index) == ["P1"]
    assert pilots.loc["P1", "go_live"] == pd.Timestamp("2024-01-01")


def test_undoing_a_pilots_file_keeps_readiness_answers_saved_since(csv_file, store: Store):
    store.ingest([csv_file("p1.csv", "pilot_id,go_live,pilot_name\nP1,2024-01-01,Old\n")])
    update = store.ingest([csv_file("p2.csv", "pilot_id,go_live,pilot_name\nP1,2024-01-01,New\n")])
    store.save_readiness("P1", {"exception_path": "queue to a senior agent"})
    store.undo_upload(update.upload_ids[0])
    row = store.pilots().set_index("pilot_id").loc["P1"]
    assert row["pilot_name"] == "Old"  # what the undone file wrote is reverted
    assert row["exception_path"] == "queue to a senior agent"  # what was saved since is kept


def test_pilots_and_metrics_in_one_call(csv_file, store: Store) -> None:
    result = store.ingest(
        [
            csv_file("m.csv", HEAD + "P5,2024-01-01,cycle_time,3\n"),
            csv_file("p.csv", "pilot_id,go_live\nP5,2024-01-01\n"),
        ]
    )
    assert (result.rows, result.pilots_upserted, len(result.upload_ids)) == (1, 1, 2)
    assert "ingested 1 row: 1 pilot, 1 series, 2024-01-01 to 2024-01-01" in result.summary


def test_bytes_uploads_and_a_column_mapping(store: Store) -> None:
    store.ingest([("p.csv", b"pilot_id,go_live\nP1,2024-01-01\n")])
    result = store.ingest(
        [("export.csv", b"Project,Day,KPI,Amount\nP1,2024-01-01,cycle_time,2\n")],
        mapping={"Project": "pilot_id", "Day": "date", "KPI": "metric", "Amount": "value"},
    )
    assert result.rows == 1
    assert store.uploads()["file_name"].tolist() == ["p.csv", "export.csv"]


def test_progress_is_reported(store: Store) -> None:
    seen: list[tuple[float, str]] = []
    store.ingest(
        [("p.csv", b"pilot_id,go_live\nP1,2024-01-01\n")], progress=lambda f, m: seen.append((f, m))
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_events_thresholds_readiness_metrics_and_mappings(seeded: Store) -> None:
    version = seeded.data_version()
    event_id = seeded.add_event("P1", "2024-02-15", "new triage rule")
    events = seeded.events("P1")
    assert events[["event_id", "label"]].values.tolist() == [[event_id, "new triage rule"]]
    assert events["date"].iloc[0] == pd.Timestamp("2024-02-15")
    seeded.delete_event(event_id)
    assert seeded.events().empty

    seeded.set_threshold("cycle_time", 15.0, 4.0)
    seeded.set_threshold("cycle_time", 20.0, None, pilot_id="P1")
    catalog = seeded.catalog().set_index("metric")
    assert (
        catalog.loc["cycle_time", "threshold_pct"],
        catalog.loc["cycle_time", "tolerance_pct"],
    ) == (15.0, 4.0)
    overrides = seeded.thresholds()
    assert overrides.iloc[0][["pilot_id", "metric", "threshold_pct"]].tolist() == [
        "P1",
        "cycle_time",
        20.0,
    ]
    assert pd.isna(overrides.iloc[0]["tolerance_pct"])

    seeded.save_readiness(
        "P1", {"workflow": " tickets ", "decision_owner": "", "value_metric": None}
    )
    pilot = seeded.pilots().set_index("pilot_id").loc["P1"]
    assert (pilot["workflow"], pilot["decision_owner"], pilot["value_metric"]) == (
        "tickets",
        None,
        None,
    )
    with pytest.raises(StoreError, match="not readiness questions"):
        seeded.save_readiness("P1", {"go_live": "2020-01-01"})
    with pytest.raises(StoreError, match="no pilot"):
        seeded.save_readiness("P9", {"workflow": "x"})

    seeded.add_metric("first_contact_resolution", "higher_is_better", "rate", "value", 5.0, 3.0)
    row = seeded.catalog().set_index("metric").loc["first_contact_resolution"]
    assert (row["unit"], row["kind"], bool(row["builtin"])) == ("rate", "value", False)
    with pytest.raises(StoreError, match="built in"):
        seeded.add_metric("cycle_time", "lower_is_better", "hours", "value", 1.0, 1.0)
    with pytest.raises(StoreError, match="direction"):
        seeded.add_metric("x", "sideways", "", "value", 1.0, 1.0)
    with pytest.raises(StoreError, match="finite percent"):
        seeded.add_metric("x", "lower_is_better", "", "value", float("inf"), 1.0)

    seeded.save_mapping("erp", {"Project": "pilot_id"})
    seeded.save_mapping("erp", {"Project": "pilot_id", "Day": "date"})
    assert seeded.mappings() == {"erp": {"Project": "pilot_id", "Day": "date"}}
    assert seeded.data_version() == version + 8  # one per successful write, none for refusals


def test_new_rate_metric_is_checked_against_one(seeded: Store) -> None:
    from pilotproof.store import IngestError

    seeded.add_metric("first_contact_resolution", "higher_is_better", "rate", "value", 5.0, 3.0)
    with pytest.raises(IngestError, match="cannot exceed 1"):
        seeded.ingest([("m.csv", (HEAD + "P1,2024-01-01,first_contact_resolution,80\n").encode())])


def test_interface_columns(seeded: Store) -> None:
    assert list(seeded.pilots().columns) == [
        "pilot_id",
        "pilot_name",
        "company",
        "function",
        "vendor",
        "go_live",
        "monthly_cost",
        "annual_volume",
        *READINESS_FIELDS,
    ]
    assert list(seeded.catalog().columns) == [
        "metric",
        "direction",
        "unit",
        "kind",
        "threshold_pct",
        "tolerance_pct",
        "builtin",
        "scale",
    ]
    assert list(seeded.thresholds().columns) == [
        "pilot_id",
        "metric",
        "threshold_pct",
        "tolerance_pct",
    ]
    assert list(seeded.events().columns) == ["event_id", "pilot_id", "date", "label"]
    assert list(seeded.uploads().columns) == [
        "upload_id",
        "file_name",
        "content_hash",
        "kind",
        "rows",
        "pilots",
        "date_min",
        "date_max",
        "user",
        "uploaded_at",
        "outcome",
        "message",
    ]
    catalog = seeded.catalog().set_index("metric")
    assert catalog.loc["margin", "direction"] == "higher_is_better"
    assert catalog.loc["rework_rate", "kind"] == "guardrail"
    assert catalog.loc["ai_usage", "kind"] == "activity"
    assert set(catalog["kind"]) == {"value", "guardrail", "activity"}


def test_threads_share_one_store(seeded: Store) -> None:
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(20):
                assert len(seeded.observations()) == 3
                seeded.pilots()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    writer = threading.Thread(
        target=lambda: [seeded.add_event("P1", "2024-01-01", "x") for _ in range(10)]
    )
    for t in [*threads, writer]:
        t.start()
    for t in [*threads, writer]:
        t.join()
    assert errors == []
    assert len(seeded.events()) == 10


def test_second_process_gets_a_clear_lock_message(tmp_path: Path) -> None:
    """A file held past the wait is a one-line message, never DuckDB's (which names the
    holder's interpreter and PID)."""
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    store = Store(path)
    with store._lease():  # held, as during a long write
        code = (
            "from pilotproof.store import Store, StoreError\n"
            f"try:\n    Store(r'{path}', wait=0.5)\nexcept StoreError as e:\n    print(e)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    store.close()
    assert "in use by another process" in out.stdout, out.stderr
    assert "PID" not in out.stdout and "python" not in out.stdout.lower()


def test_open_default_seeds_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / "pilots.csv").write_text("pilot_id,go_live\nS1,2024-01-01\n")
    (sample / "metrics_daily.csv").write_text(HEAD + "S1,2024-01-01,cycle_time,2\n")
    monkeypatch.setenv("PILOTPROOF_DB", str(tmp_path / "default.duckdb"))
    with open_default(sample_dir=sample) as store:
        assert store.path == tmp_path / "default.duckdb"
        assert store.pilots()["pilot_id"].tolist() == ["S1"]
        assert len(store.observations()) == 1
    with open_default(sample_dir=sample) as store:
        assert len(store.uploads()) == 2  # not seeded twice
    monkeypatch.setenv("PILOTPROOF_DB", str(tmp_path / "empty.duckdb"))
    with open_default(seed=False, sample_dir=sample) as store:
        assert store.pilots().empty


def test_open_default_seeds_the_shipped_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilotproof.store import SAMPLE_DIR, sample_files

    if not sample_files():
        pytest.skip(f"no sample data in {SAMPLE_DIR}")
    monkeypatch.setenv("PILOTPROOF_DB", str(tmp_path / "sample.duckdb"))
    with open_default() as store:
        pilots = store.pilots()
        assert len(pilots) >= 10
        observed = set(store.observations()["pilot_id"])
        assert observed <= set(pilots["pilot_id"]) and len(observed) >= 10


def test_refused_ingests_leave_no_gap_in_upload_ids(seeded: Store) -> None:
    from pilotproof.store import IngestError

    for bad in (b"P1,2024-05-01,cycle_time,-1\n", b"P1,2024-05-01,cycle_time,x\n"):
        with pytest.raises(IngestError):
            seeded.ingest([("bad.csv", HEAD.encode() + bad)])
    result = seeded.ingest([("ok.csv", HEAD.encode() + b"P1,2024-05-01,cycle_time,1\n")])
    assert result.upload_ids == (3,)
    again = seeded.ingest([("ok.csv", HEAD.encode() + b"P1,2024-05-01,cycle_time,1\n")])
    assert seeded.uploads()["upload_id"].tolist() == [1, 2, 3, 4] and again.noop


def test_hostile_text_is_stored_as_text(seeded: Store, snapshot) -> None:
    """Quotes, SQL and formulas in headers and cells are values: parameterised, never run."""
    nasty_id = "P1'); DROP TABLE pilots; --"
    pilots = (
        'pilot_id,go_live,pilot_name,"weird ""col"""\n'
        f'"{nasty_id}",2024-01-01,"=HYPERLINK(""http://x"")",x\n'
    )
    metrics = f'pilot_id,date,metric,value\n"{nasty_id}",2024-01-01,cycle_time,1\n'
    seeded.ingest([("p.csv", pilots.encode()), ("m.csv", metrics.encode())])
    stored = seeded.pilots().set_index("pilot_id")
    assert stored.loc[nasty_id, "pilot_name"] == '=HYPERLINK("http://x")'
    assert "P1" in stored.index  # the table is still there, with the earlier pilots
    assert nasty_id in set(seeded.observations()["pilot_id"])
    before = snapshot(seeded)
    with pytest.raises(StoreError):
        seeded.ingest([("m.csv", b'pilot_id,date,metric,value\n"x\'--",2024-01-01,cycle_time,1\n')])
    assert snapshot(seeded) == before


def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pilotproof.store import default_db_path

    monkeypatch.delenv("PILOTPROOF_DB", raising=False)
    assert default_db_path() == Path(__file__).resolve().parents[2] / "data" / "pilotproof.duckdb"
    monkeypatch.setenv("PILOTPROOF_DB", str(tmp_path / "x.duckdb"))
    assert default_db_path() == tmp_path / "x.duckdb"


def test_a_corrected_mapping_is_new_content_and_the_same_one_a_noop(seeded: Store) -> None:
    export = ("export.csv", b"Pilot,Day,KPI,Hours,Minutes\nP1,2024-01-09,cycle_time,5,300\n")
    mapping = {"Pilot": "pilot_id", "Day": "date", "KPI": "metric"}
    assert not seeded.ingest([export], mapping={**mapping, "Minutes": "value"}).noop
    assert seeded.ingest([export], mapping={**mapping, "Minutes": "value"}).noop
    fixed = seeded.ingest([export], mapping={**mapping, "Hours": "value"})
    assert not fixed.noop
    obs = seeded.observations(["P1"])
    assert obs.loc[obs["date"] == pd.Timestamp("2024-01-09"), "value"].tolist() == [5.0]


@pytest.mark.parametrize("mapping", [{"Pilot": None}, {"Pilot": "  "}, {"": "pilot_id"}, ["x"]])
def test_a_broken_mapping_is_refused_before_anything(seeded: Store, snapshot, mapping) -> None:
    from pilotproof.store import IngestError, validate_files

    export = ("export.csv", b"Pilot,date,metric,value\nP1,2024-01-09,cycle_time,5\n")
    before = snapshot(seeded)
    with pytest.raises(IngestError, match="mapping"):
        seeded.ingest([export], mapping=mapping)
    assert snapshot(seeded) == before
    report = validate_files([export], mapping=mapping)
    assert not report.ok and "mapping" in report.problems[0].message


def test_a_column_a_later_migration_adds_survives_replace_and_undo(csv_file, store: Store):
    # a migration adds a column at the end of pilots and replaced_pilots, after upload_id: rows
    # copied between them by position put the answers in the wrong columns (a fresh reader who
    # added a readiness question met "Could not convert string to INT32")
    with store._cursor() as cur:
        for table in ("pilots", "replaced_pilots"):
            cur.execute(f"ALTER TABLE {table} ADD COLUMN later_question VARCHAR")
    store.ingest([csv_file("p1.csv", "pilot_id,go_live,pilot_name\nP1,2024-01-01,Old\n")])
    update = store.ingest([csv_file("p2.csv", "pilot_id,go_live,pilot_name\nP1,2024-01-01,New\n")])
    assert store.pilots().set_index("pilot_id").loc["P1", "pilot_name"] == "New"
    store.undo_upload(update.upload_ids[0])
    assert store.pilots().set_index("pilot_id").loc["P1", "pilot_name"] == "Old"
