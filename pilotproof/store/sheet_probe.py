"""The workbook probe: run as a script in a child process (`workbooks.probe`), never imported by
the app. It reads a workbook's bytes from stdin with python-calamine, under a cap on its memory
and CPU time, and writes one JSON line per sheet: `{"sheet": NAME}` before the sheet is read and
`{"sheet": NAME, "cells": N}` after, N being the rows times the columns of the grid pandas will
build from it (from cell A1 to the sheet's last used cell).

Why a child: calamine builds a sheet's whole grid in memory, sized by the cells' positions, and
a 5 kB workbook holding a cell at A1 and one at XFD1048576 (or an OpenDocument row repeated a
million times) asks for hundreds of gigabytes. A failed allocation in Rust aborts the process:
in the app, the whole server. Here it aborts a throwaway child, and the parent names the sheet
it died on. This file imports nothing from pilotproof, so it runs with `python -I`.
"""

from __future__ import annotations

import io
import json
import sys


def _cap(memory_bytes: int, cpu_seconds: int) -> None:
    """Limit this process's address space and CPU time (where the platform allows it)."""
    try:
        import resource
    except ImportError:  # not on Unix: the child still shields the parent from an abort
        return
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            continue


def main(argv: list[str]) -> int:
    """`sheet_probe.py MEMORY_BYTES CPU_SECONDS < BOOK`: the JSON lines described above; a
    workbook calamine cannot open writes `{"unreadable": true}` (the parent's own read names the
    damage). Exit 0 unless the caps were hit."""
    _cap(int(argv[1]), int(argv[2]))
    data = sys.stdin.buffer.read()
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception:  # calamine raises its own types for every kind of damage
        print(json.dumps({"unreadable": True}), flush=True)
        return 0
    for name in book.sheet_names:
        print(json.dumps({"sheet": name}), flush=True)
        try:
            end = book.get_sheet_by_name(name).end
        except MemoryError:
            raise
        except Exception:  # a damaged sheet: reading it names the damage
            continue
        cells = 0 if end is None else (end[0] + 1) * (end[1] + 1)
        print(json.dumps({"sheet": name, "cells": cells}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
