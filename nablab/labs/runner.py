"""The one runner of every lab: parameters, seeding, lengths, progress, published columns,
claims, results.json and the rendered text.

Seeding (one convention for every lab): ``nablab.manual_seed(seed)`` is called before the
experiment, ``ctx.rng`` is ``np.random.default_rng(seed)``, and a lab that repeats over seeds
runs the seeds ``ctx.seeds(n) = seed, seed + 1, ..., seed + n − 1``; run ``s`` draws its data
and its model from the two streams ``ctx.streams(s)`` (SeedSequence(s), so the data never
shares numbers with the init). The same call gives the same results, to the last bit.
"""

from __future__ import annotations

import fcntl
import json
import string
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .base import LabResult, Table, track, write_atomic
from .declaration import Claim, Lab, Outcome, get_lab
from .params import ParameterError, Params, resolve

RESULTS_FILE = "results.json"


@dataclass
class Context:
    """What an experiment gets besides its parameters: seed, quick, output folder, progress."""

    seed: int
    quick: bool
    out: Path
    progress: bool = True
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def seeds(self, n: int) -> list[int]:
        """The seeds of a lab that repeats itself ``n`` times: seed, seed + 1, ..."""
        return [self.seed + k for k in range(n)]

    @staticmethod
    def streams(seed: int) -> tuple[int, int]:
        """Two independent seeds from SeedSequence(seed): the data set's and the model's, so
        run ``seed``'s data and its initial weights never come from the same numbers.

        >>> data_seed, model_seed = Context.streams(0)
        >>> data_seed != model_seed, Context.streams(0) == (data_seed, model_seed)
        (True, True)
        """
        data_seed, model_seed = np.random.SeedSequence(seed).generate_state(2)
        return int(data_seed), int(model_seed)

    def track(self, iterable: Iterable, total: int, description: str) -> Iterator:
        """``iterable`` with a progress bar on stderr when progress is on."""
        return track(iterable, total, description, self.progress)


def default_out(name: str, quick: bool) -> Path:
    """runs/LAB for a full run, runs/LAB-quick for a quick one (never the full run's folder)."""
    return Path("runs") / (f"{name}-quick" if quick else name)


