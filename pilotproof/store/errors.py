"""The store's own errors and the one-line problem report every bad input produces."""

from __future__ import annotations

from dataclasses import dataclass

#: Characters of a user's value quoted in a message; longer values are cut with an ellipsis.
SHOWN_CHARS = 60


def counted(n: int, noun: str) -> str:
    """'1 problem', '2 problems', '1,234 rows': a count with its noun in the right number."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


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
        more = f" (and {counted(self.total - 1, 'more problem')})" if self.total > 1 else ""
        super().__init__(first + more)


class DatabaseBusyError(StoreError):
    """Another process (the app writing, or another pilotproof command) held the database file
    for longer than the caller would wait. Nothing was read or written: try again."""

    def __init__(self, path: object, waited: float) -> None:
        self.path = str(path)
        self.waited = waited
        super().__init__(
            f"the database {path} is in use by another process (the app writing, or another "
            f"pilotproof command) and stayed busy for {waited:.0f} s; nothing was changed: "
            "try again when it has finished"
        )


def waiting_message(seconds: float) -> str:
    """What a caller shows while it waits for the database another process holds."""
    return (
        "waiting for the database: another process (the app writing, or another pilotproof "
        f"command) holds it ({seconds:.0f} s)"
    )
