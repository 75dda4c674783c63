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


def _outside_traffic(trace: str) -> list[str]:
    """Lines of an `strace -f -yy` log that open a connection to, or send to, another machine.

    A UDP socket connected to an outside address with nothing sent on it is not traffic:
    Chromium does that to learn whether IPv6 is routable (no packet leaves). Sockets are told
    apart by the inode `-yy` prints (`24<UDPv6:[4277]>`), which threads and processes share.
    """
    import re

    address = re.compile(r'inet_(?:addr|pton)\((?:AF_INET6, )?"([^"]+)"')
    socket = re.compile(r"\(\d+<(\w+):\[(\d+)")
    local = ("127.", "::1", "0.0.0.0", "::")
    probes: dict[str, str] = {}
    found = []
    for line in trace.splitlines():
        call = line.partition(" ")[2].strip()
        kind = call.partition("(")[0]
        if kind not in {"connect", "sendto", "sendmsg", "sendmmsg"}:
            continue
        fd = socket.match(call[len(kind) :])
        protocol, inode = fd.groups() if fd else ("", "")
        where = address.search(call)
        outside = where is not None and not where.group(1).startswith(local)
        if kind == "connect" and outside and protocol.startswith("UDP") and "htons(53)" not in call:
            probes[inode] = line
        elif outside:
            found.append(line)
        elif kind != "connect" and inode in probes:
            found.append(probes.pop(inode))
    return found


def test_rendering_makes_no_outside_connection(tmp_path):
    """Kaleido's page would load MathJax from a CDN and Chromium calls Google's component
    updater and its search engine on its own; every connect and send of the whole process tree
    is traced (strace) and must stay on this machine."""
    import shutil
    import subprocess
    import sys

    import pytest

    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    script = (
        "import plotly.graph_objects as go\n"
        "from pilotproof.export.images import FigureSpec, render_pngs\n"
        "done = render_pngs([FigureSpec(go.Figure(go.Bar(y=[1, 2])), 300, 200)])\n"
        "assert done.pngs[0], done.problem\n"
    )
    trace = tmp_path / "connect.log"
    calls = "trace=connect,sendto,sendmsg,sendmmsg"
    done = subprocess.run(
        ["strace", "-f", "-qq", "-yy", "-e", calls, "-o", str(trace), sys.executable, "-c", script],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip("strace is not permitted here")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _outside_traffic(trace.read_text()) == []


def test_a_figure_whose_tab_was_not_ready_is_tried_again_in_a_fresh_session(monkeypatch):
    """Under load a kaleido tab can take a figure before its page has loaded kaleido's script
    ('ReferenceError: kaleido_scopes is not defined'): the board pack then lost its comparison
    chart. The failed figure is rendered again, alone, in a new session."""
    import kaleido

    real = kaleido.Kaleido.calc_fig
    calls = {"n": 0}

    async def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second figure's first attempt
            raise RuntimeError("ReferenceError: kaleido_scopes is not defined")
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(kaleido.Kaleido, "calc_fig", flaky)
    specs = [FigureSpec(go.Figure(go.Bar(y=[1, i + 2])), 300, 200) for i in range(3)]
    rendered = render_pngs(specs, scale=1.0)
    assert all(png is not None for png in rendered.pngs), rendered.problems
    assert calls["n"] == 4  # three figures and one retry


def test_the_browser_drivers_protocol_chatter_stays_out_of_the_terminal(caplog):
    # under load kaleido's driver reads Chromium's pipe mid-message, skips the fragment and logs
    # it with a traceback; `pilotproof report` printed that to stderr (a report that succeeded)
    import logging

    import pilotproof.export.images  # noqa: F401 - its import quiets the driver's logger

    with caplog.at_level(logging.DEBUG):
        try:
            raise ValueError("Expecting ',' delimiter: line 1 column 4097")
        except ValueError:
            logging.getLogger("choreographer.channels.pipe").exception(
                "JSONError decoding message. Ignoring"
            )
    assert not [r for r in caplog.records if r.name.startswith("choreographer")]
