"""Every accepted format loads to the same long-form observations."""

from __future__ import annotations

import pandas as pd
import pytest

from pilotproof.store import Store

EXPECTED = [("P1", "cycle_time", "2024-01-01", 5.5), ("P1", "cycle_time", "2024-01-02", 4.25)]


def _rows(store: Store) -> list[tuple]:
    frame = store.observations()
    return [
        (r.pilot_id, r.metric, r.date.strftime("%Y-%m-%d"), r.value)
        for r in frame.itertuples(index=False)
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"pilot_id,date,metric,value\nP1,2024-01-01,cycle_time,5.5\nP1,2024-01-02,cycle_time,4.25\n",
        b"\xef\xbb\xbfpilot_id,date,metric,value\nP1,2024-01-01,cycle_time,5.5\n"
        b"P1,2024-01-02,cycle_time,4.25\n",
        b"pilot_id,date,metric,value\r\nP1,2024-01-01,cycle_time,5.5\r\nP1,2024-01-02,cycle_time,4.25",
        b'"pilot_id","date","metric","value"\n"P1","2024-01-01","cycle_time","5.5"\n'
        b'"P1","2024-01-02","cycle_time","4.25"\n',
        b"\xef\xbb\xbfpilot_id;date;metric;value\r\nP1;01.01.2024;cycle_time;5,5\r\n"
        b"P1;02.01.2024;cycle_time;4,25\r\n",
        b"pilot_id,date,cycle_time\nP1,2024-01-01,5.5\nP1,2024-01-02,4.25\n",
        b"Pilot ID,Date,Cycle Time\nP1,2024-01-01 00:00:00,5.5\nP1,2024-01-02,4.25\n",
        b"pilot_id,date,metric,value\n P1 , 2024-01-01 ,Cycle_Time, 5.5\n"
        b"P1,2024-01-02,cycle_time,4.25\n"
        b",,,\n",
        b"pilot_id,date,metric,value\nP1,2024-01-01, Cycle Time ,5.5\n"
        b"P1,2024-01-02,cycle-time,4.25\n",
        b"pilot_id,date,Cycle-Time\nP1,2024-01-01,5.5\nP1,2024-01-02,4.25\n",
        b"pilot_id,date,metric,value\rP1,2024-01-01,cycle_time,5.5\rP1,2024-01-02,cycle_time,4.25\r",
        b"pilot_id,date,metric,value\r\nP1,2024-01-01,cycle_time,5.5\n"
        b"P1,2024-01-02,cycle_time,4.25\r\n\r\n",
        b"pilot_id,date,metric,value\nP1,2024-01-01,cycle_time,5.5\n  \t\n"
        b"P1,2024-01-02,cycle_time,4.25\n   \n",
    ],
    ids=[
        "plain",
        "bom",
        "crlf_no_final_newline",
        "quoted",
        "european_bom",
        "wide",
        "wide_labels",
        "spaces_case_and_empty_row",
        "long_metric_labels",
        "wide_hyphen_label",
        "cr_only_mac",
        "mixed_lf_crlf",
        "blank_lines_of_spaces",
    ],
)
def test_accepted_format(csv_file, seeded: Store, content: bytes) -> None:
    seeded.undo_upload(2)  # drop the base rows so only this file's rows remain
    seeded.ingest([csv_file("m.csv", content)])
    assert _rows(seeded) == EXPECTED


def test_custom_metric_has_one_spelling_in_every_shape(csv_file, seeded: Store) -> None:
    seeded.add_metric("Avg Handle Time", "lower_is_better", "minutes", "value", 5.0, 5.0)
    seeded.set_threshold("avg-handle-time", 7.0, 2.0)
    seeded.ingest(
        [csv_file("long.csv", "pilot_id,date,metric,value\nP1,2024-01-01,AVG handle time,5\n")]
    )
    seeded.ingest([csv_file("wide.csv", "pilot_id,date,Avg-Handle-Time\nP1,2024-01-02,6\n")])
    frame = seeded.observations(["P1"])
    assert set(frame["metric"]) == {"cycle_time", "avg_handle_time"}
    row = seeded.catalog().set_index("metric").loc["avg_handle_time"]
    assert (row["threshold_pct"], row["tolerance_pct"]) == (7.0, 2.0)


