"""The ``nablab`` command: list the labs, show one's parameters, run one, or run them all
into an HTML report.

    nablab labs
    nablab show LAB [--json]
    nablab run LAB [--set NAME=VALUE ...] [--quick] [--seed N] [--iterations N] [--out DIR]
                   [--check] [--no-progress]
    nablab sweep LAB --grid NAME=V1,V2,... [--grid ...] [--seeds 0-9] [--set NAME=VALUE ...]
                     [--metric NAME ...] [--workers N] [--backend local|ray] [--address ADDR]
                     [--batch-seeds] [--quick] [--out DIR] [--no-progress]
    nablab report [--quick] [--seed N] [--iterations N] [--out DIR] [--labs a,b] [--workers N]
                  [--sweep DIR ...] [--title T] [--no-progress]
    nablab report --from DIR [--title T] [--out DIR]
    nablab notebook LAB [--out FILE] [--quick] [--set NAME=VALUE ...]
    nablab playground [--host 127.0.0.1] [--port 8765] [--no-browser] [--max-sessions N]
                      [--max-layers N] [--max-neurons N] [--max-points N]

``run`` prints the lab's setting, tables, claims (✔/✘), answer and notes and writes
results.json and the PNGs into DIR (default runs/LAB, runs/LAB-quick with --quick).
``sweep`` runs the lab at every grid point for every seed (see nablab/sweep/) into DIR
(default runs/sweeps/LAB) and writes sweep.json, sweep.png and sweep.html there.
``report`` runs each lab into DIR/LAB and writes DIR/report.html, a handout in the course's
order (default DIR: runs/report); ``report --from DIR`` rebuilds it from the results there
without running anything. ``notebook`` writes a runnable Jupyter notebook of a lab
(default LAB.ipynb).
``playground`` serves the live playground page (nablab/playground/; needs nablab[playground]).
Exit codes: 0 success (a claim that fails is a finding, not an error), 1 a lab failed, with
--check a claim failed, a package the command needs is missing, or another run holds the output
folder, 2 bad input, 130 Ctrl-C.

``labs`` and ``show`` need NumPy only; ``run``, ``sweep``, ``report`` and ``notebook`` need the
``lab`` extra (``sweep --backend ray`` also ``cluster``, ``playground`` its own) and say which
package is missing, in one line, before they start. A run holds its output folder (a lock, see
labs/runner.py ``hold``) until it ends.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import os
import sys
from pathlib import Path

from . import report
from .labs import LABS, Lab, ParameterError, default_out, get_lab
from .labs.base import LabResult, format_seconds
from .labs.declaration import UnknownLabError
from .labs.params import format_value, parse_assignment, unknown_message
from .labs.runner import hold, render_partial
from .sweep.tasks import SweepError

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

# What running a lab imports: {module: (distribution, the extra of pyproject.toml that has it)}
LAB_NEEDS = {
    "matplotlib": ("matplotlib", "lab"),
    "rich": ("rich", "lab"),
    "sklearn": ("scikit-learn", "lab"),
    "threadpoolctl": ("threadpoolctl", "lab"),
}
RAY_NEEDS = {"ray": ("ray", "cluster")}
NOTEBOOK_NEEDS = {"nbformat": ("nbformat", "lab")}
PLAYGROUND_NEEDS = {
    "starlette": ("starlette", "playground"),
    "uvicorn": ("uvicorn", "playground"),
    "websockets": ("websockets", "playground"),  # uvicorn's websocket protocol
}


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


class MissingPackageError(Exception):
    """A package the command needs is not installed: printed as one line, exit code 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and an exception, not sys.exit."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nablab`` console script; returns the exit code."""
    try:
        args = _build_parser().parse_args(argv)
        _check_needs(args)
        with _one_blas_thread(args.needs):
            return args.command(args)
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    except UsageError as e:
        print(e, file=sys.stderr)
        return EXIT_USAGE
    except MissingPackageError as e:
        print(e, file=sys.stderr)
        return EXIT_FAILED
    except (UnknownLabError, ParameterError, SweepError) as e:
        print(f"nablab: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `nablab labs | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as e:
        print(f"nablab: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        message = "nablab: interrupted; no results file was written for the unfinished lab"
        print(f"\n{message}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _check_needs(args) -> None:
    """MissingPackageError naming the packages the command imports that are not installed,
    before anything runs."""
    needs = dict(args.needs)
    if getattr(args, "backend", None) == "ray":
        needs.update(RAY_NEEDS)
    missing = {
        dist: extra
        for module, (dist, extra) in needs.items()
        if importlib.util.find_spec(module) is None
    }
    if missing:
        extras = ",".join(sorted(set(missing.values())))
        raise MissingPackageError(
            f"{args.prog} needs {', '.join(missing)}: pip install 'nablab[{extras}]'"
        )


def _one_blas_thread(needs: dict):
    """The labs multiply small matrices: one BLAS thread is faster than two, and far
    faster when the other core is busy."""
    if "threadpoolctl" not in needs:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _build_parser() -> _Parser:
    parser = _Parser(prog="nablab", description="nablab (∇lab): reproducible deep-learning labs.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_Parser)

    labs = commands.add_parser("labs", help="list the labs")
    labs.set_defaults(command=_cmd_labs, needs={}, prog=labs.prog)

    show = commands.add_parser("show", help="a lab's parameters: defaults, ranges, help")
    show.add_argument("lab", metavar="LAB", help="a lab name (see `nablab labs`)")
    show.add_argument("--json", action="store_true", help="print the declaration as JSON")
    show.set_defaults(command=_cmd_show, needs={}, prog=show.prog)

    run = commands.add_parser("run", help="run one lab")
    run.add_argument("lab", metavar="LAB", help="a lab name (see `nablab labs`)")
    _add_set_option(run, "change a parameter")
    run.add_argument("--check", action="store_true", help="exit 1 when a claim does not hold")
    _add_run_options(run, default_out="runs/LAB or runs/LAB-quick")
    run.set_defaults(command=_cmd_run, needs=LAB_NEEDS, prog=run.prog)

    sweep = commands.add_parser("sweep", help="run a lab over a grid of parameters and seeds")
    sweep.add_argument("lab", metavar="LAB", help="a lab name (see `nablab labs`)")
    sweep.add_argument(
        "--grid",
        metavar="NAME=V1,V2,...",
        action="append",
        default=[],
        help="a parameter and its values (repeatable: the grid is their product)",
    )
    sweep.add_argument("--seeds", default="0", help="seeds: N, A-B or N1,N2,... (default 0)")
    _add_set_option(sweep, "a parameter fixed for every task")
    sweep.add_argument(
        "--metric",
        dest="metrics",
        action="append",
        default=None,
        help="a declared metric or a path into the metrics (default: the first)",
    )
    sweep.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="parallel tasks (default: the machine's cores)",
    )
    sweep.add_argument("--backend", choices=("local", "ray"), default="local")
    sweep.add_argument("--address", default=None, help="a Ray cluster (HOST:PORT or auto)")
    sweep.add_argument(
        "--batch-seeds",
        action="store_true",
        help="run all seeds of a grid point as one task (the lab's batched trainer)",
    )
    sweep.add_argument("--quick", action="store_true", help="the labs' fast variant")
    sweep.add_argument("--out", type=Path, default=None, help="sweep folder (runs/sweeps/LAB)")
    sweep.add_argument("--no-progress", dest="progress", action="store_false")
    sweep.set_defaults(command=_cmd_sweep, needs=LAB_NEEDS, prog=sweep.prog)

    rep = commands.add_parser("report", help="run every lab and write one HTML report")
    rep.add_argument("--labs", type=_lab_list, default=None, help="comma-separated lab names")
    rep.add_argument(
        "--sweep",
        dest="sweeps",
        type=Path,
        action="append",
        default=[],
        help="a sweep folder to include (repeatable)",
    )
    _add_report_options(rep)
    _add_run_options(rep, default_out="runs/report")
    rep.set_defaults(command=_cmd_report, needs=LAB_NEEDS, prog=rep.prog)

    _add_notebook_command(commands)
    _add_playground(commands)
    return parser


def _add_report_options(rep) -> None:
    rep.add_argument("--title", default="nablab report", help="the report's title")
    rep.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="labs run at once on spawned processes (default 1: one after the other, here)",
    )
    rep.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        metavar="DIR",
        help="rebuild the report from the results in DIR (a report's folder) without running",
    )


def _add_set_option(parser, what: str) -> None:
    parser.add_argument(
        "--set",
        dest="assignments",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help=f"{what} (repeatable; see `nablab show LAB`); a list as [2,3] or 2,3",
    )


def _add_notebook_command(commands) -> None:
    nb = commands.add_parser("notebook", help="write a runnable Jupyter notebook of a lab")
    nb.add_argument("lab", metavar="LAB", help="a lab name (see `nablab labs`)")
    nb.add_argument("--out", type=Path, default=None, help="the .ipynb file (default LAB.ipynb)")
    nb.add_argument("--quick", action="store_true", help="start from the quick parameters")
    _add_set_option(nb, "start from this parameter value")
    nb.set_defaults(command=_cmd_notebook, needs=NOTEBOOK_NEEDS, prog=nb.prog)


def _cmd_notebook(args) -> int:
    from .notebook import write_notebook

    lab = get_lab(args.lab)
    path = write_notebook(lab, args.out, quick=args.quick, **_overrides(lab, args.assignments))
    print(f"notebook: {path}\nopen it with: jupyter lab {path}")
    return 0


_REPORT_BUSY = "another report is writing to '{out}'; wait for it or choose another --out"


def _cmd_report_from(args) -> int:
    title, runs, sweeps = report.load_report(args.source)
    title = title if args.title == "nablab report" else args.title
    out = report.prepare_out(args.out or args.source)
    with hold(out, _REPORT_BUSY.format(out=out)):
        print(f"report: {report.write_report(runs, out, title, sweeps)}")
    return EXIT_FAILED if any(run.error for run in runs) else 0


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
        lab = LABS[name]
        timing = lab.timing()
        times = ", ".join(
            f"{variant} ~{format_seconds(timing[variant])}" if variant in timing
            else f"{variant} time not measured"
            for variant in ("full", "quick")
        )  # fmt: skip
        print(f"{name:<{width}}  {lab.summary}")
        print(f"{'':<{width}}  {times}; parameters: {', '.join(p.name for p in lab.params)}")
    if not LABS:
        print("no labs are registered")
    return 0


def _cmd_show(args) -> int:
    lab = get_lab(args.lab)
    described = [p.describe() for p in lab.params]
    if args.json:
        declaration = {
            "lab": lab.name,
            "summary": lab.summary,
            "source": lab.source,
            "question": lab.question,
            "length": lab.length,
            "parameters": described,
            "published": [dataclasses.asdict(q) for q in lab.published],
            "metrics": [{"name": m.name, "help": m.help} for m in lab.metrics],
            "timing_seconds": lab.timing(),
        }
        print(json.dumps(declaration, indent=2, ensure_ascii=False))
        return 0
    print(f"{lab.name} — {lab.summary} ({lab.source})\n{lab.question}\n")
    if not described:
        print("This lab has no parameters.")
    for d in described:
        quick = f" (quick: {format_value(d['quick'])})" if d["quick"] != d["default"] else ""
        unit = f" {d['unit']}" if d["unit"] else ""
        length = " [--iterations sets it]" if d["name"] == lab.length else ""
        print(f"  {d['name']} = {format_value(d['default'])}{unit}{quick}{length}")
        print(f"      {d['help']}; {d['expects']}")
    if lab.metrics:
        print("\nMetrics (nablab sweep --metric NAME):")
        for m in lab.metrics:
            print(f"  {m.name}: {m.help}")
    print(f"\nChange one: nablab run {lab.name} --set NAME=VALUE")
    return 0


def _overrides(lab: Lab, assignments: list[str]) -> dict:
    """The --set assignments parsed with the lab's parameter declarations."""
    by_name = {p.name: p for p in lab.params}
    values = {}
    for text in assignments:
        name, value = parse_assignment(text)
        if name not in by_name:
            raise ParameterError(unknown_message(name, list(by_name)))
        values[name] = by_name[name].parse(value)
    return values


def _cmd_run(args) -> int:
    lab = get_lab(args.lab)
    overrides = _overrides(lab, args.assignments)
    run = report.run_lab(
        lab,
        quick=args.quick,
        seed=args.seed,
        out=args.out or default_out(lab.name, args.quick),
        progress=args.progress,
        iterations=args.iterations,
        **overrides,
    )
    _print_run(run.lab, run.result)
    print(f"\nresults: {run.out / report.RESULTS_FILE}")
    failed = run.result.failed_claims
    if args.check and failed:
        print(f"nablab: {len(failed)} claim(s) did not hold", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _cmd_sweep(args) -> int:
    from . import sweep

    lab = get_lab(args.lab)
    grid = sweep.parse_grid(lab, args.grid)
    fixed = sweep.parse_fixed(lab, args.assignments, grid)
    seeds = sweep.parse_seeds(args.seeds)
    if args.backend == "ray" and args.address is not None:
        sweep.check_reachable(args.address)
    result = sweep.sweep(
        lab.name, grid, seeds, fixed, quick=args.quick, metrics=args.metrics,
        workers=args.workers, backend=args.backend, address=args.address,
        out=args.out or sweep.default_out(lab.name, args.quick), batch_seeds=args.batch_seeds,
        progress=args.progress,
    )  # fmt: skip
    _print_table(result.table)
    for i, claim in enumerate(lab.claims):
        print(f"claim {i + 1}: {render_partial(claim.text, fixed)}")
    print(f"\n{result.computed} task(s) run, {result.reused} reused from earlier runs")
    for failure in result.failed:
        print(
            f"FAILED {failure['point']} seed {failure['seed']}: {failure['error']}", file=sys.stderr
        )
    for kind, path in result.files.items():
        print(f"{kind}: {path}")
    return EXIT_FAILED if result.failed else 0


def _console():
    from rich.console import Console

    console = Console()  # a pipe or a file: wide enough for the tables, not 80 columns
    return console if console.is_terminal else Console(width=140)


def _rich_table(t):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(t.title), title_justify="left")
    for i, column in enumerate(t.columns):
        table.add_column(escape(column), justify="left" if i == 0 else "right")
    for row in t.rows:
        table.add_row(*(escape(report.format_cell(v)) for v in row))
    return table


def _print_table(t) -> None:
    _console().print(_rich_table(t))


def _cmd_report(args) -> int:
    from . import sweep

    if args.source is not None:
        return _cmd_report_from(args)
    sweeps = [(sweep.load(folder), folder) for folder in args.sweeps]
    labs = [get_lab(name) for name in args.labs or sorted(LABS)]
    out = report.prepare_out(args.out or Path("runs/report"))
    with hold(out, _REPORT_BUSY.format(out=out)):
        runs = report.run_labs(
            labs, out, args.workers, progress=args.progress, quick=args.quick, seed=args.seed,
            iterations=args.iterations,
        )  # fmt: skip
        page = report.write_report(runs, out, args.title, sweeps)
    for run in runs:
        status = "FAILED" if run.error else "ok"
        print(f"{run.lab.name:<24} {status:<6} {run.seconds:8.1f} s")
    print(f"\nreport: {page}")
    failed = [run for run in runs if run.error]
    for run in failed:
        print(f"\n{run.lab.name} failed:\n{run.error}", file=sys.stderr)
    return EXIT_FAILED if failed else 0


def _print_run(lab: Lab, r: LabResult) -> None:
    from rich.markup import escape

    console = _console()
    console.print(f"[bold]{escape(lab.name)}[/bold] — {escape(lab.summary)} ({escape(lab.source)})")
    changed = {k: v for k, v in r.params.items() if r.defaults.get(k) != v}
    if changed:
        text = ", ".join(f"{k} = {format_value(v)}" for k, v in changed.items())
        console.print(f"[bold]Changed from the defaults:[/bold] {escape(text)}")
    console.print(f"\n[bold]Question.[/bold] {escape(r.question)}")
    console.print(f"[bold]Setting.[/bold] {escape(r.setting)}\n")
    for t in r.tables:
        console.print(_rich_table(t))
    if r.claims:
        console.print("\n[bold]Claims.[/bold]")
        for claim in r.claims:
            style = {True: "green", False: "red", None: "dim"}[claim["holds"]]
            console.print(f"[{style}]{escape(report.claim_line(claim))}[/{style}]")
    console.print(f"\n[bold]Answer.[/bold] {escape(r.answer)}")
    for note in r.notes:
        console.print(f"[bold]Note.[/bold] {escape(note)}")
    for figure in r.figures:
        console.print(f"figure: {escape(str(figure))}")
    console.print(f"({r.seconds:.1f} s)")


# ----- nablab playground ------------------------------------------------------------------------
def _add_playground(commands) -> None:
    play = commands.add_parser("playground", help="the live playground page in the browser")
    play.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    play.add_argument("--port", type=_positive, default=8765, help="port (default 8765)")
    play.add_argument("--no-browser", dest="browser", action="store_false", help="do not open it")
    for name, default in (("sessions", 8), ("layers", 6), ("neurons", 8), ("points", 1000)):
        play.add_argument(
            f"--max-{name}", type=_positive, default=default, help=f"limit ({default})"
        )
    play.set_defaults(command=_cmd_playground, needs=PLAYGROUND_NEEDS, prog=play.prog)


def _cmd_playground(args) -> int:
    from .playground.server import serve
    from .playground.spec import Limits, Spec, SpecError

    limits = Limits(max_sessions=args.max_sessions, max_layers=args.max_layers,
                    max_neurons=args.max_neurons, max_points=args.max_points)  # fmt: skip
    try:
        Spec().validate(limits)
    except SpecError as e:
        print(f"nablab playground: error: the limits refuse the default state: {e}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        serve(args.host, args.port, args.browser, limits)
    except KeyboardInterrupt:
        pass
    return 0
