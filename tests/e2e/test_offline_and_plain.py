"""No request leaves the machine, and text people type stays plain text, in the app started
exactly as `make run` starts it.

Outside requests: every page opened in a real browser, and every connection the server and the
browser try recorded.

The server runs with an audit hook (`sys.addaudithook`, loaded through `sitecustomize`) that logs
each socket connect, send and name lookup to a host other than loopback; the browser's requests
go through the route guard in conftest, which fails the test on any other host.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from appserver import ROOT, free_port
from test_browser import wait_idle

pytestmark = pytest.mark.e2e

PAGES = ("", "upload", "explorer", "compare", "readiness", "settings", "export")

AUDIT_HOOK = """
import os, sys

_LOG = os.environ["PILOTPROOF_NET_LOG"]
_LOCAL = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::", None, ""}


def _host(address):
    if isinstance(address, tuple) and address:
        return address[0]
    if isinstance(address, (str, bytes)):  # a unix socket path
        return None
    return address


def _hook(event, args):
    if event in ("socket.connect", "socket.sendto"):
        host = _host(args[1])
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host not in _LOCAL:
        with open(_LOG, "a") as log:
            log.write(f"{event} {host!r}\\n")


sys.addaudithook(_hook)
"""


def make_run_command(port: int) -> list[str]:
    """The command `make run` runs (its recipe, as make prints it)."""
    printed = subprocess.run(
        ["make", "-s", "-n", "run", f"PORT={port}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    recipe = printed.replace("\\\n", " ").strip().splitlines()[-1]
    command = shlex.split(recipe)
    assert command[0].endswith("streamlit") and "app.py" in command, command
    command[0] = str(ROOT / command[0]) if not os.path.isabs(command[0]) else command[0]
    return command


@pytest.fixture
def app(tmp_path: Path):
    """`make run`'s command on a free port, with the audit hook; yields (url, port, log)."""
    yield from _run_app(tmp_path, tmp_path / "offline.duckdb")


def _run_app(tmp_path: Path, db: Path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(AUDIT_HOOK)
    net_log = tmp_path / "outside.log"
    net_log.touch()
    port = free_port()
    env = {
        **os.environ,
        "PILOTPROOF_DB": str(db),
        "PILOTPROOF_NET_LOG": str(net_log),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])),
    }
    out = (tmp_path / "streamlit.log").open("wb")
    process = subprocess.Popen(
        make_run_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "streamlit.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.3)
        yield url, port, net_log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


def _outside_addresses() -> list[str]:
    """This machine's addresses other than loopback (empty when it has none)."""
    try:
        found = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({info[4][0] for info in found if not info[4][0].startswith("127.")})


def test_make_run_listens_on_loopback_and_nothing_leaves_the_machine(app, page):
    url, port, net_log = app
    for path in PAGES:
        page.goto(f"{url}/{path}")
        page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=90_000)
        wait_idle(page)
    page.goto(f"{url}/")
    page.get_by_text("Experimenting, expanding, coordinating").wait_for(timeout=90_000)
    icon = page.locator("link[rel='shortcut icon'], link[rel='icon']").first.get_attribute("href")
    assert icon and "//" not in icon.split("?")[0].removeprefix("http://127.0.0.1"), icon
    # the server: no lookup, no connect, no datagram to another host (read while it still runs)
    assert net_log.read_text() == "", net_log.read_text()
    # and it cannot be reached from the network, only from this machine
    for address in _outside_addresses():
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((address, port)) != 0, f"reachable on {address}:{port}"


# ---- plain text stays plain ---------------------------------------------------------------

URL_NAME = "Bot see https://evil.test/x or www.evil.test, mail a@evil.test"
ESC_NAME = "Ctrl \x1b]0;pwned\x07 bot"


@pytest.fixture
def hostile_app(tmp_path: Path):
    """The app on a database of two pilots whose names hold links and control characters."""
    import numpy as np
    import pandas as pd

    from pilotproof.store import Store

    dates = pd.date_range("2025-01-06", periods=60, freq="W-MON")
    level = np.where(np.arange(60) >= 30, 14.0, 20.0) + np.random.default_rng(3).normal(0, 0.4, 60)
    metrics = pd.concat(
        pd.DataFrame({"pilot_id": pid, "date": dates.strftime("%Y-%m-%d"),
                      "metric": "cycle_time", "value": level.round(2)})
        for pid in ("URL", "ESC")
    )  # fmt: skip
    pilots = pd.DataFrame(
        {"pilot_id": ["URL", "ESC"], "go_live": dates[30].strftime("%Y-%m-%d"),
         "pilot_name": [URL_NAME, ESC_NAME]}
    )  # fmt: skip
    metrics.to_csv(tmp_path / "m.csv", index=False)
    pilots.to_csv(tmp_path / "p.csv", index=False)
    db = tmp_path / "hostile.duckdb"
    with Store(db) as store:
        store.ingest([tmp_path / "p.csv", tmp_path / "m.csv"])
    yield from _run_app(tmp_path, db)


def test_names_show_as_plain_text_in_the_explorer(hostile_app, page):
    url, _, _ = hostile_app
    page.goto(f"{url}/explorer?pilot=URL")
    page.get_by_role("heading", name="Mirage checks", exact=True).wait_for(timeout=90_000)
    wait_idle(page)
    main = page.locator("[data-testid='stMain']")
    text = main.inner_text().replace("\u2060", "")
    assert "https://evil.test/x" in text and "www.evil.test" in text  # shown as typed...
    hrefs = main.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert not [h for h in hrefs if "evil.test" in h], hrefs  # ...and never a link
    page.goto(f"{url}/explorer?pilot=ESC")
    page.get_by_role("heading", name="Mirage checks", exact=True).wait_for(timeout=90_000)
    wait_idle(page)
    assert "Ctrl <ESC>]0;pwned<BEL> bot" in main.inner_text()