def test_long_with_every_optional_column(csv_file, seeded: Store) -> None:
    text = (
        "pilot_id,date,metric,value,group,unit,segment,volume,direction\n"
        "P2,2024-01-01,cycle_time,5,treatment,team-a,simple,120,\n"
        "P2,2024-01-01,cycle_time,9,treatment,team-a,complex,30,\n"
        "P2,2024-01-01,cycle_time,6,control,site-b,,,\n"
        'P2,2024-01-01,hold_time,"1.5",,,,,lower_is_better\n'
    )
    result = seeded.ingest([csv_file("m.csv", text)])
    assert (result.rows, result.series, result.pilots) == (4, 4, 1)
    frame = seeded.observations(["P2"])
    assert list(frame.columns) == [
        "pilot_id",
        "metric",
        "date",
        "group",
        "unit",
        "segment",
        "value",
        "volume",
    ]
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["volume"].dtype == "float64" and frame["volume"].isna().sum() == 2
    control = frame[frame["group"] == "control"].iloc[0]
    assert (control["unit"], control["segment"]) == ("site-b", "")
    hold = frame[frame["metric"] == "hold_time"].iloc[0]
    assert (hold["group"], hold["value"]) == ("treatment", 1.5)
    catalog = seeded.catalog().set_index("metric")
    assert catalog.loc["hold_time", "direction"] == "lower_is_better"
    assert not catalog.loc["hold_time", "builtin"]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2024-01-01", "2024-01-02", "2024-01-03"], ["2024-01-01", "2024-01-02", "2024-01-03"]),
        (["2024-01-01", "2024-01-08", "2024-01-15"], ["2024-01-01", "2024-01-08", "2024-01-15"]),
        (["2024-01", "2024-02", "2024-03"], ["2024-01-01", "2024-02-01", "2024-03-01"]),
        (["2022", "2023", "2024"], ["2022-01-01", "2023-01-01", "2024-01-01"]),
        (["31.01.2024", "29.02.2024", "31.03.2024"], ["2024-01-31", "2024-02-29", "2024-03-31"]),
        (["2023-Q4", "2024Q1", "q2 2024"], ["2023-10-01", "2024-01-01", "2024-04-01"]),
        (["Q3-2024", " 2024-Q4 ", "2025-q1"], ["2024-07-01", "2024-10-01", "2025-01-01"]),
    ],
    ids=["daily", "weekly", "monthly", "yearly", "european", "quarterly", "quarterly_mixed"],
)
def test_date_frequencies(csv_file, store: Store, dates: list[str], expected: list[str]) -> None:
    store.ingest([csv_file("p.csv", "pilot_id,go_live\nP1,2023-06-01\n")])
    body = "".join(f"P1,{d},margin,0.2{i}\n" for i, d in enumerate(dates))
    store.ingest([csv_file("m.csv", "pilot_id,date,metric,value\n" + body)])
    got = store.observations()["date"].dt.strftime("%Y-%m-%d").tolist()
    assert got == expected


def test_exact_duplicates_are_written_once(csv_file, seeded: Store) -> None:
    row = "P2,2024-01-05,cycle_time,7\n"
    result = seeded.ingest([csv_file("m.csv", "pilot_id,date,metric,value\n" + row * 3)])
    assert result.rows == 1  # rows stored; the summary says what was read and dropped
    assert "read 3 rows, dropped 2 exact duplicates" in result.summary
    assert len(seeded.observations(["P2"])) == 1


def test_margin_may_be_negative(csv_file, seeded: Store) -> None:
    seeded.ingest([csv_file("m.csv", "pilot_id,date,metric,value\nP2,2024-01-05,margin,-0.04\n")])
    assert seeded.observations(["P2"])["value"].tolist() == [-0.04]


def test_pilots_file_with_readiness(csv_file, store: Store) -> None:
    text = (
        "pilot_id,go_live,pilot_name,monthly_cost,annual_volume,workflow,decision_owner\n"
        'P1,2024-03-01,"Bot, v2",1200,50000,"tickets, tier 1",finance\n'
        "P2,2024-04-01,Other,,,,\n"
    )
    result = store.ingest([csv_file("p.csv", text)])
    assert result.pilots_upserted == 2
    pilots = store.pilots().set_index("pilot_id")
    assert pilots.loc["P1", "pilot_name"] == "Bot, v2"
    assert pilots.loc["P1", "monthly_cost"] == 1200.0
    assert pilots.loc["P1", "workflow"] == "tickets, tier 1"
    assert pilots.loc["P2", "workflow"] is None
    assert pilots.loc["P2", "value_metric"] is None
    assert pd.isna(pilots.loc["P2", "monthly_cost"])
    assert pilots.loc["P2", "go_live"] == pd.Timestamp("2024-04-01")


