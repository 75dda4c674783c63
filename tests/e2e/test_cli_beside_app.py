"""The analyst's CLI beside the running app: a real `streamlit run` and the `pilotproof` command
on one database file at once. The app opens the file only while a page reads or writes, so
`analyze`, `report` and `ingest` go through while it is open (waiting their turn); a file held
too long is a message with a retry on the page, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from appserver import ROOT, start_app, stop_app
from test_browser import PILOT_ID, upload_files, wait_idle

from pilotproof.store import Store

pytestmark = pytest.mark.e2e

CLI_PILOT = "cli_bot"


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    """The `pilotproof` command of this checkout, waiting up to a minute for the database."""
    return subprocess.run(
        [sys.executable, "-m", "pilotproof.cli", "--wait", "60", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def cli_files(folder: Path) -> tuple[Path, Path, int]:
    """A pilots file and a daily metrics file for a pilot only the CLI loads."""
    folder.mkdir(parents=True, exist_ok=True)
    days = pd.date_range("2025-01-01", periods=200, freq="D")
    pilots, metrics = folder / "cli_pilots.csv", folder / "cli_metrics.csv"
    pilots.write_text(f"pilot_id,go_live,pilot_name,company\n{CLI_PILOT},2025-05-01,CLI bot,Acme\n")
    values = [20.0 - 4.0 * (d >= pd.Timestamp("2025-05-01")) + (i % 7) * 0.1
              for i, d in enumerate(days)]  # fmt: skip
    frame = pd.DataFrame(
        {"pilot_id": CLI_PILOT, "date": days.strftime("%Y-%m-%d"), "metric": "cycle_time",
         "value": values}
    )  # fmt: skip
    frame.to_csv(metrics, index=False)
    return pilots, metrics, len(frame)


def no_traceback_on(page) -> None:
    text = page.locator("[data-testid='stApp']").inner_text()
    assert page.locator("[data-testid='stException']").count() == 0, text
    assert "Traceback" not in text and "PID" not in text, text


def test_analyze_report_and_ingest_while_the_app_reads_and_writes(
    app_url: str, page, tmp_path: Path
) -> None:
    db = tmp_path / "e2e.duckdb"
    page.goto(app_url)
    page.get_by_text("Experimenting, expanding, coordinating").wait_for(timeout=120_000)
    wait_idle(page)  # seeded with the sample portfolio

    pilots_csv, metrics_csv, cli_rows = cli_files(tmp_path / "cli")
    (tmp_path / "browser").mkdir()
    done: dict[str, list[subprocess.CompletedProcess[str]]] = {"analyze": [], "report": []}
    browsing = threading.Event()

    def analyst() -> None:  # analyze and report over and over while the browser works
        n = 0
        while not browsing.is_set() or n < 2:
            done["analyze"].append(cli("analyze", "--db", db, "--format", "json"))
            out = tmp_path / f"report{n}.html"
            done["report"].append(cli("report", "--db", db, "--format", "html", "--out", out))
            n += 1

    def loader() -> None:
        done["ingest"] = [cli("ingest", "--db", db, metrics_csv, "--pilots", pilots_csv,
                              "--user", "analyst")]  # fmt: skip

    threads = [threading.Thread(target=analyst), threading.Thread(target=loader)]
    for thread in threads:
        thread.start()
    try:
        # the app writes too: an upload committed in the browser meanwhile
        page.goto(f"{app_url}/upload")
        page.get_by_role("heading", name="Upload", exact=True).wait_for()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            upload_files(tmp_path / "browser")
        )
        page.get_by_text("Every file passed validation").wait_for(timeout=120_000)
        page.get_by_role("button", name="Commit upload").click()
        page.get_by_text(re.compile(r"ingested \d+ rows", re.I)).first.wait_for(timeout=120_000)
        wait_idle(page)
        no_traceback_on(page)
        for path in ("", "explorer", "compare", "plans"):
            page.goto(f"{app_url}/{path}")
            page.locator("[data-testid='stMainBlockContainer'] h1").first.wait_for()
            wait_idle(page)
            no_traceback_on(page)
    finally:
        browsing.set()
        for thread in threads:
            thread.join(timeout=900)

    for name, runs in done.items():
        assert runs, name
        for run in runs:
            assert run.returncode == 0, (name, run.stderr)
            assert "Traceback" not in run.stderr, (name, run.stderr)
    assert '"pilots"' in done["analyze"][0].stdout
    assert (tmp_path / "report0.html").stat().st_size > 10_000

    # nothing lost: the browser's upload, the CLI's ingest and the whole sample are all there
    page.goto(f"{app_url}/explorer?pilot={CLI_PILOT}")
    page.get_by_text("CLI bot").first.wait_for(timeout=120_000)
    wait_idle(page)
    no_traceback_on(page)
    with Store(db, wait=60) as store:
        observations = store.observations()
        counts = observations.groupby("pilot_id").size()
        assert counts[CLI_PILOT] == cli_rows
        assert counts[PILOT_ID] == 60
        assert len(store.pilots()) == 16  # 14 sample pilots, the browser's and the CLI's
        uploads = store.uploads()
        assert set(uploads.loc[uploads["user"] == "analyst", "outcome"]) == {"ok"}
        assert (uploads["outcome"] == "ok").all()
    assert "Traceback" not in (tmp_path / "streamlit.log").read_text()


def test_a_database_held_too_long_is_a_message_with_a_retry(page, tmp_path: Path, monkeypatch):
    db = tmp_path / "held.duckdb"
    monkeypatch.setenv("PILOTPROOF_WAIT", "1")
    process, url = start_app(db, tmp_path / "streamlit.log")
    try:
        page.goto(url)
        page.get_by_text("Experimenting, expanding, coordinating").wait_for(timeout=120_000)
        wait_idle(page)
        holder = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
             "print('held', flush=True); time.sleep(300)", str(db)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert holder.stdout.readline().strip() == "held"
            page.goto(f"{url}/compare")
            page.get_by_text("The database is busy").wait_for(timeout=60_000)
            wait_idle(page)
            no_traceback_on(page)
        finally:
            holder.kill()
            holder.wait()
        page.get_by_role("button", name="Retry").click()
        page.get_by_role("heading", name="Compare pilots").wait_for(timeout=60_000)
        wait_idle(page)
        no_traceback_on(page)
        # the busy message leaves once the rerun that Retry started has replaced it (a loaded
        # machine can show the new heading before the stale message is cleared)
        page.get_by_text("The database is busy").wait_for(state="detached", timeout=60_000)
    finally:
        stop_app(process)
    assert "Traceback" not in (tmp_path / "streamlit.log").read_text()
