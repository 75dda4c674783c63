"""Real-export shapes (`tests/hostile/field_shapes.py`) read into the right stored values with
the warnings that say how, on the ingest's fast and careful paths from a file, and the Upload
page's way (the bytes validated, then ingested). The command line's twin is
`tests/hostile/test_field_cli.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotproof.store import IngestError, ReadOptions, Store
from pilotproof.store import ingest as ingest_module
from pilotproof.store.errors import Problem

from .field_shapes import PILOTS, SHAPES, Shape


def _stored(store: Store) -> list[tuple[str, str, float]]:
    obs = store.observations().sort_values(["date", "metric"])
    return [
        (f"{day:%Y-%m-%d}", metric, value)
        for day, metric, value in obs[["date", "metric", "value"]].itertuples(index=False)
    ]


def _assert_refused(found: list[Problem], shape: Shape) -> None:
    assert shape.refused is not None
    line, column, words = shape.refused
    first = found[0]
    assert (first.file.endswith(shape.name), first.line, first.column) == (True, line, column)
    assert all(word in first.message for word in words), (str(first), words)


def _assert_warnings(found: list[Problem], expected: list[tuple[str, ...]], name: str) -> None:
    assert len(found) == len(expected), [str(w) for w in found]
    for warning, words in zip(found, expected, strict=True):
        assert warning.file.endswith(name), str(warning)
        shown = f"{Path(warning.file).name}:{warning.line}: column {warning.column}: "
        assert all(word in shown + warning.message for word in words), (str(warning), words)


@pytest.mark.parametrize("route", ["fast", "careful", "upload"])
@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
def test_an_export_shape_is_stored_as_it_means(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: Shape, route: str
) -> None:
    if route == "careful":
        monkeypatch.setattr(ingest_module, "fast_eligible", lambda layouts: False)
    options = ReadOptions(new_metrics=shape.new_metrics)
    with Store(tmp_path / "shapes.duckdb") as store:
        store.ingest([("pilots.csv", PILOTS.encode())])
        files: list[Path | tuple[str, bytes]] = [(shape.name, shape.content)]
        if route == "upload":
            report = store.validate(files, options)
            if shape.refused:
                _assert_refused(report.problems, shape)
            else:
                assert report.ok, [str(p) for p in report.problems]
                _assert_warnings(report.warnings, shape.warnings, shape.name)
        else:
            files = [tmp_path / shape.name]
            files[0].write_bytes(shape.content)  # type: ignore[union-attr]
        if shape.refused:
            with pytest.raises(IngestError) as refused:
                store.ingest(files, mapping=options)
            _assert_refused(refused.value.problems, shape)
            assert store.observations().empty
            return
        result = store.ingest(files, mapping=options)
        assert _stored(store) == shape.stored
    _assert_warnings(list(result.warnings), shape.warnings, shape.name)
