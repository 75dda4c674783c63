"""Hostile and real-world CSVs through `pilotproof ingest` (a subprocess, as a user runs it) and
through `Store.ingest` with uploaded bytes.

Refused: exit 1, no traceback, every stderr line "FILE:LINE: column COL: message" naming the
expected line and column, and every table of the database exactly as before.
Accepted: exit 0 with a one-line summary, and the values read back as written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotproof.store import IngestError, Store

from .conftest import cli, dump, problems

HEAD = "pilot_id,date,metric,value\n"

# (id, file name, content, line, column) of the first problem named.
REFUSED = [
    ("binary", "junk.csv", bytes(range(256)) * 4, 1, "-"),
    ("nul_in_text", "nul.csv", (HEAD + "P1,2024-01-05,cycle_time,5\x00\n").encode(), 2, "-"),
    ("utf16_cut", "u16.csv", (HEAD + "P1,2024-01-05,cycle_time,5\n").encode("utf-16")[:-1], 1, "-"),
    (
        "latin1_accents",
        "lat1.csv",
        (HEAD + "P1,2024-01-05,temps_de_cycle_\u00e9t\u00e9,5\n").encode("latin-1"),
        2,
        "-",
    ),
    ("zero_bytes", "empty.csv", b"", 1, "-"),
    ("bom_only", "bom.csv", b"\xef\xbb\xbf", 1, "-"),
    ("header_only", "hdr.csv", HEAD.encode(), 2, "-"),
    ("impossible_date", "d.csv", (HEAD + "P1,2024-02-30,cycle_time,5\n").encode(), 2, "date"),
    ("month_13", "d.csv", (HEAD + "P1,2024-13-01,cycle_time,5\n").encode(), 2, "date"),
    ("excel_serial_date", "d.csv", (HEAD + "P1,45300,cycle_time,5\n").encode(), 2, "date"),
    ("text_value", "v.csv", (HEAD + "P1,2024-01-05,cycle_time,abc\n").encode(), 2, "value"),
    ("nan_value", "v.csv", (HEAD + "P1,2024-01-05,cycle_time,NaN\n").encode(), 2, "value"),
    ("inf_value", "v.csv", (HEAD + "P1,2024-01-05,cycle_time,inf\n").encode(), 2, "value"),
    ("overflow_1e309", "v.csv", (HEAD + "P1,2024-01-05,cycle_time,1e309\n").encode(), 2, "value"),
    ("negative_cycle", "v.csv", (HEAD + "P1,2024-01-05,cycle_time,-5\n").encode(), 2, "value"),
    ("rate_above_1", "v.csv", (HEAD + "P1,2024-01-05,rework_rate,1.5\n").encode(), 2, "value"),
    ("ragged_long", "r.csv", (HEAD + "P1,2024-01-05,cycle_time,5,7\n").encode(), 2, "-"),
    ("ragged_short", "r.csv", (HEAD + "P1,2024-01-05,cycle_time\n").encode(), 2, "-"),
    ("unterminated_quote", "q.csv", (HEAD + 'P1,2024-01-05,"cycle_time,5\n').encode(), 2, "-"),
    (
        "duplicate_header",
        "h.csv",
        b"pilot_id,date,metric,value,value\nP1,2024-01-05,x,5,6\n",
        1,
        "value",
    ),
    (
        "bad_group",
        "g.csv",
        b"pilot_id,date,metric,value,group\nP1,2024-01-05,cycle_time,5,ctrl\n",
        2,
        "group",
    ),
    ("unknown_pilot", "p.csv", (HEAD + "ZZ,2024-01-05,cycle_time,5\n").encode(), 2, "pilot_id"),
    ("empty_pilot_id", "p.csv", (HEAD + ",2024-01-05,cycle_time,5\n").encode(), 2, "pilot_id"),
    (
        "unknown_metric_no_direction",
        "m.csv",
        (HEAD + "P1,2024-01-05,mystery,5\n").encode(),
        2,
        "metric",
    ),
    (
        "hyperlink_metric_no_direction",
        "m.csv",
        (HEAD + 'P1,2024-01-05,"=HYPERLINK(""http://x.test"")",5\n').encode(),
        2,
        "metric",
    ),
    (
        "wide_unknown_metric_column",
        "w.csv",
        b"pilot_id,date,cycle_time,mystery_metric\nP1,2024-01-05,5,3\n",
        2,
        "mystery_metric",
    ),
    (
        "conflicting_duplicates",
        "dup.csv",
        (HEAD + "P1,2024-01-05,cycle_time,5\nP1,2024-01-05,cycle_time,6\n").encode(),
        3,
        "value",
    ),
    (
        "pilot_missing_go_live",
        "pilots.csv",
        b"pilot_id,go_live,pilot_name\nP7,2024-03-01,fine\nP8,,no date\n",
        3,
        "go_live",
    ),
    (
        "field_over_the_limit",
        "long.csv",
        (HEAD + "P1,2024-01-05," + "x" * 300_000 + ",5\n").encode(),
        2,
        "metric",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "line", "column"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
def test_refused_names_line_and_column_and_changes_nothing(
    registry: Path, tmp_path: Path, name: str, content: bytes, line: int, column: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = dump(registry)
    done = cli("ingest", "--db", registry, path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    found = problems(done.stderr)
    assert found, done.stderr
    first = found[0]
    assert (Path(first["file"]).name, int(first["line"]), first["column"]) == (
        name,
        line,
        column,
    ), first[0]
    assert dump(registry) == before


def _observations(db: Path) -> pd.DataFrame:
    with Store(db) as store:
        return store.observations()


def _value(db: Path, pilot: str, metric: str, date: str) -> float:
    obs = _observations(db)
    hit = obs[(obs.pilot_id == pilot) & (obs.metric == metric) & (obs.date == pd.Timestamp(date))]
    assert len(hit) == 1, hit
    return float(hit["value"].iloc[0])


# (id, content, [(pilot, metric, date, value), ...]) read back after a successful ingest.
ACCEPTED = [
    (
        "bom_crlf_quoted_comma_newline",
        b"\xef\xbb\xbfpilot_id,date,metric,value,unit\r\n"
        b'P1,2024-01-05,cycle_time,"5.5","team A, north\r\nfloor 2"\r\n',
        [("P1", "cycle_time", "2024-01-05", 5.5)],
    ),
    (
        "european_semicolon_decimal_comma",
        b"pilot_id;date;metric;value\r\nP1;05.01.2024;cycle_time;5,25\r\nP1;06.01.2024;rework_rate;0,125\r\n",
        [("P1", "cycle_time", "2024-01-05", 5.25), ("P1", "rework_rate", "2024-01-06", 0.125)],
    ),
    (
        "header_case_and_whitespace",
        b"Pilot_ID , Date,METRIC , Value\nP1,2024-01-05,cycle_time,4\n",
        [("P1", "cycle_time", "2024-01-05", 4.0)],
    ),
    (
        "trailing_empty_lines",
        (HEAD + "P1,2024-01-05,cycle_time,4\n\n\n").encode(),
        [("P1", "cycle_time", "2024-01-05", 4.0)],
    ),
    (
        "trailing_delimiter",
        b"pilot_id,date,metric,value,\nP1,2024-01-05,cycle_time,4,\n",
        [("P1", "cycle_time", "2024-01-05", 4.0)],
    ),
    (
        "extra_unknown_columns",
        b"pilot_id,date,metric,value,comment,owner\nP1,2024-01-05,cycle_time,4,ok,=1+1\n",
        [("P1", "cycle_time", "2024-01-05", 4.0)],
    ),
    (
        "slash_dates",
        (HEAD + "P1,2024/01/05,cycle_time,4\n").encode(),
        [("P1", "cycle_time", "2024-01-05", 4.0)],
    ),
    (
        "timestamps_at_midnight",
        (HEAD + "P1,2024-01-05T00:00:00,cycle_time,4\n").encode(),
        [("P1", "cycle_time", "2024-01-05", 4.0)],
    ),
    (
        "monthly_dates",
        (HEAD + "P1,2024-01,cycle_time,4\nP1,2024-02,cycle_time,3\n").encode(),
        [("P1", "cycle_time", "2024-01-01", 4.0), ("P1", "cycle_time", "2024-02-01", 3.0)],
    ),
    (
        "yearly_dates",
        (HEAD + "P1,2021,cycle_time,4\nP1,2022,cycle_time,3\n").encode(),
        [("P1", "cycle_time", "2021-01-01", 4.0), ("P1", "cycle_time", "2022-01-01", 3.0)],
    ),
    (
        "huge_and_signed_zero",
        (
            HEAD + "P1,2024-01-05,cycle_time,1e308\nP1,2024-01-06,cycle_time,-0\n"
            "P1,2024-01-07,cycle_time,123456789012345678901234567890\n"
        ).encode(),
        [
            ("P1", "cycle_time", "2024-01-05", 1e308),
            ("P1", "cycle_time", "2024-01-06", 0.0),
            ("P1", "cycle_time", "2024-01-07", 1.2345678901234568e29),
        ],
    ),
    (
        "tab_delimited",
        b"pilot_id\tdate\tmetric\tvalue\nP1\t2024-01-05\tcycle_time\t4\n",
        [("P1", "cycle_time", "2024-01-05", 4.0)],
    ),
    (
        "wide_with_gaps",
        b"pilot_id,date,cycle_time,rework_rate\nP1,2024-01-05,5,\nP1,2024-01-06,,0.2\n",
        [("P1", "cycle_time", "2024-01-05", 5.0), ("P1", "rework_rate", "2024-01-06", 0.2)],
    ),
    (
        "wide_european",
        b"pilot_id;date;cycle_time;rework_rate\nP1;2024-01-05;5,5;0,2\n",
        [("P1", "cycle_time", "2024-01-05", 5.5), ("P1", "rework_rate", "2024-01-05", 0.2)],
    ),
    (
        "padded_text_and_plus_sign",
        (HEAD + " P1 , 2024-01-05 , Cycle_Time , +4.5 \n").encode(),
        [("P1", "cycle_time", "2024-01-05", 4.5)],
    ),
]


@pytest.mark.parametrize(
    ("content", "expected"), [pytest.param(*case[1:], id=case[0]) for case in ACCEPTED]
)
def test_accepted_values_read_back(
    registry: Path, tmp_path: Path, content: bytes, expected: list[tuple]
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    done = cli("ingest", "--db", registry, path)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 1, done.stdout
    for pilot, metric, date, value in expected:
        got = _value(registry, pilot, metric, date)
        assert got == value, (pilot, metric, date, got)


def test_sql_injection_and_formula_text_stay_text(tmp_path: Path) -> None:
    db = tmp_path / "i.duckdb"
    hostile = "'; DROP TABLE observations; --"
    formula = '=HYPERLINK("http://x.test")'
    quoted = formula.replace('"', '""')
    pilots = tmp_path / "pilots.csv"
    pilots.write_text(f'pilot_id,go_live,pilot_name\n"{hostile}",2024-03-01,"{quoted}"\n')
    metrics = tmp_path / "m.csv"
    metrics.write_text(
        "pilot_id,date,metric,value,direction\n"
        f'"{hostile}",2024-01-05,"{quoted}",5,higher_is_better\n'
        f'"{hostile}",2024-01-05,cycle_time,4,\n'
    )
    done = cli("ingest", "--db", db, metrics, "--pilots", pilots)
    assert done.returncode == 0, done.stderr
    tables = dump(db)
    assert {"observations", "pilots"} <= set(tables)
    with Store(db) as store:
        obs = store.observations()
        assert set(obs["pilot_id"]) == {hostile}
        # metric names are normalised to lower case; the text itself is kept, not evaluated
        assert set(obs["metric"]) == {formula.lower(), "cycle_time"}
        assert store.pilots()["pilot_name"].tolist() == [formula]
        assert formula.lower() in set(store.catalog()["metric"])
    listed = cli("pilots", "--db", db, "--format", "json")
    assert listed.returncode == 0 and hostile in listed.stdout


def test_file_name_with_spaces_and_unicode(registry: Path, tmp_path: Path) -> None:
    name = "Q1 export \u00e9t\u00e9 \u540d\u524d (final).csv"
    good = tmp_path / name
    good.write_text(HEAD + "P1,2024-01-05,cycle_time,4\n", encoding="utf-8")
    done = cli("ingest", "--db", registry, good)
    assert done.returncode == 0, done.stderr
    with Store(registry) as store:
        assert any(Path(f).name == name for f in store.uploads()["file_name"])
    bad = tmp_path / ("bad " + name)
    bad.write_text(HEAD + "P1,2024-01-05,cycle_time,x\n", encoding="utf-8")
    before = dump(registry)
    done = cli("ingest", "--db", registry, bad)
    assert done.returncode == 1
    assert Path(problems(done.stderr)[0]["file"]).name == "bad " + name
    assert dump(registry) == before


def test_pilot_missing_go_live_writes_no_pilot_at_all(registry: Path, tmp_path: Path) -> None:
    pilots = tmp_path / "pilots.csv"
    pilots.write_text("pilot_id,go_live\nP7,2024-03-01\nP8,\n")
    metrics = tmp_path / "m.csv"
    metrics.write_text(HEAD + "P7,2024-01-05,cycle_time,4\n")
    before = dump(registry)
    done = cli("ingest", "--db", registry, metrics, "--pilots", pilots)
    assert done.returncode == 1
    assert dump(registry) == before


def test_200k_rows_bad_rows_named_then_good_file_loads_once(tmp_path: Path) -> None:
    n = 200_000
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "pilot_id": np.repeat([f"B{i}" for i in range(50)], n // 50),
            "date": np.tile(pd.date_range("2020-01-01", periods=1000).strftime("%Y-%m-%d"), 200),
            "metric": np.tile(
                np.repeat(["cycle_time", "manual_touches", "response_time", "leakage"], 1000), 50
            ),
            "value": rng.uniform(1, 100, n).round(4),
        }
    )
    db = tmp_path / "big.duckdb"
    pilots = tmp_path / "pilots.csv"
    pd.DataFrame({"pilot_id": [f"B{i}" for i in range(50)], "go_live": "2022-01-01"}).to_csv(
        pilots, index=False
    )
    bad = frame.astype({"value": str})
    bad.loc[5, "value"] = "-1"  # file line 7
    bad.loc[n - 7, "value"] = "oops"  # file line n - 5
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    done = cli("ingest", "--db", db, bad_path, "--pilots", pilots)
    assert done.returncode == 1
    assert [(int(p["line"]), p["column"]) for p in problems(done.stderr)] == [
        (7, "value"),
        (n - 5, "value"),
    ]
    assert dump(db).get("observations", []) == []

    good_path = tmp_path / "good.csv"
    frame.to_csv(good_path, index=False)
    done = cli("ingest", "--db", db, good_path, "--pilots", pilots)
    assert done.returncode == 0, done.stderr
    with Store(db) as store:
        obs = store.observations()
    assert len(obs) == n
    assert obs["value"].sum() == pytest.approx(frame["value"].sum(), rel=1e-12)
    again = cli("ingest", "--db", db, good_path, "--pilots", pilots)
    assert again.returncode == 0 and "nothing new" in again.stdout
    with Store(db) as store:
        assert len(store.observations()) == n


def test_store_ingest_of_uploaded_bytes_refuses_and_leaves_the_store_as_it_was(
    registry: Path,
) -> None:
    before = dump(registry)
    with Store(registry) as store:
        version = store.data_version()
        with pytest.raises(IngestError) as caught:
            store.ingest(
                [
                    ("good.csv", (HEAD + "P1,2024-01-09,cycle_time,4\n").encode()),
                    ("bad one.csv", (HEAD + "P1,2024-01-10,cycle_time,-4\n").encode()),
                ],
                user="<b>qa</b>",
            )
        assert [str(p) for p in caught.value.problems] == [
            "bad one.csv:2: column value: cycle_time cannot be negative: -4"
        ]
        assert store.data_version() == version
    assert dump(registry) == before


def test_corrected_file_replaces_rows_and_undo_restores_them(registry: Path) -> None:
    with Store(registry) as store:
        first = store.ingest([("a.csv", (HEAD + "P2,2024-01-05,cycle_time,4\n").encode())])
        again = store.ingest([("a.csv", (HEAD + "P2,2024-01-05,cycle_time,4\n").encode())])
        assert again.noop and not first.noop
        fixed = store.ingest([("a.csv", (HEAD + "P2,2024-01-05,cycle_time,3\n").encode())])
        obs = store.observations(["P2"])
        assert obs["value"].tolist() == [3.0]
        store.undo_upload(fixed.upload_ids[-1])
        assert store.observations(["P2"])["value"].tolist() == [4.0]


def test_cr_only_line_endings_load(registry: Path, tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(
        b"pilot_id,date,metric,value\rP1,2024-01-05,cycle_time,4\rP1,2024-01-06,cycle_time,3\r"
    )
    done = cli("ingest", "--db", registry, path)
    assert done.returncode == 0, done.stderr
    assert _value(registry, "P1", "cycle_time", "2024-01-06") == 3.0


def test_conflicting_pilot_rows_name_the_first_line(registry: Path, tmp_path: Path) -> None:
    path = tmp_path / "pilots.csv"
    path.write_text("pilot_id,go_live\nP9,2024-03-01\nP9,2024-04-01\n")
    done = cli("ingest", "--db", registry, "--pilots", path)
    assert done.returncode == 1
    (problem,) = problems(done.stderr)
    assert (int(problem["line"]), problem["column"]) == (3, "pilot_id")
    assert "pilots.csv:2" in problem["message"]


def test_db_flag_before_the_subcommand(tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    done = cli("--db", db, "pilots", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert db.exists()


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(
            "P1,2024-01-05,cycle_time,4\nP1,2024-01-06,cycle_time,3\r\n", id="lf_then_crlf"
        ),
        pytest.param(
            "P1,2024-01-05,cycle_time,4\r\nP1,2024-01-06,cycle_time,3\n\n", id="crlf_then_lf"
        ),
        pytest.param("P1,2024-01-06,cycle_time,3\n\n\r\n", id="trailing_crlf_blank_line"),
    ],
)
def test_mixed_line_endings_load(registry: Path, tmp_path: Path, tail: str) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes((HEAD + tail).encode())
    done = cli("ingest", "--db", registry, path)
    assert done.returncode == 0, done.stderr
    assert _value(registry, "P1", "cycle_time", "2024-01-06") == 3.0


def test_problem_lines_stay_short_for_a_huge_field(registry: Path, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes((HEAD + "P1,2024-01-05," + "x" * 300_000 + ",5\n").encode())
    done = cli("ingest", "--db", registry, path)
    assert done.returncode == 1
    assert max(len(line) for line in done.stderr.splitlines()) <= 1000


def test_whitespace_only_trailing_line_is_skipped(registry: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws.csv"
    path.write_bytes((HEAD + "P1,2024-01-06,cycle_time,3\n   \n").encode())
    done = cli("ingest", "--db", registry, path)
    assert done.returncode == 0, done.stderr
    assert _value(registry, "P1", "cycle_time", "2024-01-06") == 3.0


def test_db_that_is_an_existing_csv_is_refused(tmp_path: Path) -> None:
    pilots = tmp_path / "pilots.csv"
    pilots.write_text("pilot_id,go_live\nP1,2024-03-01\n")
    metrics = tmp_path / "metrics.csv"
    metrics.write_text(HEAD + "P1,2024-01-05,cycle_time,4\n")
    done = cli("ingest", "--db", metrics, pilots)
    listed = cli("pilots", "--db", metrics, "--format", "csv")
    assert done.returncode == 1 or "P1" in listed.stdout, (done.stdout, listed.stdout)


def test_db_that_is_another_file_is_refused_plainly(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    done = cli("pilots", "--db", notes)
    assert done.returncode == 1 and "not a valid DuckDB database" in done.stderr
    assert "Traceback" not in done.stderr and notes.read_text() == "hello\n"


def test_a_locked_database_is_named_not_a_traceback(registry: Path, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(registry),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        path = tmp_path / "m.csv"
        path.write_text(HEAD + "P1,2024-01-05,cycle_time,4\n")
        done = cli("ingest", "--db", registry, "--wait", "1", path)
        assert done.returncode == 1
        assert "in use by another process" in done.stderr and "Traceback" not in done.stderr
        assert "PID" not in done.stderr  # DuckDB's own message names the holder's PID
    finally:
        holder.kill()
        holder.wait()


def test_long_metric_names_normalise_like_wide_headers(registry: Path, tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text("pilot_id,date,Cycle Time\nP1,2024-01-05,4\n")
    assert cli("ingest", "--db", registry, wide).returncode == 0
    long = tmp_path / "long.csv"
    long.write_text(HEAD + "P1,2024-01-06,Cycle Time,3\n")
    done = cli("ingest", "--db", registry, long)
    assert done.returncode == 0, done.stderr
    assert _value(registry, "P1", "cycle_time", "2024-01-06") == 3.0


def test_custom_metric_loads_from_long_then_wide(registry: Path, tmp_path: Path) -> None:
    long = tmp_path / "long.csv"
    long.write_text(
        "pilot_id,date,metric,value,direction\nP1,2024-01-05,Avg Handle Time,5,lower_is_better\n"
    )
    assert cli("ingest", "--db", registry, long).returncode == 0
    wide = tmp_path / "wide.csv"
    wide.write_text("pilot_id,date,Avg Handle Time\nP1,2024-01-06,6\n")
    done = cli("ingest", "--db", registry, wide)
    assert done.returncode == 0, done.stderr
    with Store(registry) as store:
        names = set(store.observations()["metric"])
    assert len(names - {"cycle_time"}) == 1, names


MAPPED = b"Pilot,Day,KPI,Hours,Minutes\nP1,2024-01-05,cycle_time,5,300\n"
MAPPING = {"Pilot": "pilot_id", "Day": "date", "KPI": "metric"}


def test_corrected_mapping_replaces_the_values(registry: Path) -> None:
    with Store(registry) as store:
        store.ingest([("export.csv", MAPPED)], mapping={**MAPPING, "Minutes": "value"})
        fixed = store.ingest([("export.csv", MAPPED)], mapping={**MAPPING, "Hours": "value"})
        assert not fixed.noop, fixed.summary
        assert _value_in(store, "2024-01-05") == 5.0


def test_mapping_with_an_empty_target_is_refused_cleanly(registry: Path) -> None:
    with Store(registry) as store, pytest.raises(IngestError):
        store.ingest([("export.csv", MAPPED)], mapping={**MAPPING, "Hours": None})


def _value_in(store: Store, date: str) -> float:
    obs = store.observations(["P1"])
    return float(obs.loc[obs["date"] == pd.Timestamp(date), "value"].iloc[0])
