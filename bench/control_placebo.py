"""Placebo-in-space on real panels: how often does the whole engine call a control unit that
was never treated `real` or `worse`?

For each public panel with five or more control units (`tests/realdata/cases.py`, read from
installed packages), the treated units are dropped and every control unit in turn is analysed
as if it had gone live at the panel's date, with the remaining controls as its comparison group
(Abadie, Diamond & Hainmueller 2010, section 4). A 95% interval should call at most about 1 in
20 of them significant (`real` or `worse`).

    .venv/bin/python bench/control_placebo.py [--panel NAME ...] [--by-unit]

The engine measured is whichever `analytics` is imported first (see bench/realdata.py for
measuring the committed engine while the work tree holds edits).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.append(str(ROOT))

from realdata.cases import control_panels, placebo_in_space  # noqa: E402

SIGNIFICANT = ("real", "worse")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panel", action="append", help="panel name (default: all)")
    parser.add_argument("--by-unit", action="store_true", help="one line per placebo unit")
    args = parser.parse_args()
    import analytics

    print(f"engine: {Path(analytics.__file__).parent}")
    panels = control_panels()
    cases = [c for c in panels if not args.panel or c.name in args.panel]
    if not cases:
        names = ", ".join(c.name for c in panels)
        parser.error(f"no panel named {', '.join(args.panel)}; the panels are: {names}")
    total = called = 0
    print(f"{'panel':<22} {'units':>5} {'real':>5} {'worse':>5} {'rate':>6}  seconds")
    for case in cases:
        start = time.perf_counter()
        found = placebo_in_space(case)
        if args.by_unit:
            for unit, verdict, pct in found:
                print(f"  {unit:<24} {verdict:<14} {'-' if pct is None else f'{pct:+.1f}%'}")
        real = sum(v == "real" for _, v, _ in found)
        worse = sum(v == "worse" for _, v, _ in found)
        total, called = total + len(found), called + real + worse
        print(
            f"{case.name:<22} {len(found):>5} {real:>5} {worse:>5} "
            f"{(real + worse) / len(found):>6.1%}  {time.perf_counter() - start:.1f}"
        )
    print(f"{'all':<22} {total:>5} {'':>5} {'':>5} {called / total:>6.1%}  (goal: at most 5%)")


if __name__ == "__main__":
    main()
