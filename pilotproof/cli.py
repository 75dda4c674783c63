"""The `pilotproof` command: ingest, pilots, analyze, report, plan set|show, decide.

Each subcommand dispatches to one `cmd_*` function taking the parsed arguments and returning the
exit code. Exit 0 on success, 1 on refused input (one line per problem on stderr,
"FILE:LINE: column COL: message"), 2 on usage errors and commands not built yet. Never a traceback
for bad input. Heavy modules (pandas, analytics) are imported inside the commands that need them,
so `pilotproof ingest` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pilotproof.plaintext import inert, shown, terminal

if TYPE_CHECKING:
    from pilotproof.store import Problem

#: Problems printed before "... and N more".
MAX_PRINTED = 50
#: Seconds a command waits, by default, for a database the app is writing to.
WAIT_SECONDS = 60.0
#: Characters of a name shown in `pilotproof pilots`' table before it is cut with "…".
TABLE_CELL = 60


#: Seconds between two "still waiting" lines while another process holds the database.
WAIT_NOTE_EVERY = 5.0


def _waiting_note() -> Callable[[float], None]:
    """An `on_wait` callback that says on stderr, at once and then every few seconds, that the
    command waits for a database another process (the app writing) holds."""
    from pilotproof.store.errors import waiting_message

    said = [-WAIT_NOTE_EVERY]

    def note(seconds: float) -> None:
        if seconds - said[0] >= WAIT_NOTE_EVERY:
            said[0] = seconds
            print(f"pilotproof: {waiting_message(seconds)}", file=sys.stderr, flush=True)

    return note


def _open_store(args: argparse.Namespace):  # -> Store
    from pilotproof.store import Store

    return Store(args.db, wait=args.wait, on_wait=_waiting_note())


def cmd_ingest(args: argparse.Namespace) -> int:
    from pilotproof.store import WORKBOOK_SUFFIXES, IngestError, ReadOptions
    from pilotproof.store.catalog import normalise_metric
    from pilotproof.store.errors import counted

    files: list[str | Path] = list(args.files)
    if args.pilots:
        files.insert(0, args.pilots)
    if not files:
        print(
            "pilotproof ingest: give at least one file (METRICS.csv or --pilots)", file=sys.stderr
        )
        return 2
    sheets = {}
    if args.sheet:
        sheets = {str(f): args.sheet for f in files if str(f).lower().endswith(WORKBOOK_SUFFIXES)}
    columns = dict(pair.split("=", 1) for pair in args.map or () if "=" in pair)
    if len(columns) != len(args.map or ()):
        print("pilotproof ingest: --map takes 'COLUMN IN FILE=pilotproof column'", file=sys.stderr)
        return 2
    new_metrics = dict(pair.rsplit("=", 1) for pair in args.new_metric or () if "=" in pair)
    if len(new_metrics) != len(args.new_metric or ()):
        print("pilotproof ingest: --new-metric takes 'NAME=lower_is_better'", file=sys.stderr)
        return 2
    unknown = _unknown_mapped_headers(files, columns, sheets)
    if unknown:
        for problem in unknown:
            print(problem, file=sys.stderr)
        return 1
    options = ReadOptions(
        columns=columns,
        pilot_id=args.pilot,
        date_order=args.date_order.replace("-", "_"),
        decimal_mark=args.decimal_mark,
        new_metrics={normalise_metric(k): v.strip() for k, v in new_metrics.items()},
        sheets=sheets,
    )
    with _open_store(args) as store:
        try:
            result = store.ingest(files, user=args.user, mapping=options)
        except IngestError as exc:
            for problem in exc.problems[:MAX_PRINTED]:
                print(problem, file=sys.stderr)
            if exc.total > MAX_PRINTED:
                more = counted(exc.total - MAX_PRINTED, "more problem")
                print(f"... and {more}", file=sys.stderr)
            return 1
    print(result.summary)
    for warning in result.warnings[:MAX_PRINTED]:  # written, but worth a look
        print(warning, file=sys.stderr)
    if result.total_warnings > MAX_PRINTED:
        more = counted(result.total_warnings - MAX_PRINTED, "more warning")
        print(f"... and {more}", file=sys.stderr)
    return 0


def _unknown_mapped_headers(
    files: list[str | Path], columns: dict[str, str], sheets: dict[str, str]
) -> list[Problem]:
    """A problem for each `--map` header that no file holds (a typo would otherwise map
    nothing, silently), with the closest header there is. Files that cannot be read are left
    to the ingest, which names what is wrong with them."""
    from pilotproof.store import WORKBOOK_SUFFIXES, Problem, file_headers
    from pilotproof.store.reading import Source, unknown_mapped_headers

    if not columns:
        return []
    headers: dict[str, list[str]] = {}
    for file in files:
        try:
            with Path(file).open("rb") as handle:
                workbook = str(file).lower().endswith(WORKBOOK_SUFFIXES)
                data = handle.read() if workbook else handle.read(Source.HEAD)
        except OSError:
            return []
        headers[str(file)] = file_headers(str(file), data, sheets.get(str(file)))
    every = [h for found in headers.values() for h in found]
    if not every:
        return []
    shown = str(files[-1])
    problems: list[Problem] = []
    for header, close in unknown_mapped_headers(columns, every):
        held = next((f for f, found in headers.items() if close in found), shown)
        listed = ", ".join(headers.get(held, every)[:12])
        near = f": did you mean '{close}'?" if close else f" (its columns: {listed})"
        problems.append(
            Problem(
                held,
                1,
                header,
                f"--map names the column '{header}', which no file given has{near} "
                "(write the header as the file's first line has it)",
            )
        )
    return problems


def cmd_pilots(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        frame = store.pilots()
    if args.format == "json":
        import json

        records = frame.assign(go_live=frame["go_live"].dt.strftime("%Y-%m-%d"))
        records = records.astype(object).where(records.notna(), None)
        print(json.dumps(records.to_dict(orient="records"), indent=2, allow_nan=False))
    elif args.format == "csv":
        _write_csv(frame)
    elif frame.empty:
        print("No pilots yet: ingest a pilots file (pilot_id, go_live, ...)")
    else:
        table = frame[["pilot_id", "pilot_name", "company", "function", "go_live"]].copy()
        table["go_live"] = table["go_live"].dt.strftime("%Y-%m-%d")
        for column in ("pilot_id", "pilot_name", "company", "function"):
            table[column] = table[column].map(lambda v: shown(v, TABLE_CELL), na_action="ignore")
        print(table.fillna("").to_string(index=False))
    return 0


def _write_csv(frame) -> None:
    """The pilots as CSV through the `csv` module, which quotes a field holding a line break
    (a bare CR too); formula-like text behind an apostrophe; control characters but line
    breaks and tabs shown as visible codes, since this is printed to a terminal."""
    import csv

    text_columns = frame.columns[frame.dtypes.map(lambda t: t.kind not in "fMb")]
    for column in text_columns:
        frame[column] = frame[column].map(lambda v: inert(terminal(str(v))), na_action="ignore")
    frame["go_live"] = frame["go_live"].dt.strftime("%Y-%m-%d")
    cells = frame.astype(object).where(frame.notna(), "")
    writer = csv.writer(sys.stdout)  # RFC 4180: CRLF rows; a field with CR or LF is quoted
    writer.writerow(frame.columns)
    writer.writerows(cells.itertuples(index=False))


def cmd_analyze(args: argparse.Namespace) -> int:
    import json

    from pilotproof.analysis import analyze_store, to_json, to_table

    with _open_store(args) as store:
        wanted = list(dict.fromkeys(args.pilot)) if args.pilot else None
        if wanted is not None:
            known = set(store.pilots()["pilot_id"].astype(str))
            unknown = [p for p in wanted if p not in known]
            if unknown:
                print(f"pilotproof: unknown pilot id: {', '.join(unknown)}", file=sys.stderr)
                return 1
        results = analyze_store(store, wanted)
    if args.format == "json":
        print(json.dumps(to_json(results), indent=2, allow_nan=False))
    else:
        sys.stdout.write(terminal(to_table(results)))
    return 0


class _ProgressBar:
    """`progress(fraction, text)` for a long export, on stderr: a bar redrawn in place on a
    terminal; a line at every tenth otherwise, only when asked for (`--progress`), so a script
    reading stderr sees only problems."""

    WIDTH = 30

    def __init__(self, stream, mode: str = "auto") -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.enabled = mode == "always" or (mode == "auto" and self.tty)
        self.said = -1.0
        self.drawn = 0

    def __call__(self, fraction: float, text: str = "") -> None:
        if not self.enabled:
            return
        fraction = min(max(float(fraction), 0.0), 1.0)
        words = terminal(text).strip()[:60]
        if self.tty:
            filled = round(fraction * self.WIDTH)
            line = f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction:4.0%} {words}"
            self.stream.write(line + " " * max(0, self.drawn - len(line)))
            self.drawn = len(line)
        elif fraction - self.said >= 0.1 or (fraction >= 1.0 > self.said):
            self.said = fraction
            self.stream.write(f"pilotproof report: {fraction:.0%} {words}\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line, so what follows starts on its own."""
        if self.enabled and self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = 0


