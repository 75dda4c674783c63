"""Housekeeping: upload copies a killed commit left are removed at the next start; a plain ZIP
is named as a ZIP, not as a broken workbook; counts read in the right number."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from pilotproof.store import IngestError, Problem, Store, sheet_names
from pilotproof.store.errors import counted
from pilotproof.store.workdirs import PREFIX, UNOWNED_AGE_SECONDS, clean_stale

ROOT = Path(__file__).resolve().parents[2]

KILLED_MID_COMMIT = """
import time
from pilotproof.store.workdirs import workdir
with workdir() as folder:
    (folder / "upload.csv").write_bytes(b"x" * 1_000_000)
    print(folder, flush=True)
    time.sleep(300)
"""


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_a_killed_commit_leaves_a_copy_that_the_next_start_removes(
    temp_root: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "TMPDIR": str(temp_root), "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_COMMIT], stdout=subprocess.PIPE, text=True, env=env
    )
    folder = Path(child.stdout.readline().strip())
    assert folder.parent == temp_root and folder.name.startswith(f"{PREFIX}{child.pid}-")
    kept = Store(tmp_path / "a.duckdb")  # the process is alive: its copy stays
    assert (folder / "upload.csv").exists()
    kept.close()
    child.kill()  # SIGKILL: no clean-up runs
    child.wait()
    assert (folder / "upload.csv").exists()
    with Store(tmp_path / "a.duckdb"):
        assert not folder.exists()


def test_only_dead_processes_and_old_unowned_folders_are_removed(temp_root: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = temp_root / f"{PREFIX}{int(done.stdout)}-abc"
    mine = temp_root / f"{PREFIX}{os.getpid()}-def"
    old = temp_root / f"{PREFIX}old"
    fresh = temp_root / f"{PREFIX}fresh"
    other = temp_root / "somebody-else"
    for folder in (dead, mine, old, fresh, other):
        folder.mkdir()
        (folder / "f").write_text("x")
    stale = time.time() - UNOWNED_AGE_SECONDS - 60
    os.utime(old, (stale, stale))
    assert sorted(clean_stale()) == sorted([dead, old])
    assert mine.exists() and fresh.exists() and other.exists()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["exports.zip", "metrics.csv", "book.xlsx"])
def test_a_plain_zip_is_named_a_zip_not_a_workbook(tmp_path: Path, name: str) -> None:
    data = _zip({"metrics.csv": b"pilot_id,date\n", "notes.txt": b"hi"})
    with Store(tmp_path / "z.duckdb") as store:
        with pytest.raises(IngestError) as refused:
            store.ingest([(name, data)])
        (problem,) = refused.value.problems
        assert "ZIP archive (holding metrics.csv, notes.txt)" in problem.message
        assert "workbook (" not in problem.message and "unzip it" in problem.message
        report = store.validate([(name, data)])
        assert "ZIP archive" in report.problems[0].message
    with pytest.raises(IngestError, match="ZIP archive"):
        sheet_names(name, data)


def test_a_real_workbook_is_still_read(tmp_path: Path) -> None:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"pilot_id": ["P1"], "go_live": ["2024-01-01"]}).to_excel(buffer, index=False)
    assert sheet_names("pilots.xlsx", buffer.getvalue()) == ["Sheet1"]
    with Store(tmp_path / "w.duckdb") as store:
        assert store.ingest([("pilots.xlsx", buffer.getvalue())]).pilots_upserted == 1


def test_counts_read_in_the_right_number() -> None:
    assert counted(1, "problem") == "1 problem"
    assert counted(2, "problem") == "2 problems"
    assert counted(1234, "row") == "1,234 rows"
    two = IngestError([Problem("f.csv", 2, "value", "bad"), Problem("f.csv", 3, "value", "bad")])
    assert str(two).endswith("(and 1 more problem)")
