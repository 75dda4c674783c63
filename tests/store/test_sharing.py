"""The store beside other processes: the file is open only while it is used, so the app and the
CLI take turns; a process that finds it held waits (saying so) and then goes through, or stops
with a one-line message and nothing written."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pilotproof.store import DatabaseBusyError, Store
from pilotproof.store.database import LINGER_SECONDS

ROOT = Path(__file__).resolve().parents[2]
HEAD = "pilot_id,date,metric,value\n"

HOLDER = """
import sys, time
from pilotproof.store import Store
store = Store(sys.argv[1])
with store._transaction() as cur:  # a long write, as the app committing a big upload
    cur.execute("INSERT INTO events VALUES (nextval('event_seq'), 'P1', DATE '2024-02-01', 'held')")
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
store.close()
"""


def _python(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, **kwargs,
    )  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shared.duckdb"
    with Store(path) as store:
        pilots = tmp_path / "pilots.csv"
        pilots.write_text("pilot_id,go_live,company\nP1,2024-01-10,Acme\nP2,2024-01-10,Bolt\n")
        store.ingest([pilots], user="setup")
    return path


def test_an_idle_store_leaves_the_file_to_other_processes(db: Path) -> None:
    store = Store(db)  # the app: open for its lifetime, idle between reruns
    assert len(store.pilots()) == 2
    time.sleep(LINGER_SECONDS * 3)
    other = _python("-m", "pilotproof.cli", "--db", str(db), "--wait", "10", "pilots")
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    assert "P1" in out and "P2" in out
    assert len(store.pilots()) == 2  # and the first store reads on afterwards
    store.close()


def test_an_ingest_waits_for_a_write_in_progress_then_goes_through(
    db: Path, tmp_path: Path
) -> None:
    notes: list[str] = []
    store = Store(db, wait=60, on_wait=lambda s: notes.append(f"{s:.1f}"))
    time.sleep(LINGER_SECONDS * 3)  # idle: the file is closed
    holder = _python("-c", HOLDER, str(db), "2.5")
    try:
        assert holder.stdout.readline().strip() == "held"
        metrics = tmp_path / "m.csv"
        metrics.write_text(HEAD + "P1,2024-01-05,cycle_time,4\nP1,2024-01-12,cycle_time,3\n")
        started = time.monotonic()
        with store:
            steps: list[str] = []
            result = store.ingest([metrics], user="cli", progress=lambda f, m: steps.append(m))
            waited = time.monotonic() - started
            assert result.rows == 2
            assert any(s.startswith("waiting for the database") for s in steps), steps
            assert notes == []  # the ingest's own progress said it, not the store's default
            assert waited > 1.0  # it did wait for the holder's commit
            # nothing lost: the holder's write and ours are both there
            assert list(store.events()["label"]) == ["held"]
            assert len(store.observations()) == 2
    finally:
        holder.kill()
        holder.wait()


def test_a_file_held_past_the_wait_is_a_message_and_nothing_is_written(
    db: Path, tmp_path: Path
) -> None:
    holder = _python("-c", HOLDER, str(db), "30")
    try:
        assert holder.stdout.readline().strip() == "held"
        metrics = tmp_path / "m.csv"
        metrics.write_text(HEAD + "P1,2024-01-05,cycle_time,4\n")
        cli = _python("-m", "pilotproof.cli", "ingest", "--db", str(db), "--wait", "1.5",
                      str(metrics))  # fmt: skip
        _, err = cli.communicate(timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert cli.returncode == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith("pilotproof: waiting for the database: another process")
    assert "in use by another process" in lines[-1] and "--wait" in lines[-1]
    assert "Traceback" not in err and "PID" not in err
    with Store(db) as store:  # the killed holder's transaction never committed; ours neither
        assert store.observations().empty and store.events().empty
    with Store(db, wait=0) as store, pytest.raises(DatabaseBusyError):
        holder = _python("-c", HOLDER, str(db), "30")
        try:
            assert holder.stdout.readline().strip() == "held"
            store.close()
            store.pilots()
        finally:
            holder.kill()
            holder.wait()


WRITER = """
import sys
from pilotproof.store import Store
path, me, n, csv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with Store(path, wait=60) as store:
    for i in range(n):
        store.add_event("P1", "2024-02-01", f"{me}-{i}")
        store.pilots()
    store.ingest([csv], user=me)
print("done", flush=True)
"""


def test_processes_writing_at_once_lose_nothing(db: Path, tmp_path: Path) -> None:
    writers = []
    for k in range(3):
        metrics = tmp_path / f"m{k}.csv"
        metrics.write_text(
            HEAD + "".join(f"P{1 + k % 2},2024-0{k + 1}-{d:02d},cycle_time,{d}\n" for d in
                           range(1, 21))
        )  # fmt: skip
        writers.append(_python("-c", WRITER, str(db), f"w{k}", "15", str(metrics)))
    for writer in writers:
        out, err = writer.communicate(timeout=240)
        assert writer.returncode == 0 and out.strip() == "done", err
    with Store(db) as store:
        labels = set(store.events()["label"])
        assert labels == {f"w{k}-{i}" for k in range(3) for i in range(15)}
        assert len(store.observations()) == 60
        uploads = store.uploads()
        assert sorted(uploads.loc[uploads["kind"] != "pilots", "user"]) == ["w0", "w1", "w2"]
