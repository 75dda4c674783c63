"""Proof-of-value exports: PowerPoint, PDF, Excel and self-contained HTML.

`build(results, store, fmt)` returns the file's bytes; `write(path, ...)` saves them. All four
formats render the same `content.Report`, so titles, numbers and footer agree across them.

    from pilotproof.analysis import analyze_store
    from pilotproof.export import build
    data = build(analyze_store(store), store, "pptx")
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Literal, get_args

from analytics.results import PilotResult
from pilotproof.export.content import Report, build_report

Format = Literal["pptx", "pdf", "xlsx", "html"]
FORMATS: tuple[Format, ...] = get_args(Format)
MEDIA_TYPES: dict[Format, str] = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
}
Progress = Callable[[float, str], None]
#: Past this many pilots the Export page offers a board pack (the summary of every pilot plus the
#: pages of the pilots picked) before a page per pilot.
BOARD_PACK_FROM = 50


class ExportError(ValueError):
    """An export that cannot be produced, with a message a user can act on."""


def report_from_store(
    results: Sequence[PilotResult],
    store,
    pilot_ids: Sequence[str] | None = None,
    filters: Mapping[str, str] | None = None,
) -> Report:
    """The format-independent report, reading names, readiness and data from `store`."""
    ids = list(pilot_ids) if pilot_ids else [r.pilot_id for r in results]
    known = {r.pilot_id for r in results}
    unknown = [p for p in ids if p not in known]
    if unknown:
        raise ExportError(f"no analysis result for pilot(s): {', '.join(unknown)}")
    return build_report(
        results,
        store.pilots(),
        store.observations(ids),
        catalog=store.catalog(),
        events=store.events(),
        pilot_ids=pilot_ids,
        filters=filters,
        currencies=store.pilot_currencies(),
        rates=store.rates() if hasattr(store, "rates") else None,
    )


def render(
    report: Report,
    fmt: Format,
    progress: Progress | None = None,
    problems: list[str] | None = None,
    pages: Collection[str] | None = None,
) -> bytes:
    """Render a ready `Report` in one format.

    Parts that could not be drawn (a chart image in the PDF) are noted in the file where they
    would be and, one line each, appended to `problems`. `pages` makes a board pack: the
    summary of every pilot in the report, then the pages (PDF) or slides (PPTX) of these pilots
    only (none for an empty collection); None gives every pilot its pages. The workbook and
    the HTML page always hold every pilot.
    """
    if fmt == "pptx":
        from pilotproof.export import pptx as writer
    elif fmt == "pdf":
        from pilotproof.export import pdf as writer
    elif fmt == "xlsx":
        from pilotproof.export import xlsx as writer
    elif fmt == "html":
        from pilotproof.export import html as writer
    else:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "pdf":
        return writer.render(report, progress, problems, pages=pages)
    if fmt == "pptx":
        return writer.render(report, progress, pages=pages)
    return writer.render(report, progress)


def build(
    results: Sequence[PilotResult],
    store,
    fmt: Format,
    pilot_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
    filters: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
    pages: Collection[str] | None = None,
) -> bytes:
    """The proof-of-value file for `pilot_ids` (None: every pilot in `results`) as bytes.

    `progress(fraction, text)` is called as the export advances (fraction 0..1), for the app
    and the CLI; `problems` collects what could not be drawn and `pages` makes a board pack
    (see `render`).
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    step = progress or (lambda fraction, text: None)
    step(0.0, "Collecting results")
    report = report_from_store(results, store, pilot_ids, filters)
    return render(report, fmt, step, problems, pages)


def write(
    path: str | Path,
    results: Sequence[PilotResult],
    store,
    fmt: Format | None = None,
    pilot_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
    filters: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
    pages: Collection[str] | None = None,
) -> Path:
    """Build the export and save it to `path`; the format defaults to the path's suffix.
    The file appears whole or not at all: it is written beside `path`, then renamed."""
    target = Path(path)
    chosen = fmt or target.suffix.lstrip(".").lower()
    if chosen not in FORMATS:
        raise ExportError(f"cannot tell the format of {target.name}; use one of {FORMATS}")
    data = build(results, store, chosen, pilot_ids, progress, filters, problems, pages)  # type: ignore[arg-type]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


__all__ = [
    "BOARD_PACK_FROM",
    "FORMATS",
    "MEDIA_TYPES",
    "ExportError",
    "Format",
    "Report",
    "build",
    "build_report",
    "render",
    "report_from_store",
    "write",
]
