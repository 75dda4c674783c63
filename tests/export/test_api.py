"""`build`/`write`: formats, progress for the app, refusals, degenerate pilots, no browser."""

from __future__ import annotations

import io
from dataclasses import replace

import pandas as pd
import pytest

from analytics.results import ChartSeries, PilotResult
from pilotproof import export
from pilotproof.export.content import build_report


class FrameStore:
    """The slice of the Store interface the export reads, over fixed frames."""

    def __init__(self, pilots, observations, events):
        self._pilots, self._observations, self._events = pilots, observations, events

    def pilots(self):
        return self._pilots

    def observations(self, pilot_ids=None):
        frame = self._observations
        return frame if pilot_ids is None else frame[frame["pilot_id"].isin(pilot_ids)]

    def catalog(self):
        return pd.DataFrame({"metric": ["cycle_time"], "unit": ["hours"]})

    def events(self, pilot_id=None):
        return self._events

    def pilot_currencies(self):
        return {}


@pytest.fixture(scope="module")
def store(pilots, observations, events):
    return FrameStore(pilots, observations, events)


@pytest.mark.parametrize("fmt", ["pptx", "xlsx", "html"])
def test_progress_runs_from_zero_to_one(results, store, fmt):
    seen: list[float] = []
    data = export.build(results, store, fmt, progress=lambda f, text: seen.append(f))
    assert data[:2] in (b"PK", b"<!")
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_selection_and_write_by_suffix(results, store, tmp_path):
    path = export.write(tmp_path / "deep" / "p2.html", results, store, pilot_ids=["P2"])
    page = path.read_text(encoding="utf-8")
    assert "Pilots: P2" in page and "Support assistant" not in page


def test_refusals_name_the_problem(results, store, tmp_path):
    with pytest.raises(export.ExportError, match="unknown format 'docx'"):
        export.build(results, store, "docx")
    with pytest.raises(export.ExportError, match="no analysis result for pilot"):
        export.build(results, store, "html", pilot_ids=["NOPE"])
    with pytest.raises(export.ExportError, match="cannot tell the format"):
        export.write(tmp_path / "x.txt", results, store)


@pytest.fixture(scope="module")
def degenerate(results, pilots, observations):
    """A pilot with no metrics at all, and one whose series is a single point."""
    one_point = replace(
        results[0].metrics[0], chart=ChartSeries.of(results[0].metrics[0].series.iloc[:1])
    )
    empty = PilotResult("P3", "extend", ("too_early",), (), (), ())
    lonely = replace(results[0], metrics=(one_point,), net_value=None, summary="")
    return build_report((lonely, empty), pilots, observations.iloc[:1])


@pytest.mark.parametrize("fmt", ["pptx", "xlsx", "html", "pdf"])
def test_degenerate_pilots_still_render(degenerate, fmt):
    data = export.render(degenerate, fmt)
    assert len(data) > 1000
    if fmt == "pptx":
        from pptx import Presentation

        deck = Presentation(io.BytesIO(data))
        texts = [s.text_frame.text for sl in deck.slides for s in sl.shapes if s.has_text_frame]
        # the slide's heading names the pilot with its company
        assert (
            "Triage <b>bot</b> (@Initech): no measurable effect on its value metric; extend: "
            "too early to tell" in texts
        )
        assert "No series to chart: the value metric has no data yet." in texts


def test_pdf_without_a_browser_is_still_written_with_a_note(report, monkeypatch):
    from pypdf import PdfReader

    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    problems: list[str] = []
    data = export.render(report, "pdf", problems=problems)
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) == 2 + len(report.pilots) + 1
    assert "Chart not drawn" in " ".join(pages)
    # the forest plot needs the browser; the pilots' series and bridges are drawn without one
    assert len(problems) == 1
    assert problems[0].startswith("comparison chart not drawn: chart images unavailable")
    assert "Go-live" in pages[2] and "Gross value" in pages[2]


@pytest.mark.parametrize("fmt", ["pptx", "xlsx", "html", "pdf"])
def test_a_report_with_no_pilots_renders(fmt):
    empty = build_report(
        (), pd.DataFrame(columns=["pilot_id"]), pd.DataFrame(columns=["pilot_id", "date"])
    )
    assert len(export.render(empty, fmt)) > 1000
