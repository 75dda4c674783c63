"""Which pilots get their own pages: every pilot, or a board pack's picked few."""

from __future__ import annotations

from collections.abc import Collection

from pilotproof.export.content import PilotSection, Report


def paged_pilots(report: Report, pages: Collection[str] | None) -> tuple[PilotSection, ...]:
    """The pilots whose own pages (PDF) or slides (PPTX) are drawn, in the report's order:
    all of them for None, those whose id is in `pages` otherwise (none for an empty one)."""
    if pages is None:
        return report.pilots
    wanted = set(pages)
    return tuple(p for p in report.pilots if p.pilot_id in wanted)
