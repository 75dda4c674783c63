"""End to end on the demo portfolio: `pilotproof report` in every format from a store built in
tmp_path, read back and held to the numbers `pilotproof analyze` prints. One pilot is renamed
to a spreadsheet formula on the way in, to prove it comes out as text everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from pptx.oxml.ns import qn

from pilotproof.cli import main
from pilotproof.export.content import pct
from pilotproof.words import scaled_change


def shown_effect(metric: dict) -> str | None:
    """The effect as every export shows it: points for a fraction, else percent (or a multiple);
    None when there is none."""
    if metric["scale"] == "points":
        return scaled_change(metric["effect_points"], True) if metric["effect_points"] else None
    return None if metric["effect_pct"] is None else pct(metric["effect_pct"])


SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
EVIL = '=HYPERLINK("http://x.test")'
RENAMED = "NW-AP"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    """The sample database (one pilot renamed), analyze's JSON, and every format written."""
    from pilotproof.store import Store

    folder = tmp_path_factory.mktemp("sample-reports")
    pilots = pd.read_csv(SAMPLE / "pilots.csv", dtype=str, keep_default_na=False)
    pilots.loc[pilots["pilot_id"] == RENAMED, "pilot_name"] = EVIL
    pilots.to_csv(folder / "pilots.csv", index=False)
    db = folder / "sample.duckdb"
    with Store(db) as store:
        store.ingest([folder / "pilots.csv", *sorted(SAMPLE.glob("metrics_*.csv"))])
    files = {}
    for fmt in ("pptx", "pdf", "xlsx", "html"):
        files[fmt] = folder / f"portfolio.{fmt}"
        code = main(["report", "--db", str(db), "--format", fmt, "--out", str(files[fmt])])
        assert code == 0
    return db, files


@pytest.fixture(scope="module")
def analyzed(portfolio):
    from pilotproof.analysis import analyze_store, to_json
    from pilotproof.store import Store

    with Store(portfolio[0]) as store:
        results = analyze_store(store)
        names = dict(zip(store.pilots()["pilot_id"], store.pilots()["pilot_name"], strict=True))
    return to_json(results), results, names


