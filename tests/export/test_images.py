"""Chart images: one kaleido session renders every figure, in the order given."""

from __future__ import annotations

import io

import plotly.graph_objects as go
from PIL import Image

from pilotproof.export.images import FigureSpec, compact, render_pngs


def test_figures_come_back_in_order_at_their_size_with_progress():
    sizes = [(300, 200), (500, 260), (220, 400), (410, 300)]
    specs = [FigureSpec(go.Figure(go.Bar(y=[1, i + 2])), w, h) for i, (w, h) in enumerate(sizes)]
    seen = []
    rendered = render_pngs(specs, lambda f, text: seen.append(text), scale=1.0)
    assert rendered.problem == ""
    assert [Image.open(io.BytesIO(png)).size for png in rendered.pngs] == sizes
    assert seen == [f"Chart {i} of 4" for i in range(1, 5)]


def test_compact_keeps_size_and_shrinks_a_chart():
    spec = FigureSpec(go.Figure(go.Scatter(y=list(range(200)), mode="lines")), 600, 300)
    png = render_pngs([spec], compact_pngs=False).pngs[0]
    smaller = compact(png)
    assert Image.open(io.BytesIO(smaller)).size == Image.open(io.BytesIO(png)).size
    assert len(smaller) < len(png)


def test_nothing_to_render():
    assert render_pngs([]).pngs == ()


def test_progress_is_reported_from_the_calling_thread():
    import threading

    threads = set()
    specs = [FigureSpec(go.Figure(go.Bar(y=[i])), 200, 150) for i in range(3)]
    render_pngs(specs, lambda f, text: threads.add(threading.current_thread()), scale=1.0)
    assert threads == {threading.current_thread()}  # Streamlit draws only from its own thread


def test_a_figure_that_fails_is_that_figure_alone():
    # plotly.js refuses a category holding ESC/BEL; it once took every chart of the PDF with it
    ok = go.Figure(go.Scatter(x=[1, 2], y=[1, 2]))
    bad = go.Figure(go.Scatter(x=[1, 2], y=["Ctrl \x1b]0;x\x07 name", "b"]))
    specs = [FigureSpec(ok, 300, 200), FigureSpec(bad, 300, 200), FigureSpec(ok, 300, 200)]
    rendered = render_pngs(specs, scale=1.0)
    assert rendered.pngs[0] is not None and rendered.pngs[2] is not None
    assert rendered.pngs[1] is None
    assert rendered.why(0) == "" and "plotly.js error" in rendered.why(1)