def cmd_report(args: argparse.Namespace) -> int:
    from pilotproof.analysis import analyze_store
    from pilotproof.export import ExportError, write
    from pilotproof.store.errors import counted

    bar = _ProgressBar(sys.stderr, args.progress)
    with _open_store(args) as store:
        known = list(store.pilots()["pilot_id"].astype(str))
        if not known:
            print("pilotproof: no pilots yet: ingest a pilots file first", file=sys.stderr)
            return 1
        wanted = list(dict.fromkeys(args.pilot)) if args.pilot else None
        pages = _pages(args.pages)
        unknown = [p for p in [*(wanted or ()), *(pages or ())] if p not in known]
        if unknown:
            print(f"pilotproof: unknown pilot id: {', '.join(unknown)}", file=sys.stderr)
            return 1
        outside = [p for p in pages or () if wanted and p not in wanted]
        if outside:
            print(
                f"pilotproof: --pages names pilots outside --pilot: {', '.join(outside)}",
                file=sys.stderr,
            )
            return 1
        bar(0.0, f"Analysing {counted(len(wanted or known), 'pilot')}")
        results = analyze_store(store, wanted)
        problems: list[str] = []
        try:
            path = write(
                args.out, results, store, args.format, wanted,
                progress=bar, problems=problems, pages=pages,
            )  # fmt: skip
        except (ExportError, OSError) as exc:
            bar.close()
            print(f"pilotproof report: {terminal(str(exc))}", file=sys.stderr)
            return 1
        bar.close()
    whole = f"whole portfolio, {counted(len(results), 'pilot')}"
    scope = counted(len(wanted), "pilot") if wanted else whole
    print(f"wrote {path} ({args.format}, {scope}, {path.stat().st_size:,} bytes)")
    # the file is written with a visible note where each missing part would be, but it is
    # not the whole report: say what is missing and exit 1
    for problem in problems:
        print(f"pilotproof report: {terminal(problem)}", file=sys.stderr)
    return 1 if problems else 0


