"""The folders uploads are copied into while they are checked and written, and the clean-up of
those a killed process left behind.

An upload given as bytes (the Upload page) is written to a temporary folder for DuckDB to read;
a process killed during a commit never removes it, and a large upload left a 27 MB copy each
time. Each folder carries its process id (`pilotproof-<pid>-...`), so a later start removes the
folders of processes that are gone and never those of one still running (the app and the CLI
share the temporary directory).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "pilotproof-"
_OWNED = re.compile(rf"^{re.escape(PREFIX)}(\d+)-")
#: A folder from before folders carried their process id is removed once untouched this long.
UNOWNED_AGE_SECONDS = 3600.0


@contextmanager
def workdir() -> Iterator[Path]:
    """A temporary folder for one check or commit, named with this process's id."""
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as tmp:
        yield Path(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or nothing to judge: leave it
    return True


def clean_stale(root: Path | str | None = None) -> list[Path]:
    """Remove this user's upload folders whose process is gone (and folders without a process
    id untouched for an hour) from `root` (default: the temporary directory); returns them."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(base.glob(f"{PREFIX}*"))
    except OSError:
        return removed
    for entry in entries:
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not entry.is_dir() or entry.is_symlink() or info.st_uid != os.getuid():
            continue
        owner = _OWNED.match(entry.name)
        if owner is not None and (int(owner[1]) == os.getpid() or _alive(int(owner[1]))):
            continue
        if owner is None and time.time() - info.st_mtime < UNOWNED_AGE_SECONDS:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            removed.append(entry)
    return removed
