"""Real-export shapes modelled on public bug reports, each with what the store must hold after
reading it: shared by the store's tests (the Upload page's way: validate the bytes, then
ingest them) and the command line's (`pilotproof ingest FILE`)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The pilots every case's store holds (P1 went live in the middle of every case's data).
PILOTS = "pilot_id,go_live\nP1,2005-06-01\n"


@dataclass(frozen=True)
class Shape:
    """One export: its file name and bytes, the (date, metric, value) rows it must store, in
    date order, and words each expected warning holds (one entry per warning, in order)."""

    id: str
    name: str
    content: bytes
    stored: list[tuple[str, str, float]]
    warnings: list[tuple[str, ...]] = field(default_factory=list)
    #: metrics the upload adds (`--new-metric NAME=DIRECTION`)
    new_metrics: dict[str, str] = field(default_factory=dict)

    def cli_args(self) -> list[str]:
        return [f"--new-metric={m}={d}" for m, d in self.new_metrics.items()]


def _long(rows: list[tuple[str, str, str]], delimiter: str = ",", head: str = "") -> bytes:
    """A long metrics file of P1's rows (date, metric, value as written), below `head`."""
    lines = [delimiter.join(("pilot_id", "date", "metric", "value"))]
    lines += [delimiter.join(("P1", *row)) for row in rows]
    return (head + "\n".join(lines) + "\n").encode()


SAVINGS = {"net_savings": "higher_is_better"}

NUMBERS = [
    Shape(
        "no_break_space_thousands",
        "fr.csv",
        _long(
            [("2025-01-06", "cycle_time", "1\u00a0234,5"), ("2025-01-07", "cycle_time", "12,25")],
            ";",
        ),
        [("2025-01-06", "cycle_time", 1234.5), ("2025-01-07", "cycle_time", 12.25)],
    ),
    Shape(
        "narrow_no_break_space_thousands",
        "ch_fr.csv",
        _long(
            [
                ("2025-01-06", "cycle_time", "1\u202f234,5"),
                ("2025-01-07", "cycle_time", "2\u202f000"),
            ],
            ";",
        ),
        [("2025-01-06", "cycle_time", 1234.5), ("2025-01-07", "cycle_time", 2000.0)],
    ),
    Shape(
        "apostrophe_thousands",
        "ch.csv",
        _long(
            [("2025-01-06", "cycle_time", "1'234.50"), ("2025-01-07", "cycle_time", "12\u2019000")]
        ),
        [("2025-01-06", "cycle_time", 1234.5), ("2025-01-07", "cycle_time", 12000.0)],
    ),
    Shape(
        "sap_trailing_minus",
        "sap.csv",
        _long(
            [
                ("06.01.2025", "net_savings", "1.234,50-"),
                ("07.01.2025", "net_savings", "1234,50-"),
                ("08.01.2025", "net_savings", "17,25"),
            ],
            ";",
        ),
        [
            ("2025-01-06", "net_savings", -1234.5),
            ("2025-01-07", "net_savings", -1234.5),
            ("2025-01-08", "net_savings", 17.25),
        ],
        new_metrics=SAVINGS,
    ),
    Shape(
        "sap_trailing_minus_point",
        "sap_point.csv",
        _long([("2025-01-06", "net_savings", "1234.50-"), ("2025-01-07", "net_savings", "5")]),
        [("2025-01-06", "net_savings", -1234.5), ("2025-01-07", "net_savings", 5.0)],
        new_metrics=SAVINGS,
    ),
    Shape(
        "accounting_parentheses",
        "acct.csv",
        _long(
            [("2025-01-06", "net_savings", '"(1,234.50)"'), ("2025-01-07", "net_savings", "(12)")]
        ),
        [("2025-01-06", "net_savings", -1234.5), ("2025-01-07", "net_savings", -12.0)],
        new_metrics=SAVINGS,
    ),
]

SHAPES = [*NUMBERS]
