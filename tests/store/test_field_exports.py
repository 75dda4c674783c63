"""Real-world exports a QA pass found corrupting data silently: each is pinned here on both
ingest paths (the fast one, and the careful one forced by making no file fast-eligible)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pilotproof.store import IngestError, ReadOptions, Store
from pilotproof.store import ingest as ingest_module

PILOTS = "pilot_id,go_live\nP1,2024-01-06\nP2,2024-01-06\n"
HEAD = "pilot_id,date,metric,value"


def _rows(head: str, extra: str, n: int, value: float, first: str = "2024-01-01") -> str:
    """`n` daily cycle_time rows of P1 under `head`, `extra` the cells after the value."""
    dates = pd.date_range(first, periods=n, freq="D").strftime("%Y-%m-%d")
    cells = f",{extra}" if extra else ""
    return head + "\n" + "".join(f"P1,{d},cycle_time,{value}{cells}\n" for d in dates)


@pytest.fixture(params=["fast", "careful"])
def path_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the fast path, then with every file sent the careful way."""
    if request.param == "careful":
        monkeypatch.setattr(ingest_module, "fast_eligible", lambda layouts: False)
    return str(request.param)


@pytest.fixture
def load(tmp_path: Path) -> Callable[..., Store]:
    """`load(name, text, ...)` writes the CSV and ingests it into a store with P1 and P2."""
    store = Store(tmp_path / "field.duckdb")
    (tmp_path / "pilots.csv").write_text(PILOTS)
    store.ingest([tmp_path / "pilots.csv"])

    def ingest(name: str, text: str, **kwargs: object) -> Store:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8", newline="")
        summaries.append(store.ingest([path], **kwargs).summary)  # type: ignore[arg-type]
        return store

    summaries: list[str] = []
    ingest.summaries = summaries  # type: ignore[attr-defined]

    yield ingest
    store.close()


@pytest.mark.parametrize(
    ("column", "first", "second"),
    [("group", "treatment", "control"), ("unit", "north", "south"), ("segment", "smb", "ent")],
)
def test_a_file_of_another_group_unit_or_segment_keeps_the_stored_one(
    load: Callable[..., Store], path_kind: str, column: str, first: str, second: str
) -> None:
    head = f"{HEAD},{column}"
    load("a.csv", _rows(head, first, 10, 5.0))
    store = load("b.csv", _rows(head, second, 10, 4.0))
    counts = store.observations().groupby(column)["value"].agg(["count", "first"])
    assert counts.to_dict("index") == {
        first: {"count": 10, "first": 5.0},
        second: {"count": 10, "first": 4.0},
    }


def test_a_fix_of_one_units_weeks_replaces_only_those(
    load: Callable[..., Store], path_kind: str
) -> None:
    head = f"{HEAD},unit"
    both = _rows(head, "north", 10, 5.0) + _rows(head, "south", 10, 5.0).split("\n", 1)[1]
    load("full.csv", both)
    store = load("fix.csv", _rows(head, "north", 3, 6.0, first="2024-01-04"))
    obs = store.observations()
    assert sorted(obs.loc[obs["unit"] == "south", "value"]) == [5.0] * 10
    north = obs[obs["unit"] == "north"]
    assert load.summaries[-1].startswith(  # type: ignore[attr-defined]
        "ingested 3 rows: 1 pilot, 1 series, 2024-01-04 to 2024-01-06; "
        "replaced 3 earlier rows of the same series"
    )
    assert north.set_index(north["date"].dt.day)["value"].to_dict() == {
        d: 6.0 if 4 <= d <= 6 else 5.0 for d in range(1, 11)
    }


def _values(head: str, delimiter: str, values: list[str]) -> str:
    dates = pd.date_range("2024-01-01", periods=len(values), freq="D").strftime("%Y-%m-%d")
    lines = (delimiter.join(["P1", d, "cycle_time", v]) for d, v in zip(dates, values, strict=True))
    return head.replace(",", delimiter) + "\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("delimiter", "values", "read"),
    [
        (";", ["41.2", "40.85", "40.125"], [41.2, 40.85, 40.125]),  # 40.85 shows the point
        (";", ["40,5", "40.125"], [40.5, 40125.0]),  # 40,5 shows the comma: . groups
        (",", ['"40,85"', '"40,125"'], [40.85, 40.125]),  # 40,85 shows the comma
        (",", ['"1,200.5"', '"1,200"'], [1200.5, 1200.0]),
        (";", ["1.200,5", "1.200"], [1200.5, 1200.0]),
        (",", ["40.125", "39.700"], [40.125, 39.7]),  # a comma file's own mark
        (";", ["40,125", "39,700"], [40.125, 39.7]),
    ],
)
def test_a_column_decides_its_decimal_mark_from_its_numbers(
    load: Callable[..., Store], path_kind: str, delimiter: str, values: list[str], read: list
) -> None:
    store = load("m.csv", _values(HEAD, delimiter, values))
    assert store.observations()["value"].tolist() == read


@pytest.mark.parametrize(
    ("delimiter", "values", "point", "comma"),
    [
        (";", ["40.000", "40.125"], [40.0, 40.125], [40000.0, 40125.0]),
        (",", ['"40,000"', '"40,125"'], [40000.0, 40125.0], [40.0, 40.125]),
    ],
)
def test_a_column_that_decides_nothing_is_refused_until_the_mark_is_given(
    load: Callable[..., Store],
    path_kind: str,
    delimiter: str,
    values: list[str],
    point: list[float],
    comma: list[float],
) -> None:
    text = _values(HEAD, delimiter, values)
    with pytest.raises(IngestError) as refused:
        load("m.csv", text)
    (first,) = refused.value.problems  # one problem for the column, at its first such row
    assert refused.value.total == 1
    assert (first.file.endswith("m.csv"), first.line, first.column) == (True, 2, "value")
    assert "could be" in first.message and "--decimal-mark point" in first.message
    store = load("m.csv", text, mapping=ReadOptions(decimal_mark="point"))
    assert store.observations()["value"].tolist() == point
    store = load("m.csv", text, mapping=ReadOptions(decimal_mark="comma"))
    assert sorted(store.observations()["value"]) == comma


