"""Run the field-shaped known-truth families through the `pilotproof` CLI and score them.

    .venv/bin/python -m bench.field.score [--seeds N] [--families a,b] [--json OUT]
        [--keep DIR] [--jobs N] [--engine-root DIR]

The machinery (ingest, analyse, score, the table) is `bench/independent/score.py`, run with this
folder's generator (`bench.field.generate`) as its family registry; see `bench/field/README.md`.
"""

from __future__ import annotations

import sys

from bench.field import generate
from bench.independent import score


def main(argv: list[str] | None = None) -> int:
    """The command line of `bench/independent/score.py` over the field families."""
    return score.main(argv, registry=generate, description=__doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