def test_fast_and_careful_paths_write_the_same(
    tmp_path, csv_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clean files take the one-pass path; refusals and edge cases the careful one. Forced down
    the careful path, the same files must give the same database."""
    from pilotproof.store import ingest as ingest_module

    files = [
        csv_file("p.csv", "pilot_id,go_live,workflow\nP1,2024-01-15,tickets\nP2,2024-02-01,\n"),
        csv_file(
            "long.csv",
            "pilot_id,date,metric,value,group,unit,segment,volume\n"
            "P1,2024-01-01,cycle_time,5,,team-a,simple,10\n"
            "P1,2024-01-01,cycle_time,6,control,site-b,,\n"
            "P1,2024-01-08,margin,-0.1,,,,\n",
        ),
        csv_file("eu.csv", "pilot_id;date;rework_rate;cost_per_transaction\nP2;01.02.2024;0,1;3\n"),
        csv_file("monthly.csv", "pilot_id,date,metric,value\nP2,2024-03,leakage,1000\n"),
    ]

    def load(name: str) -> tuple:
        with Store(tmp_path / name) as store:
            result = store.ingest(files)
            uploads = store.uploads().drop(columns=["uploaded_at"])
            return store.observations(), store.pilots(), uploads, result.summary

    def refuse(*args: object) -> None:
        raise AssertionError("the careful path ran")

    with monkeypatch.context() as patch:
        patch.setattr(Store, "_careful_ingest", refuse)
        fast = load("fast.duckdb")
    monkeypatch.setattr(ingest_module, "fast_eligible", lambda layouts: False)
    careful = load("careful.duckdb")
    for one, other in zip(fast[:3], careful[:3], strict=True):
        pd.testing.assert_frame_equal(one, other)
    assert fast[3] == careful[3]
    assert len(fast[0]) == 6


def test_duplicate_keys_across_files_in_one_batch(store: Store) -> None:
    from pilotproof.store import IngestError

    head = b"pilot_id,date,metric,value\n"
    pilots = ("p.csv", b"pilot_id,go_live\nP1,2024-01-01\n")
    same = [("a.csv", head + b"P1,2024-01-01,cycle_time,3\n")] * 2
    store.ingest([pilots, same[0], ("b.csv", same[1][1])])
    assert store.observations()["value"].tolist() == [3.0]
    with pytest.raises(IngestError, match=r"b\.csv:2: column value: conflicting duplicate"):
        store.ingest(
            [
                ("a2.csv", head + b"P1,2024-02-01,cycle_time,3\n"),
                ("b.csv", head + b"P1,2024-02-01,cycle_time,4\n"),
            ]
        )


@pytest.mark.parametrize("bad", ["2024-Q5", "2024-Q0", "Q1", "2024 Q", "Q12024x"])
def test_impossible_quarters_are_refused_by_line(csv_file, store: Store, bad: str) -> None:
    from pilotproof.store import IngestError

    store.ingest([csv_file("p.csv", "pilot_id,go_live\nP1,2023-06-01\n")])
    body = f"P1,2024-Q1,margin,0.2\nP1,{bad},margin,0.3\n"
    with pytest.raises(IngestError) as refused:
        store.ingest([csv_file("m.csv", "pilot_id,date,metric,value\n" + body)])
    assert any(p.line == 3 and p.column == "date" for p in refused.value.problems)
    assert len(store.observations()) == 0


@pytest.mark.parametrize(
    ("content", "values"),
    [
        (
            'pilot_id,date,metric,value\nP1,2024-01-01,cost_per_transaction,"1,234.5"\n'
            'P1,2024-01-02,cost_per_transaction,"2,000"\nP1,2024-01-03,cost_per_transaction,0.5\n',
            [1234.5, 2000.0, 0.5],
        ),
        (
            "pilot_id;date;metric;value\nP1;01.01.2024;cost_per_transaction;1.234,5\n"
            "P1;02.01.2024;cost_per_transaction;2.000.000\nP1;03.01.2024;cost_per_transaction;0,5\n",
            [1234.5, 2000000.0, 0.5],
        ),
    ],
    ids=["us_thousands", "european_thousands"],
)
def test_thousands_separators(csv_file, store: Store, content: str, values: list) -> None:
    store.ingest([csv_file("p.csv", "pilot_id,go_live\nP1,2023-06-01\n")])
    store.ingest([csv_file("m.csv", content)])
    assert store.observations()["value"].tolist() == values


@pytest.mark.parametrize("bad", ['"1,5"', '"12,34"', '"0,234"', '"1,23,456"'])
def test_ambiguous_separators_are_refused(csv_file, store: Store, bad: str) -> None:
    """A comma that is no thousands separator, in a column whose 2.25 shows the decimal point.
    (Alone in its column, `"1,5"` shows a decimal comma and reads as 1.5: test_field_exports.)"""
    from pilotproof.store import IngestError

    store.ingest([csv_file("p.csv", "pilot_id,go_live\nP1,2023-06-01\n")])
    body = f"P1,2024-01-01,cycle_time,2.25\nP1,2024-01-02,cycle_time,{bad}\n"
    with pytest.raises(IngestError, match="is not a number"):
        store.ingest([csv_file("m.csv", "pilot_id,date,metric,value\n" + body)])
