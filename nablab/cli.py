"""The ``nablab`` command: list the labs, run one, or run them all into an HTML report.

    nablab labs
    nablab run LAB [--quick] [--seed N] [--out DIR] [--no-progress]
    nablab report [--quick] [--seed N] [--out DIR] [--labs a,b] [--no-progress]

``run`` prints the lab's tables, answer and notes and writes results.json and the PNGs into
DIR (default runs/LAB). ``report`` runs each lab into DIR/LAB and writes DIR/report.html
(default DIR: runs/report). Exit codes: 0 success, 1 a lab failed, 2 bad input, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from . import report
from .labs import LABS, LabConfig, get_lab, track
from .labs.base import UnknownLabError

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and an exception, not sys.exit."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nablab`` console script; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        with _one_blas_thread():
            return args.command(args)
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    except UsageError as e:
        print(e, file=sys.stderr)
        return EXIT_USAGE
    except UnknownLabError as e:
        print(f"nablab: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"nablab: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        message = "nablab: interrupted; no results file was written for the unfinished lab"
        print(f"\n{message}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _one_blas_thread():
    """The labs multiply small matrices: one BLAS thread is faster than two, and far
    faster when the other core is busy."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _build_parser() -> _Parser:
    parser = _Parser(prog="nablab", description="nablab (∇lab): reproducible deep-learning labs.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_Parser)

    labs = commands.add_parser("labs", help="list the labs")
    labs.set_defaults(command=_cmd_labs)

    run = commands.add_parser("run", help="run one lab")
    run.add_argument("lab", metavar="LAB", help="a lab name (see `nablab labs`)")
    _add_run_options(run, default_out="runs/LAB")
    run.set_defaults(command=_cmd_run)

    rep = commands.add_parser("report", help="run every lab and write one HTML report")
    rep.add_argument("--labs", type=_lab_list, default=None, help="comma-separated lab names")
    _add_run_options(rep, default_out="runs/report")
    rep.set_defaults(command=_cmd_report)
    return parser


def _add_run_options(parser, default_out: str) -> None:
    parser.add_argument("--quick", action="store_true", help="the fast variant (fewer steps)")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--iterations",
        type=_positive,
        default=None,
        help="override the lab's main training length (epochs or steps)",
    )
    parser.add_argument("--out", type=Path, default=None, help=f"output folder ({default_out})")
    parser.add_argument("--no-progress", dest="progress", action="store_false")


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return seed


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _lab_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated lab names, got none")
    return names


def _cmd_labs(args) -> int:
    width = max((len(name) for name in LABS), default=0)
    for name in sorted(LABS):
        print(f"{name:<{width}}  {LABS[name].summary}")
    if not LABS:
        print("no labs are registered")
    return 0


def _cmd_run(args) -> int:
    lab = get_lab(args.lab)
    config = _config(args, args.out or Path("runs") / lab.name)
    run = report.run_lab(lab, config)
    _print_run(run)
    print(f"\nresults: {config.out / report.RESULTS_FILE}")
    return 0


def _cmd_report(args) -> int:
    labs = [get_lab(name) for name in args.labs or sorted(LABS)]
    out = report.prepare_out(args.out or Path("runs/report"))
    base = _config(args, out)
    runs = []
    for lab in track(labs, total=len(labs), description="labs", config=base):
        config = dataclasses.replace(base, out=out / lab.name)
        runs.append(report.run_lab(lab, config, catch=True))
    page = report.write_atomic(out / "report.html", report.render_html(runs))
    for run in runs:
        status = "FAILED" if run.error else "ok"
        print(f"{run.lab.name:<24} {status:<6} {run.seconds:8.1f} s")
    print(f"\nreport: {page}")
    failed = [run for run in runs if run.error]
    for run in failed:
        print(f"\n{run.lab.name} failed:\n{run.error}", file=sys.stderr)
    return EXIT_FAILED if failed else 0


def _config(args, out: Path) -> LabConfig:
    return LabConfig(
        seed=args.seed,
        quick=args.quick,
        out=Path(out),
        progress=args.progress,
        iterations=args.iterations,
    )


def _print_run(run: report.LabRun) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console, lab, r = Console(), run.lab, run.result
    if not console.is_terminal:  # a pipe or a file: wide enough for the tables, not 80 columns
        console = Console(width=140)
    console.print(f"[bold]{escape(lab.name)}[/bold] — {escape(lab.summary)} ({escape(lab.source)})")
    console.print(f"\n[bold]Question.[/bold] {escape(r.question)}")
    console.print(f"[bold]Setting.[/bold] {escape(r.setting)}\n")
    for t in r.tables:
        table = Table(title=escape(t.title), title_justify="left")
        for i, column in enumerate(t.columns):
            table.add_column(escape(column), justify="left" if i == 0 else "right")
        for row in t.rows:
            table.add_row(*(escape(report.format_cell(v)) for v in row))
        console.print(table)
    console.print(f"\n[bold]Answer.[/bold] {escape(r.answer)}")
    for note in r.notes:
        console.print(f"[bold]Note.[/bold] {escape(note)}")
    for figure in r.figures:
        console.print(f"figure: {escape(str(figure))}")
    console.print(f"({run.seconds:.1f} s)")
