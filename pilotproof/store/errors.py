"""The store's own errors and the one-line problem report every bad input produces."""

from __future__ import annotations

from dataclasses import dataclass

#: Characters of a user's value quoted in a message; longer values are cut with an ellipsis.
SHOWN_CHARS = 60


def clip(value: object, limit: int = SHOWN_CHARS) -> str:
    """A value as quoted in a message: at most `limit` characters, so that a 300,000-character
    field does not make a 300 kB line."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, at a physical line (the header is line 1)."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        # values are clipped where messages are made; this bounds the line whatever the source
        message = clip(self.message, 20 * SHOWN_CHARS)
        return f"{self.file}:{self.line}: column {clip(self.column)}: {message}"


class StoreError(Exception):
    """A database problem described so that a user can act on it."""


class IngestError(StoreError):
    """Input refused: nothing was written. `.problems` lists what is wrong, line by line;
    `.total` counts every problem found (the list may be capped)."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        first = str(self.problems[0]) if self.problems else "input refused"
        more = f" (and {self.total - 1} more problems)" if self.total > 1 else ""
        super().__init__(first + more)