def title(result) -> str:
    """The action title: the analysis' summary (the sample's pilots all have one), with a
    worsened guardrail's number in it (issue 13), its changes in words ('4.5 points higher',
    never '+4.5 points': the partner read-through)."""
    from pilotproof.export.content import sentence_words
    from pilotproof.words import with_burden

    assert result.summary.strip(), result.pilot_id
    return sentence_words(with_burden(result.summary.strip(), result))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_cli_prints_what_it_wrote(portfolio, capsys, tmp_path):
    out = tmp_path / "one.html"
    assert (
        main(
            [
                "report",
                "--db",
                str(portfolio[0]),
                "--pilot",
                "HB-FNOL",
                "--format",
                "html",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out} (html, 1 pilot,")
    assert out.stat().st_size > 1_000_000


def test_unknown_pilot_is_refused_and_nothing_written(portfolio, capsys, tmp_path):
    out = tmp_path / "x.pdf"
    args = ["report", "--db", str(portfolio[0]), "--pilot", "NOPE", "--format", "pdf"]
    assert main([*args, "--out", str(out)]) == 1
    assert "unknown pilot id: NOPE" in capsys.readouterr().err
    assert not out.exists()


def test_a_board_pack_and_its_progress_on_stderr(portfolio, capsys, tmp_path):
    from pypdf import PdfReader

    out = tmp_path / "pack.pdf"
    args = ["report", "--db", str(portfolio[0]), "--format", "pdf", "--out", str(out)]
    assert main([*args, "--pages", "HB-FNOL", "NW-AP", "--progress", "always"]) == 0
    err = capsys.readouterr().err.splitlines()
    # stderr is no terminal here: a line at every tenth, from the analysis to done
    assert err[0].startswith("pilotproof report: 0% Analysing 14 pilots"), err
    assert err[-1] == "pilotproof report: 100% Done", err
    shares = [int(line.split()[2].rstrip("%")) for line in err]
    assert shares == sorted(shares) and 5 <= len(err) <= 12, err
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(out).pages]
    pilot_pages = [t for t in pages if "Success plan" in t or "Readiness to scale" in t]
    assert len(pilot_pages) == 2  # the summary and comparison, then the two picked pilots
    assert all(re.fullmatch(r"pilotproof report: \d+% \w.*", line) for line in err), err


def test_no_progress_unless_asked_when_stderr_is_not_a_terminal(portfolio, capsys, tmp_path):
    out = tmp_path / "summary.pptx"
    args = ["report", "--db", str(portfolio[0]), "--format", "pptx", "--out", str(out)]
    assert main([*args, "--pages", "none"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.startswith(f"wrote {out}")


def test_pages_outside_the_report_are_refused(portfolio, capsys, tmp_path):
    out = tmp_path / "x.pdf"
    args = ["report", "--db", str(portfolio[0]), "--format", "pdf", "--out", str(out)]
    assert main([*args, "--pilot", "HB-FNOL", "--pages", "NW-AP"]) == 1
    assert "--pages names pilots outside --pilot: NW-AP" in capsys.readouterr().err
    assert main([*args, "--pages", "NOPE"]) == 1
    assert "unknown pilot id: NOPE" in capsys.readouterr().err
    assert not out.exists()


def test_xlsx_estimates_equal_analyze_json(portfolio, analyzed):
    import openpyxl

    data, _, _ = analyzed
    book = openpyxl.load_workbook(portfolio[1]["xlsx"])
    rows = list(book["Estimates"].iter_rows(values_only=True))
    table = {(r[0], r[2]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    expected = [(p["pilot_id"], m) for p in data["pilots"] for m in p["metrics"]]
    assert len(table) == len(expected)
    for pilot_id, metric in expected:
        row = table[(pilot_id, metric["metric"])]
        assert row["verdict"] == metric["verdict"]
        for key in ("effect_pct", "ci_low_pct", "ci_high_pct", "effect_points", "ci_low_points"):
            if metric[key] is None:
                assert row[key] is None
            else:  # xlsxwriter keeps 16 significant digits, as Excel does
                assert row[key] == pytest.approx(metric[key], rel=1e-14)
    summary = list(book["Summary"].iter_rows(values_only=True))
    decision = summary[0].index("decision")
    decisions = {r[0]: r[decision] for r in summary[1:]}
    assert decisions == {p["pilot_id"]: p["decision"] for p in data["pilots"]}


def test_pptx_titles_and_tables_match_analyze(portfolio, analyzed):
    from pptx import Presentation

    from pilotproof.export.pptx import unbroken

    data, results, _ = analyzed
    deck = Presentation(portfolio[1]["pptx"])
    texts = []
    charts = 0
    for slide in deck.slides:
        for shape in slide.shapes:
            charts += shape.has_chart
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [c.text for row in shape.table.rows for c in row.cells]
    for result in results:
        assert title(result) in texts
    for pilot in data["pilots"]:
        for metric in pilot["metrics"][:7]:
            if shown_effect(metric) is not None:  # -21.3%, 28x beyond ±300%, +2.0 points
                assert unbroken(shown_effect(metric)) in texts  # its minus the minus sign
    with_series = sum(
        1
        for r in results
        for m in r.metrics
        if m.metric in r.value_metrics[:1] and m.series is not None and not m.series.empty
    )
    assert charts >= 1 + with_series  # forest + a series chart per pilot, plus bridges
    assert EVIL in texts


def test_pdf_has_a_page_per_pilot_with_its_title(portfolio, analyzed):
    from pypdf import PdfReader

    _, results, _ = analyzed
    reader = PdfReader(portfolio[1]["pdf"])
    pages = [_norm(p.extract_text()) for p in reader.pages]
    for result in results:
        assert any(_norm(title(result)) in page for page in pages), result.pilot_id
    assert "data sha256" not in " ".join(pages)  # provenance once, on the last page
    assert "Data fingerprint (sha256)" in pages[-1]
    assert any(EVIL in page for page in pages)
    # the comparison is an image; each pilot with a series has its chart drawn on its page
    assert sum(len(p.images) for p in reader.pages) == 1
    with_series = [r for r in results if any(m.series is not None for m in r.metrics)]
    assert sum("Go-live" in page for page in pages) >= len(with_series)


def test_html_numbers_charts_and_no_network(portfolio, analyzed):
    from bs4 import BeautifulSoup

    data, results, _ = analyzed
    page = portfolio[1]["html"].read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    assert not soup.find_all("script", src=True)
    text = _norm(soup.get_text(" "))
    for result in results:
        assert _norm(title(result)) in text
    for pilot in data["pilots"]:
        for metric in pilot["metrics"]:
            if shown_effect(metric) is not None:
                assert shown_effect(metric) in text
    assert len(soup.select("div.plotly-graph-div")) >= len(results)
    assert EVIL in text and f"<td>{EVIL}</td>" not in page


def test_formula_name_is_text_in_xlsx(portfolio):
    import openpyxl

    book = openpyxl.load_workbook(portfolio[1]["xlsx"])
    hits = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == EVIL]
    assert hits
    assert all(c.data_type == "s" and c.quotePrefix for c in hits)
    assert not [
        c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"
    ]
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["Data hash (sha256)"] in about["Footer"]


JARGON = ("(D)", "(W)", "autocorrelation", "placebo", ">ITS<", ">DiD<", "lower_is_better",
          "higher_is_better")  # fmt: skip


def test_no_jargon_in_what_a_board_reads(portfolio):
    from bs4 import BeautifulSoup
    from pptx import Presentation
    from pypdf import PdfReader

    page = portfolio[1]["html"].read_text(encoding="utf-8")
    html = BeautifulSoup(page, "html.parser").get_text(" ") + " ".join(
        re.findall(r"<t[dh][^>]*>[^<]*</t[dh]>", page)
    )
    pdf = " ".join(p.extract_text() for p in PdfReader(portfolio[1]["pdf"]).pages)
    deck = Presentation(str(portfolio[1]["pptx"]))
    slides = " ".join(
        s.text_frame.text
        if s.has_text_frame
        else " ".join(c.text for r in s.table.rows for c in r.cells)
        for slide in deck.slides
        for s in slide.shapes
        if s.has_text_frame or s.has_table
    )
    for name, text in (("html", html), ("pdf", pdf), ("pptx", slides)):
        found = [word for word in JARGON if word in text]
        assert found == [], (name, found)


def _shapes(deck, name: str):
    return [
        (n, s) for n, slide in enumerate(deck.slides, 1) for s in slide.shapes if s.name == name
    ]


def test_the_comparison_draws_a_mix_shift_at_the_same_mix_and_its_table_agrees(portfolio, analyzed):
    """Issue 13, the partner's read-through: the mix-shift mirage was the tallest bar (its
    apparent 26%), and the table said -35.9% beside a bar of +36%. The bar is what survives at
    the same mix, and every table row reads as its bar: + is better."""
    from pptx import Presentation

    _, results, _ = analyzed
    deck = Presentation(portfolio[1]["pptx"])
    drawn: dict[str, float] = {}
    for _, frame in _shapes(deck, "Forest chart"):
        plot = frame.chart.plots[0]
        drawn.update(zip(plot.categories, plot.series[0].values, strict=True))
    orders = next(r for r in results if r.pilot_id == "NW-ORDERS").metrics[0]
    assert orders.verdict == "mirage" and "mix_shift" in orders.reasons
    key = "Order desk entry assistant · cost per transaction at the same mix"
    assert drawn[key] == pytest.approx(orders.sign * orders.rate_effect_pct, abs=0.01)
    assert abs(drawn[key]) < 5 < abs(orders.effect_pct)
    for _, table in _shapes(deck, "Comparison table"):
        for row in list(table.table.rows)[1:]:
            cells = [c.text for c in row.cells]
            if cells[2] == "n/a":
                continue
            bar = next(v for k, v in drawn.items() if k.startswith(cells[0][:20]))
            shown = cells[2].replace("\u2212", "-").replace("\u2060", "")  # the minus sign
            assert float(shown.rstrip("%")) == pytest.approx(bar, abs=0.06), cells


def test_every_comparison_slide_shares_one_axis_from_zero(portfolio):
    """Issue 13: the comparison ran over two slides, one drawn on -20..60 and the next on
    -10..40, so bars of one length meant different improvements. One axis for every slide,
    from zero or below, wide enough for every interval and threshold on any of them."""
    from pptx import Presentation

    deck = Presentation(portfolio[1]["pptx"])
    charts = [frame.chart for _, frame in _shapes(deck, "Forest chart")]
    assert len(charts) >= 2  # the sample's comparison is two slides
    axes = {(c.value_axis.minimum_scale, c.value_axis.maximum_scale) for c in charts}
    assert len(axes) == 1, axes
    ((low, high),) = axes
    assert low <= 0 < high
    for chart in charts:
        values = [v for series in chart.plots[0].series for v in series.values if v is not None]
        assert low <= min(values) and max(values) <= high


def test_a_short_pilot_is_drawn_with_a_comparable_pre_period_and_says_so(portfolio):
    """Issue 13: First-notice-of-loss (go-live 2026-07-06, four months live) was drawn on four
    years of history. Its chart shows a year before go-live (its season is modelled) and says
    from when the model read the data."""
    from pptx import Presentation

    deck = Presentation(portfolio[1]["pptx"])
    excel_day = pd.Timestamp("1899-12-30")
    go_live = (pd.Timestamp("2026-07-06") - excel_day).days
    for _, frame in _shapes(deck, "Series chart"):
        title = frame.chart.chart_title.text_frame.text
        if title.startswith("Cycle time (hours)") and "2022" in title:
            break
    else:
        raise AssertionError("no windowed First-notice-of-loss chart")
    assert re.search(r"History from 2025-07-\d\d shown; the model used data from 2022-", title)
    # the observed line's dates: the chart's first x is no earlier than a year before go-live
    observed = next(s for s in frame.chart.plots[0].series if s.name == "Observed")
    dates = [float(v) for v in observed._element.xpath("./c:xVal//c:v/text()")]
    assert go_live - 366 <= min(dates) < go_live - 350


def test_a_negative_value_is_drawn_in_the_bad_colour_on_an_axis_with_its_currency(portfolio):
    """Issue 13: the value bridge's axis had no currency and a negative gross value was a green
    bar. Every step that takes value away is in the colour of 'worse'."""
    from pptx import Presentation

    from pilotproof import charts

    deck = Presentation(portfolio[1]["pptx"])
    bridges = _shapes(deck, "Net value bridge")
    assert bridges
    worse = charts.VERDICT_COLORS["worse"].lstrip("#").upper()
    real = charts.VERDICT_COLORS["real"].lstrip("#").upper()
    seen_negative = False
    for _, frame in bridges:
        chart = frame.chart
        assert re.match(r'^"(EUR|GBP|USD) "', chart.value_axis.tick_labels.number_format)
        up, down = chart.plots[0].series[1], chart.plots[0].series[3]
        for i, (rise, fall) in enumerate(zip(up.values, down.values, strict=True)):
            if fall and fall < 0 and not rise:
                seen_negative = True
                assert str(down.points[i].format.fill.fore_color.rgb) == worse
            if rise and rise > 0 and not fall:
                assert str(up.points[i].format.fill.fore_color.rgb) in (real, worse)
    # the sample's Leeds depot: a gross value within noise is no bar of money (issue 13); its
    # slide gives the interval and the running cost instead
    leeds = next(
        slide for slide in deck.slides
        if any(s.name == "Series chart" for s in slide.shapes)
        and any(s.has_text_frame and s.text_frame.text.startswith("Route and load planning")
                for s in slide.shapes)
    )  # fmt: skip
    assert not [s for s in leeds.shapes if s.name == "Net value bridge"]
    said = " ".join(s.text_frame.text for s in leeds.shapes if s.has_text_frame)
    assert "within noise" in said and "GBP\u00a0190k a year" in said
    assert seen_negative or not any(
        fall for _, f in bridges for fall in f.chart.plots[0].series[3].values if fall
    )


def test_no_board_slide_cuts_its_text_or_talks_to_the_operator(portfolio):
    """Issue 13: readiness answers and check notes ended in '…' on four slides; 'add annual
    volume on the Upload page', 'permutation p' and 'Check the source' were on board slides."""
    from pptx import Presentation

    deck = Presentation(portfolio[1]["pptx"])
    for name in ("Readiness table", "Check notes"):
        for number, shape in _shapes(deck, name):
            text = (
                " ".join(c.text for row in shape.table.rows for c in row.cells)
                if shape.has_table
                else shape.text_frame.text
            )
            assert "…" not in text, (number, name)
    everything = " ".join(
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    for words in ("Upload page", "permutation p", "Check the source", "<=", ">="):
        assert words not in everything


def _excel_date(serial: float, number_format: str) -> str:
    """An Excel date serial as a date number format made of d, mmm and yy tokens shows it."""
    day = pd.Timestamp("1899-12-30") + pd.Timedelta(days=serial)
    parts = {"d": str(day.day), "mmm": day.strftime("%b"), "yy": day.strftime("%y")}
    return " ".join(parts[token] for token in number_format.split())


def test_every_date_tick_on_a_series_chart_reads_differently(portfolio):
    """Read-through B9: the Collections slide's axis read 'Sep 26' four times, then 'Oct 26'
    three times (weekly ticks under a month format). Read from each chart's XML: the date axis
    has its own number format (not linked to the data's), and the labels at its ticks differ."""
    from pptx import Presentation

    deck = Presentation(portfolio[1]["pptx"])
    charts_drawn = _shapes(deck, "Series chart")
    assert charts_drawn
    formats = set()
    for number, frame in charts_drawn:
        x_axis = frame.chart.category_axis  # an XY chart's horizontal value axis
        fmt = x_axis._element.find(qn("c:numFmt"))
        assert fmt.get("sourceLinked") == "0", number
        low, high, step = x_axis.minimum_scale, x_axis.maximum_scale, x_axis.major_unit
        ticks = [low + k * step for k in range(int((high - low) // step) + 1)]
        labels = [_excel_date(t, fmt.get("formatCode")) for t in ticks]
        assert len(set(labels)) == len(labels) > 1, (number, labels)
        formats.add(fmt.get("formatCode"))
    assert "d mmm" in formats  # a chart of a few weeks, as Collections', labels the day


def test_a_mirage_that_clears_its_threshold_says_why_on_the_comparison_chart(portfolio, analyzed):
    """Read-through B13: Outbound email personalisation's bar reached past its 10% threshold
    (+10.2%) in the mirage colour, and the slide never said why. Its label on the chart gives
    the pilot's own reasons, in the words the rest of the deck uses (`words.causes`)."""
    from pptx import Presentation

    from pilotproof.charts import same_mix
    from pilotproof.words import causes, verdict_label

    _, results, names = analyzed
    deck = Presentation(portfolio[1]["pptx"])
    labels = [c for _, f in _shapes(deck, "Forest chart") for c in f.chart.plots[0].categories]
    cleared = [
        (r, e)
        for r in results
        for e in r.value_effects
        if e.verdict == "mirage" and same_mix(e) is None and e.improvement >= e.threshold_pct
    ]
    assert cleared  # the sample has one: the outbound email personalisation
    for result, effect in cleared:
        (label,) = [c for c in labels if c.startswith(f"{names[result.pilot_id]} · ")]
        why = f"({verdict_label(effect.verdict, effect.kind)}: {causes(effect.reasons)})"
        assert label.split("\n")[1:] == [why] and causes(effect.reasons), label
    # every other bar keeps its one-line label
    assert sum("\n" in c for c in labels) == len(cleared)
