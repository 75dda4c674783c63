"""The app against hostile data: a real `streamlit run` answering `/` and `/_stcore/health`
(a smoke check; tests/e2e/ drives a browser), and every page run by AppTest for pilots whose
names are formulas, script tags, markdown links and LaTeX, with no exception and no user text
rendered as live markdown or HTML."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from .conftest import cli

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "pages/portfolio.py",
    "pages/upload.py",
    "pages/explorer.py",
    "pages/compare.py",
    "pages/readiness.py",
    "pages/settings.py",
    "pages/export.py",
)
MARKDOWN_LINKS = "![x](http://x.test/p.png) [click](http://x.test) **bold**"
NAMES = {
    "H1": '=HYPERLINK("http://x.test")',
    "H2": "<script>alert(1)</script>",
    "H3": MARKDOWN_LINKS,
    "H4": "$x^2$ :red[red] <b>bold</b>",
    "H5": "Overflowing range",  # profit alternating +1e308 / -1e308
    "H6": "One huge outlier",  # a 1e308 cycle time among tens
}
# User text as live markup: the special character not escaped by a backslash.
LIVE = re.compile(r"(?<!\\)(\]\(http|<script|\*\*bold|<b>|:red\[|\$x\^2)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode("utf-8", "replace")


def test_streamlit_serves_root_and_health(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PILOTPROOF_DB": str(tmp_path / "app.duckdb")}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("streamlit")),
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = _get(f"http://127.0.0.1:{port}/_stcore/health")
                break
            except OSError:
                time.sleep(0.5)
        assert health == (200, "ok"), server.poll()
        status, page = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and '<div id="root">' in page
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def hostile_app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(tmp_path_factory.mktemp("app"))
    rng = np.random.default_rng(11)
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    rows = []
    for pid in ("H1", "H2", "H3"):
        level = 10 * np.where(np.arange(120) >= 60, 0.8, 1.0) + rng.normal(0, 0.5, 120)
        for metric in ("cycle_time", NAMES["H1"]):
            rows += [
                (pid, d.strftime("%Y-%m-%d"), metric, v) for d, v in zip(dates, level, strict=True)
            ]
    rows.append(("H4", "2024-01-01", "cycle_time", 5.0))  # one point: a degenerate pilot
    for i, d in enumerate(dates):
        rows.append(("H5", d.strftime("%Y-%m-%d"), "profit", 1e308 if i % 2 else -1e308))
        rows.append(
            ("H6", d.strftime("%Y-%m-%d"), "cycle_time", 1e308 if i == 100 else 10.0 + i % 3)
        )
    metrics = pd.DataFrame(rows, columns=["pilot_id", "date", "metric", "value"])
    metrics["direction"] = "lower_is_better"
    metrics.loc[metrics["metric"] == "profit", "direction"] = "higher_is_better"
    metrics.to_csv(folder / "m.csv", index=False)
    pd.DataFrame(
        {
            "pilot_id": list(NAMES),
            "go_live": "2024-03-01",
            "pilot_name": list(NAMES.values()),
            "company": [NAMES["H2"], MARKDOWN_LINKS, NAMES["H1"], NAMES["H4"], "", ""],
            "workflow": [MARKDOWN_LINKS, NAMES["H2"], "", "", "", ""],
        }
    ).to_csv(folder / "p.csv", index=False)
    db = folder / "h.duckdb"
    done = cli("ingest", "--db", db, folder / "m.csv", "--pilots", folder / "p.csv")
    assert done.returncode == 0, done.stderr
    return db


@pytest.mark.parametrize("pilot", list(NAMES))
@pytest.mark.parametrize("page", PAGES)
def test_pages_keep_hostile_text_inert(
    hostile_app_db: Path, monkeypatch: pytest.MonkeyPatch, page: str, pilot: str
) -> None:
    monkeypatch.setenv("PILOTPROOF_DB", str(hostile_app_db))
    monkeypatch.setenv("PILOTPROOF_SEED", "0")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.session_state["pilot"] = pilot
    app.run()
    if page != "pages/portfolio.py":
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    bodies = [e.value for e in (*app.markdown, *app.caption, *app.title, *app.subheader)]
    for kind in (app.info, app.success, app.warning, app.error):
        bodies += [e.value for e in kind]
    for body in bodies:
        assert not LIVE.search(body), body
    if page == "pages/explorer.py" and pilot in {"H1", "H2", "H3", "H4"}:  # escaped own text
        assert any(word in body for body in bodies for word in ("x\\.test", "alert", "bold")), (
            bodies
        )


UPLOADS = [
    ("junk.csv", bytes(range(256)) * 8),
    # cut mid-character (whole UTF-16 with its mark is read: tests/hostile/field_shapes.py)
    ("utf16.csv", "pilot_id,date,metric,value\nH1,2024-01-05,cycle_time,5\n".encode("utf-16")[:-1]),
    ("empty.csv", b""),
    ("<script>alert(1)<script> [x](http://x.test).csv", b"pilot_id,date,metric,value\n"),
    ("header.csv", b'"=HYPERLINK(""http://x.test"")",<b>date</b>\n1,2\n'),
]


@pytest.mark.parametrize(("name", "content"), UPLOADS, ids=[u[0][:12] for u in UPLOADS])
def test_upload_page_refuses_hostile_files_without_writing(
    hostile_app_db: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: bytes
) -> None:
    from pilotproof.store import Store

    monkeypatch.setenv("PILOTPROOF_DB", str(hostile_app_db))
    monkeypatch.setenv("PILOTPROOF_SEED", "0")
    with Store(hostile_app_db) as store:
        version = store.data_version()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    app.switch_page("pages/upload.py").run()
    app.file_uploader[0].set_value((name, content, "text/csv")).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.error, "a refused file must say so"
    commit = [b for b in app.button if b.label == "Commit upload"]
    assert all(b.disabled for b in commit)
    bodies = [e.value for e in (*app.markdown, *app.caption, *app.error, *app.warning, *app.info)]
    for body in bodies:
        assert not LIVE.search(body), body
    with Store(hostile_app_db) as store:
        assert store.data_version() == version