def run(
    name: str | Lab,
    quick: bool = False,
    seed: int = 0,
    out: str | Path | None = None,
    progress: bool = False,
    iterations: int | None = None,
    **parameters: Any,
) -> LabResult:
    """Run a lab with its defaults, overridden by ``parameters``; write its figures and
    results.json into ``out`` (default runs/LAB, runs/LAB-quick for ``quick``).

    ``iterations`` sets the lab's main length (its ``length`` parameter). Bad names or values
    raise ParameterError with a one-line message; claims that fail are reported in the result,
    not raised.

        nablab.labs.run("xor-relu", hidden=[2, 20], lr=0.5)
    """
    lab = name if isinstance(name, Lab) else get_lab(name)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed expects a non-negative integer, got {seed!r}")
    if iterations is not None:
        parameters = _with_iterations(lab, parameters, iterations)
    p = resolve(lab.params, quick, parameters)
    if lab.needs is not None:
        lab.needs()
    out = prepare_out(out if out is not None else default_out(lab.name, quick))
    with hold(out, f"another run is writing to '{out}'; wait for it or choose another folder"):
        (out / RESULTS_FILE).unlink(missing_ok=True)  # never pair new figures with old numbers

        from .. import manual_seed

        manual_seed(int(seed))
        ctx = Context(seed=int(seed), quick=quick, out=out, progress=progress)
        start = time.perf_counter()
        outcome = lab.experiment(p, ctx)
        seconds = time.perf_counter() - start
        result = _result(lab, p, ctx, outcome, seconds)
        write_atomic(out / RESULTS_FILE, json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _with_iterations(lab: Lab, parameters: dict, iterations: int) -> dict:
    if lab.length is None:
        raise ParameterError(f"lab {lab.name!r} has no training length to set with iterations")
    if lab.length in parameters:
        raise ParameterError(f"give iterations or {lab.length}, not both")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ParameterError(f"iterations expects a positive integer, got {iterations!r}")
    return {**parameters, lab.length: iterations}


def _result(lab: Lab, p: Params, ctx: Context, outcome: Outcome, seconds: float) -> LabResult:
    metrics = dict(outcome.metrics)
    fields = {**metrics, **p}
    defaults = {q.name: q.value(ctx.quick) for q in lab.params}
    changed = [name for name in p if p[name] != defaults[name]]
    notes = list(outcome.notes)
    if changed and lab.published:
        notes.append(
            f"Changed from the lab's defaults: {', '.join(changed)}; the published figures "
            "beside ours are for the source's own setting."
        )
    return LabResult(
        lab=lab.name,
        summary=lab.summary,
        source=lab.source,
        question=lab.question,
        setting=render(lab.setting, fields, metrics, p),
        tables=with_published(lab, outcome.tables),
        figures=[Path(f) for f in outcome.figures],
        answer=render(lab.answer, fields, metrics, p),
        metrics=metrics,
        notes=notes,
        claims=[evaluate(claim, fields, metrics, p) for claim in lab.claims],
        measures={m.name: _measure(m.value(metrics, p)) for m in lab.metrics},
        params=dict(p),
        defaults=defaults,
        published=[
            {"value": q.value, "source": q.source, "column": q.column, "row": q.row}
            for q in lab.published
        ],
        seed=ctx.seed,
        quick=ctx.quick,
        out=ctx.out,
        seconds=seconds,
        version=nablab_version(),
        commit=_commit(),
    )


def _measure(value):
    """A declared metric's value as plain floats (a list stays a list; None stays None)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return [float(v) for v in np.asarray(value, dtype=float).reshape(-1)]
    return float(value)


class _Formatter(string.Formatter):
    """str.format, but a list prints as its items joined by ', ' (each with the format spec)."""

    def format_field(self, value, format_spec):
        if isinstance(value, (list, tuple)):
            return ", ".join(format(v, format_spec) for v in value)
        return format(value, format_spec)


class _Partial(_Formatter):
    """A template with the fields it has filled in and every other field shown as ‹name›."""

    def get_field(self, field_name, args, kwargs):
        try:
            return super().get_field(field_name, args, kwargs)
        except (KeyError, IndexError, TypeError, AttributeError):
            return _Unknown(field_name), field_name

    def format_field(self, value, format_spec):
        if isinstance(value, _Unknown):
            return f"‹{value}›"
        return super().format_field(value, format_spec)


class _Unknown(str):
    pass


def render_partial(text, fields: Mapping) -> str:
    """A declared text with the known ``fields`` filled in and the rest as ‹name› (for texts
    that describe many runs: a sweep's claims, the labs' catalogue); a function-text gives
    '(a sentence computed from the results)'."""
    if callable(text):
        return "(a sentence computed from the results)"
    return _Partial().vformat(text, (), fields)


def render(text, fields: Mapping, metrics: dict, p: Params) -> str:
    """A declared text: a template filled from the parameters and metrics, or a function."""
    if callable(text):
        return text(metrics, p)
    try:
        return _Formatter().vformat(text, (), fields)
    except KeyError as e:
        raise KeyError(f"{text!r} names {e}, which is neither a parameter nor a metric") from None


def evaluate(claim: Claim, fields: Mapping, metrics: dict, p: Params) -> dict:
    """{'text', 'holds': True/False/None (does not apply), 'numbers'} for one claim."""
    verdict = claim.check(metrics, p)
    numbers = {}
    if isinstance(verdict, tuple):
        verdict, numbers = verdict
    holds = None if verdict is None else bool(verdict)
    return {"text": render(claim.text, fields, metrics, p), "holds": holds, "numbers": numbers}


def with_published(lab: Lab, tables: list[Table]) -> list[Table]:
    """The tables with each declared published figure in its column, after the first one."""
    by_table: dict[Any, dict[str, dict]] = {}
    for q in lab.published:
        key = q.table if q.table is not None else (tables[0].name if tables else None)
        by_table.setdefault(key, {}).setdefault(q.column, {})[q.row] = q.value
    result = []
    for table in tables:
        columns = by_table.get(table.name, {})
        result.append(table.with_columns(columns) if columns else table)
    return result


def prepare_out(out) -> Path:
    """Create the folder ``out`` and check it is writable; OSError with a clear message if not."""
    import tempfile

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output folder '{out}' is a file; give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise OSError(f"cannot write to output folder '{out}': {e.strerror or e}") from None
    return out


class FolderBusyError(OSError):
    """Another process holds the folder (see ``hold``)."""


@contextmanager
def hold(out: Path, busy: str) -> Iterator[Path]:
    """Hold the folder ``out`` for this process: an exclusive lock on ``out/.lock`` (flock,
    released when the process ends, however it ends); FolderBusyError(``busy``) at once if
    another process holds it. Two runs into one folder cannot mix their files."""
    with open(out / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusyError(busy) from None
        yield out


def nablab_version() -> str:
    """The installed nablab's version ('unknown' when it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nablab")
    except PackageNotFoundError:
        return "unknown"


_COMMIT: list = []


def _commit() -> str | None:
    """The git commit of the nablab checkout, where it is one (None otherwise)."""
    if not _COMMIT:
        try:
            done = subprocess.run(
                ["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
            )
            _COMMIT.append(done.stdout.strip() if done.returncode == 0 else None)
        except (OSError, subprocess.SubprocessError):
            _COMMIT.append(None)
    return _COMMIT[0]