def _pages(given: Sequence[str] | None) -> list[str] | None:
    """`--pages`: None (a page per pilot), [] (`none`: the summary only) or the ids named."""
    if given is None:
        return None
    if [g.lower() for g in given] == ["none"]:
        return []
    return list(dict.fromkeys(given))


def _known_pilot(store, pilot_id: str) -> bool:
    if pilot_id in set(store.pilots()["pilot_id"].astype(str)):
        return True
    print(f"pilotproof: unknown pilot id: {terminal(pilot_id)}", file=sys.stderr)
    return False


def cmd_plan_set(args: argparse.Namespace) -> int:
    from pilotproof.store.plans import PlanInput, default_user, parse_guardrails

    guardrails = None
    if args.guardrail is not None:
        guardrails = parse_guardrails(";".join(args.guardrail))  # StoreError: exit 1
    plan = PlanInput(
        pilot_id=args.pilot,
        value_metric=args.value_metric,
        threshold_pct=args.threshold,
        guardrails=guardrails,
        evaluation_days=args.window,
        decision_owner=args.owner,
    )
    with _open_store(args) as store:
        if not _known_pilot(store, args.pilot):
            return 1
        version = store.set_plan(plan, by=args.by or default_user(), reason=args.reason)
    if version is None:
        print(f"{terminal(args.pilot)}: the plan is unchanged (no new version)")
    else:
        print(f"{terminal(args.pilot)}: plan version {version} saved")
    return 0