def test_exact_duplicates_are_counted_as_read_and_dropped_and_named_by_line(
    tmp_path: Path, path_kind: str
) -> None:
    rows = _rows(HEAD, "", 4, 5.0).splitlines()
    text = "\n".join([rows[0], *(line for line in rows[1:] for _ in (0, 1))]) + "\n"
    (tmp_path / "pilots.csv").write_text(PILOTS)
    (tmp_path / "dups.csv").write_text(text)
    with Store(tmp_path / "dups.duckdb") as store:
        store.ingest([tmp_path / "pilots.csv"])
        result = store.ingest([tmp_path / "dups.csv"])
        assert result.rows == 4 and len(store.observations()) == 4
        assert "read 8 rows, dropped 4 exact duplicates" in result.summary
        assert "ingested 4 rows" in result.summary and "unit column" in result.summary
        assert store.uploads().iloc[-1]["rows"] == 4
    assert result.total_warnings == 4
    assert [(w.line, w.message.split(" (")[0]) for w in result.warnings] == [
        (line, f"warning, exact duplicate of {tmp_path / 'dups.csv'}:{line - 1}")
        for line in (3, 5, 7, 9)
    ]


def test_a_metric_column_empty_in_every_row_is_warned_of_by_name(
    tmp_path: Path, path_kind: str
) -> None:
    text = "pilot_id,date,cycle_time,Rework Rate\nP1,2024-01-01,5,\nP1,2024-01-02,4,\n"
    (tmp_path / "pilots.csv").write_text(PILOTS)
    (tmp_path / "wide.csv").write_text(text)
    with Store(tmp_path / "wide.duckdb") as store:
        store.ingest([tmp_path / "pilots.csv"])
        result = store.ingest([tmp_path / "wide.csv"])
        assert len(store.observations()) == 2
    (warning,) = result.warnings
    assert (warning.line, warning.column) == (1, "Rework Rate")
    assert "is empty in every row" in warning.message and "calculate" in warning.message


@pytest.mark.parametrize("token", ["", "NA", "N/A", "#N/A", "n/a", "null", " NULL "])
def test_a_long_row_without_a_value_is_skipped_counted_and_named(
    tmp_path: Path, path_kind: str, token: str
) -> None:
    rows = _rows(HEAD, "", 4, 5.0).splitlines()
    rows[2] = rows[2].rsplit(",", 1)[0] + "," + token
    (tmp_path / "pilots.csv").write_text(PILOTS)
    (tmp_path / "na.csv").write_text("\n".join(rows) + "\n")
    with Store(tmp_path / "na.duckdb") as store:
        store.ingest([tmp_path / "pilots.csv"])
        result = store.ingest([tmp_path / "na.csv"])
        assert store.observations()["date"].dt.day.tolist() == [1, 3, 4]
    assert "ingested 3 rows" in result.summary
    assert "skipped 1 row without a value" in result.summary
    (warning,) = result.warnings
    assert (warning.line, warning.column) == (3, "value")
    assert "no value" in warning.message and "skipped" in warning.message


def test_missing_value_tokens_in_a_wide_file_are_weeks_without_that_metric(
    load: Callable[..., Store], path_kind: str
) -> None:
    text = "pilot_id,date,cycle_time,rework_rate\nP1,2024-01-01,NA,0.1\nP1,2024-01-02,4,#N/A\n"
    store = load("wide.csv", text)
    assert sorted(map(tuple, store.observations()[["metric", "value"]].values)) == [
        ("cycle_time", 4.0),
        ("rework_rate", 0.1),
    ]


@pytest.mark.parametrize(
    ("top", "delimiter"),
    [
        ("sep=,\n", ","),
        ("sep=;\n", ";"),
        ('"Weekly KPIs, EMEA",,,\n', ","),
        ("Weekly KPIs,,,\n,,,\n", ","),
        ("Weekly KPIs, EMEA\n", ","),
        ("sep=;\nWeekly KPIs;;;\n", ";"),
    ],
)
def test_sep_and_title_lines_above_the_header_are_skipped_and_lines_kept(
    load: Callable[..., Store], path_kind: str, top: str, delimiter: str
) -> None:
    decimal = "4,5" if delimiter == ";" else "4.5"
    body = _values(HEAD, delimiter, ["5", decimal])
    store = load("t.csv", top + body)
    assert store.observations()["value"].tolist() == [5.0, 4.5]
    bad = top + body.replace(decimal, "four", 1)
    with pytest.raises(IngestError) as refused:
        load("bad.csv", bad)
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (top.count("\n") + 3, "value")


def test_a_ragged_first_row_does_not_make_the_header_a_title(
    load: Callable[..., Store], path_kind: str
) -> None:
    text = f"{HEAD}\nP1,2024-01-01,cycle_time,1,234,5\nP1,2024-01-02,cycle_time,5\n"
    with pytest.raises(IngestError) as refused:
        load("ragged.csv", text)
    first = refused.value.problems[0]
    assert (first.line, "ragged" in first.message) == (2, True)
