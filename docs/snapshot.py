"""A behaviour snapshot of the sample portfolio, for refactoring commits (issue 17).

    .venv/bin/python docs/snapshot.py write DIR        (or: make snapshot SNAPSHOT=DIR)
    .venv/bin/python docs/snapshot.py compare DIR      exits 1 and names what differs

Seeds a fresh database from data/sample/ as the app does, then records `analyze --format json`
and every export (pptx, pdf, xlsx, html) in a normalised text form: what a reader sees, without
the bytes that change on every run (zip and PDF timestamps, generated ids, today's date). A
refactoring commit is behaviour-preserving when `compare` finds nothing between the snapshot
taken on its parent and the tree after it.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import re
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pilotproof.cli import main as cli  # noqa: E402
from pilotproof.store import Store, seed_sample  # noqa: E402

FORMATS = ("pptx", "pdf", "xlsx", "html")
_VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"), "<timestamp>"),
    (re.compile(re.escape(date.today().isoformat())), "<today>"),
    (re.compile(date.today().strftime("%-d %B %Y")), "<today>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"<today>,? \d\d:\d\d(:\d\d)?"), "<today> <time>"),
]


def _scrub(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def _pptx_text(path: Path) -> str:
    """Every slide's XML and every embedded chart's XML and workbook cells, in archive order."""
    from openpyxl import load_workbook

    parts = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            data = archive.read(name)
            if name.endswith(".xml") and ("slides/slide" in name or "charts/chart" in name):
                parts.append(f"## {name}\n{data.decode('utf-8')}")
            elif name.endswith(".xlsx"):
                parts.append(f"## {name}\n{_xlsx_text_from(io.BytesIO(data), load_workbook)}")
    return "\n".join(parts)


def _xlsx_text_from(stream, load_workbook) -> str:
    book = load_workbook(stream)
    lines = []
    for sheet in book.worksheets:
        lines.append(f"# sheet {sheet.title}")
        for row in sheet.iter_rows():
            cells = [repr(c.value) for c in row if c.value is not None]
            if cells:
                lines.append(" | ".join(cells))
    return "\n".join(lines)


def _xlsx_text(path: Path) -> str:
    from openpyxl import load_workbook

    return _xlsx_text_from(path, load_workbook)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    pages = PdfReader(path).pages
    return "\n".join(f"## page {n}\n{p.extract_text()}" for n, p in enumerate(pages, 1))


def _html_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


_READERS = {"pptx": _pptx_text, "pdf": _pdf_text, "xlsx": _xlsx_text, "html": _html_text}


def take(folder: Path) -> dict[str, str]:
    """The snapshot: file name -> normalised text."""
    db = folder / "snapshot.duckdb"
    with Store(db) as store:
        seed_sample(store)
    out: dict[str, str] = {}
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = cli(["--db", str(db), "analyze", "--format", "json"])
    if code not in (0, None):
        raise SystemExit(f"analyze exited {code}")
    out["analyze.json"] = json.dumps(json.loads(buffer.getvalue()), indent=1, sort_keys=True)
    for fmt in FORMATS:
        target = folder / f"portfolio.{fmt}"
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli(["--db", str(db), "report", "--format", fmt, "--out", str(target)])
        if code not in (0, None):
            raise SystemExit(f"report --format {fmt} exited {code}")
        out[f"portfolio.{fmt}.txt"] = _READERS[fmt](target)
    return {name: _scrub(text) for name, text in out.items()}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("write", "compare"):
        print(__doc__)
        return 2
    action, where = argv[0], Path(argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        now = take(Path(tmp))
    if action == "write":
        where.mkdir(parents=True, exist_ok=True)
        for name, text in now.items():
            (where / name).write_text(text, encoding="utf-8")
        print(f"snapshot of {len(now)} files written to {where}")
        return 0
    differ = 0
    for name, text in now.items():
        before = (where / name).read_text(encoding="utf-8") if (where / name).exists() else ""
        if before != text:
            differ += 1
            diff = difflib.unified_diff(
                before.splitlines(), text.splitlines(), f"before/{name}", f"after/{name}", n=1
            )
            print("\n".join(line[:200] for line in list(diff)[:60]))
    print(f"{differ} of {len(now)} files differ" if differ else f"all {len(now)} files identical")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