def cmd_plan_show(args: argparse.Namespace) -> int:
    import json

    from pilotproof.analysis import analyze_store, to_json

    with _open_store(args) as store:
        if not _known_pilot(store, args.pilot):
            return 1
        (result,) = analyze_store(store, [args.pilot])
    document = to_json([result])["pilots"][0]
    keys = [k for k in document if k.startswith(("plan", "decision_", "forecast"))]
    if args.format == "json":
        print(json.dumps({k: document[k] for k in keys}, indent=2, allow_nan=False))
        return 0
    g = result.governance
    lines = [f"{args.pilot}: {g.status_label}", *g.lines(result.decision)]
    if g.versions:
        lines.append("Versions:")
    for v in g.versions:
        why = f" - reason: {v.reason}" if v.reason else ""
        lines.append(
            f"  v{v.version} set {v.set_at:%Y-%m-%d %H:%M} by {v.set_by}: {g.plan_summary(v)}{why}"
        )
    sys.stdout.write(terminal("\n".join(lines) + "\n"))
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    from pilotproof.analysis import analyze_store
    from pilotproof.store.plans import default_user

    with _open_store(args) as store:
        if not _known_pilot(store, args.pilot):
            return 1
        (result,) = analyze_store(store, [args.pilot])
        store.log_decision(
            args.pilot, args.decision, args.note, args.by or default_user(), result.decision
        )
    agree = "as recommended" if args.decision == result.decision else "pilotproof recommends"
    tail = "" if args.decision == result.decision else f" {result.decision}"
    print(f"{terminal(args.pilot)}: logged '{args.decision}' ({agree}{tail})")
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError("give 0 to 86400 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pilotproof",
        description="Tell real AI-pilot impact from a value mirage.",
    )
    db_help = "database file (default: $PILOTPROOF_DB or data/pilotproof.duckdb)"
    wait_help = (
        "seconds to wait while the app (or another command) is writing to the database "
        f"(default {WAIT_SECONDS:.0f})"
    )
    # --db before the subcommand (`pilotproof --db X ingest`) or after it; the subcommand's
    # default is SUPPRESS so that it does not overwrite a --db given before it
    parser.add_argument("--db", metavar="PATH", default=None, help=db_help)
    parser.add_argument(
        "--wait", metavar="SECONDS", type=_seconds, default=WAIT_SECONDS, help=wait_help
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], text: str):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
        sub.add_argument(
            "--wait", metavar="SECONDS", type=_seconds, default=argparse.SUPPRESS, help=wait_help
        )
        sub.set_defaults(handler=handler)
        return sub

    ingest = add(
        "ingest",
        cmd_ingest,
        "Validate metrics (and pilots) CSV files or workbooks and load them in one transaction.",
    )
    ingest.add_argument(
        "files",
        nargs="*",
        metavar="METRICS.csv",
        help="long or wide metrics files, CSV or .xlsx/.xls/.ods (a pilots file is recognised "
        "here too)",
    )
    ingest.add_argument(
        "--sheet", metavar="NAME", help="the sheet to read from workbooks with several sheets"
    )
    ingest.add_argument(
        "--date-order",
        choices=("auto", "month-first", "day-first"),
        default="auto",
        help="how 06/01/2025 reads (default: as the file decides, by a field above 12)",
    )
    ingest.add_argument(
        "--decimal-mark",
        choices=("auto", "point", "comma"),
        default="auto",
        help="how 40.125 and 1,200 read (point: . is the decimal mark, comma: , is; default: as "
        "each number column decides by a value like 40.85 or 1.234,5, refused where none does)",
    )
    ingest.add_argument(
        "--pilot",
        metavar="ID",
        help="the whole file is this pilot (files without a pilot_id column; refused with one)",
    )
    ingest.add_argument(
        "--map",
        action="append",
        metavar="HEADER=COLUMN",
        help="read the file's column HEADER as COLUMN (e.g. 'Ticket Week=date'), or drop it "
        "('notes=ignore', also written '(ignore)'); its numbers may then be formatted (4.0%%, "
        "$12.19, (0.02)). A HEADER no file holds is refused",
    )
    ingest.add_argument(
        "--new-metric",
        action="append",
        metavar="NAME=DIRECTION",
        help="add a metric the catalog lacks with this upload (DIRECTION: lower_is_better or "
        "higher_is_better)",
    )
    ingest.add_argument(
        "--pilots", metavar="PILOTS.csv", help="pilots file (pilot_id, go_live, ...)"
    )
    ingest.add_argument("--user", metavar="NAME", help="who uploads, for the audit trail")

    pilots = add("pilots", cmd_pilots, "List the pilots in the database.")
    pilots.add_argument("--format", choices=("table", "json", "csv"), default="table")

    analyze = add("analyze", cmd_analyze, "Estimate each pilot's effect and decision.")
    analyze.add_argument(
        "--pilot", action="extend", nargs="+", metavar="ID", help="only these pilots"
    )
    analyze.add_argument("--format", choices=("json", "table"), default="table")

    report = add("report", cmd_report, "Export a proof-of-value summary.")
    report.add_argument(
        "--pilot", action="extend", nargs="+", metavar="ID", help="only these pilots"
    )
    report.add_argument("--format", choices=("pptx", "pdf", "xlsx", "html"), required=True)
    report.add_argument("--out", metavar="FILE", required=True, help="where to write the report")
    report.add_argument(
        "--pages",
        nargs="+",
        metavar="ID",
        help="a board pack: the summary of every pilot, then pages (PDF) or slides (PPTX) only "
        "for these pilots ('none': the summary only); default: every pilot's",
    )
    report.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="a progress bar on stderr (auto: when stderr is a terminal)",
    )

    by_help = "who does this, for the audit trail (default: the OS user)"
    plan = commands.add_parser(
        "plan", help="Set or show a pilot's success plan.", description="Success plans."
    )
    plan_commands = plan.add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    plan_set = plan_commands.add_parser(
        "set",
        help="Save a new version of a pilot's success plan (options left out keep their value).",
    )
    plan_set.add_argument("pilot", metavar="PILOT_ID")
    plan_set.add_argument("--value-metric", metavar="METRIC", help="the value metric to prove")
    plan_set.add_argument(
        "--threshold",
        type=float,
        metavar="PCT",
        help="the improvement that justifies scaling, in percent of what the metric would "
        "have been, in its own direction",
    )
    plan_set.add_argument(
        "--guardrail",
        action="append",
        metavar="METRIC:PCT",
        help="a guardrail metric and the deterioration it may show (repeat for several)",
    )
    plan_set.add_argument(
        "--window", type=int, metavar="DAYS", help="evaluation window: decision due this many "
        "days after go-live"
    )  # fmt: skip
    plan_set.add_argument("--owner", metavar="NAME", help="the decision owner who signs it")
    plan_set.add_argument(
        "--reason", metavar="TEXT", help="why it changes (required once the plan is locked)"
    )
    plan_set.add_argument("--by", metavar="NAME", help=by_help)
    plan_set.set_defaults(handler=cmd_plan_set)
    plan_show = plan_commands.add_parser("show", help="Show a pilot's plan, versions and log.")
    plan_show.add_argument("pilot", metavar="PILOT_ID")
    plan_show.add_argument("--format", choices=("table", "json"), default="table")
    plan_show.set_defaults(handler=cmd_plan_show)
    for sub in (plan_set, plan_show):
        sub.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
        sub.add_argument(
            "--wait", metavar="SECONDS", type=_seconds, default=argparse.SUPPRESS, help=wait_help
        )

    decide = add("decide", cmd_decide, "Log the decision actually taken for a pilot.")
    decide.add_argument("pilot", metavar="PILOT_ID")
    decide.add_argument("decision", choices=("scale", "fix", "extend", "stop"))
    decide.add_argument("--note", metavar="TEXT", help="why, in a sentence")
    decide.add_argument("--by", metavar="NAME", help=by_help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pilotproof.store import DatabaseBusyError, StoreError

    try:
        return args.handler(args)
    except DatabaseBusyError as exc:
        print(f"pilotproof: {exc} (or wait longer: --wait SECONDS)", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"pilotproof: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
