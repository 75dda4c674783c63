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
    """Lines of an `strace -f` log that open a connection to, or send to, another machine.

    A UDP socket connected to an outside address with nothing sent on it is not traffic:
    Chromium does that to learn whether IPv6 is routable (no packet leaves).
    """
    import re

    address = re.compile(r'inet_(?:addr|pton)\((?:AF_INET6, )?"([^"]+)"')
    local = ("127.", "::1", "0.0.0.0", "::")
    udp: set[tuple[str, str]] = set()
    pending: set[str] = set()  # pids inside a socket(..., SOCK_DGRAM) call strace split in two
    probes: dict[tuple[str, str], str] = {}
    found = []
    for line in trace.splitlines():
        pid, _, call = line.partition(" ")
        call = call.strip()
        if call.startswith("socket(AF_INET") and "SOCK_DGRAM" in call and "<unfinished" in call:
            pending.add(pid)
        elif pid in pending and (m := re.match(r"<\.\.\. socket resumed>.*= (\d+)$", call)):
            pending.discard(pid)
            udp.add((pid, m.group(1)))
        elif m := re.match(r"socket\(AF_INET6?, SOCK_DGRAM.*= (\d+)$", call):
            udp.add((pid, m.group(1)))
        elif m := re.match(r"close\((\d+)\)", call):
            probes.pop((pid, m.group(1)), None)
            udp.discard((pid, m.group(1)))
        elif m := re.match(r"(connect|sendto|sendmsg|sendmmsg)\((\d+),", call):
            kind, fd = m.groups()
            where = address.search(call)
            if where and not where.group(1).startswith(local):
                if kind == "connect" and (pid, fd) in udp and "htons(53)" not in call:
                    probes[(pid, fd)] = line
                else:
                    found.append(line)
            elif kind != "connect" and (pid, fd) in probes:
                found.append(probes.pop((pid, fd)))
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
    calls = "trace=socket,connect,sendto,sendmsg,sendmmsg,close"
    done = subprocess.run(
        ["strace", "-f", "-qq", "-e", calls, "-o", str(trace), sys.executable, "-c", script],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip("strace is not permitted here")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _outside_traffic(trace.read_text()) == []
