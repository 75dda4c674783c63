"""Which pilots get their own pages: every pilot, or a board pack's picked few."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pilotproof.export.content import PilotSection, Report


def paged_pilots(report: Report, pages: Collection[str] | None) -> tuple[PilotSection, ...]:
    """The pilots whose own pages (PDF) or slides (PPTX) are drawn, in the report's order:
    all of them for None, those whose id is in `pages` otherwise (none for an empty one)."""
    if pages is None:
        return report.pilots
    wanted = set(pages)
    return tuple(p for p in report.pilots if p.pilot_id in wanted)


def balanced_pages(heights: Sequence[float], room: float, most: int) -> list[list[int]]:
    """Rows of `heights` (any one unit, EMU in the deck) split into consecutive pages of at most
    `room` of height and `most` rows, as few pages as filling each in turn needs, and balanced
    across them: the smallest height, then row count, per page with which that many pages still
    hold every row. Filling in turn left the deck's executive summary at 6, 4, 2 and 2 rows,
    two slides half empty. Returns each page's row indexes; a row taller than `room` gets a page
    of its own; none for no rows."""
    if not heights:
        return []
    most = max(1, most)
    needed = len(_filled(heights, room, most))
    low, high = min(max(heights), room), room
    while high - low > 1:  # the least height per page that still needs no more pages
        middle = (low + high) / 2
        if len(_filled(heights, middle, most)) <= needed:
            high = middle
        else:
            low = middle
    rows = max(1, -(-len(heights) // needed))
    while len(_filled(heights, high, rows)) > needed and rows < most:
        rows += 1
    return _filled(heights, high, rows)


def _filled(heights: Sequence[float], room: float, most: int) -> list[list[int]]:
    """Pages filled in turn: a row goes on the current page while it fits in `room` and the
    page has fewer than `most` rows, else it starts the next."""
    pages: list[list[int]] = []
    used = room + 1.0
    for i, height in enumerate(heights):
        if not pages or used + height > room or len(pages[-1]) >= most:
            pages.append([])
            used = 0.0
        pages[-1].append(i)
        used += height
    return pages
