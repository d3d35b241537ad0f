"""Run labs for a report: ``run_lab`` runs one lab through the runner (labs/runner.py, which
writes its results.json) and, with ``catch``, records a lab that raised instead of stopping;
``run_labs`` runs several, one after the other or on worker processes."""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..labs.base import LabResult, track
from ..labs.declaration import LABS, get_lab
from ..labs.runner import RESULTS_FILE, run


@dataclass(frozen=True)
class LabInfo:
    """What the report shows of a lab it did not run itself: its name, summary and source."""

    name: str
    summary: str
    source: str


@dataclass
class LabRun:
    """One lab run: its result, or the error text of the exception it raised. ``lab`` is the
    Lab, or a LabInfo when the run is read back from a folder."""

    lab: object
    result: LabResult | None
    seconds: float
    error: str | None = None
    seed: int = 0
    quick: bool = False
    out: Path = Path("runs")


def run_lab(lab, catch: bool = False, **options) -> LabRun:
    """Run ``lab`` with the runner's ``options`` (quick, seed, out, progress, parameters).

    With ``catch`` an exception inside the lab is recorded instead of raised
    (KeyboardInterrupt always propagates)."""
    start = time.perf_counter()
    seed, quick, out = options.get("seed", 0), options.get("quick", False), options.get("out")
    try:
        result = run(lab, **options)
    except Exception:
        if not catch:
            raise
        seconds = time.perf_counter() - start
        return LabRun(lab, None, seconds, traceback.format_exc(), seed, quick, Path(out))
    return LabRun(lab, result, result.seconds, None, seed, quick, result.out)


def run_labs(labs, out, workers: int = 1, progress: bool = True, **options) -> list[LabRun]:
    """Run each lab into ``out``/LAB with ``run_lab(catch=True)``; the runs in the order given.
    ``iterations`` (in ``options``) sets the length of each lab that has one.

    ``workers`` > 1 runs the labs on that many spawned processes (one BLAS thread each, the
    sweep's local pool), the longest first by their measured times, so the report takes
    about its longest lab or its total over ``workers``, whichever is more; each result is
    then read back from its results.json. A lab must then be registered by importing
    nablab.labs (a lab defined in a script runs only with ``workers`` = 1)."""
    out = Path(out)
    if workers == 1:
        runs = track(labs, total=len(labs), description="labs", enabled=progress)
        return [run_lab(lab, catch=True, out=out / lab.name, progress=progress,
                        **_lab_options(lab, options)) for lab in runs]  # fmt: skip
    from ..sweep.backends import run_local

    quick = options.get("quick", False)
    order = sorted(labs, key=lambda lab: -lab.timing().get("quick" if quick else "full", 0.0))
    jobs = [(lab.name, str(out / lab.name), _lab_options(lab, options)) for lab in order]
    done = {}
    finished = run_local(jobs, min(workers, len(jobs)), fn=_run_in_worker)
    for name, record, error in track(finished, total=len(jobs), description="labs",
                                     enabled=progress):  # fmt: skip
        done[name] = record if error is None else {"error": error, "seconds": 0.0}
    return [_read_back(lab, out / lab.name, done[lab.name], options) for lab in labs]


def _lab_options(lab, options: dict) -> dict:
    """The options for ``lab``: ``iterations`` only if given and the lab has a length to set."""
    if options.get("iterations") is None or lab.length is None:
        return {k: v for k, v in options.items() if k != "iterations"}
    return options


def _run_in_worker(name: str, out: str, options: dict) -> dict:
    """One lab of ``run_labs`` in a worker: run it (one BLAS thread), return its error text
    (None when it ran) and seconds; the result itself is in ``out``/results.json."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        done = run_lab(get_lab(name), catch=True, out=out, progress=False, **options)
    return {"error": done.error, "seconds": done.seconds}


def _read_back(lab, out: Path, record: dict, options: dict) -> LabRun:
    seed, quick = options.get("seed", 0), options.get("quick", False)
    if record["error"] is not None:
        return LabRun(lab, None, record["seconds"], record["error"], seed, quick, out)
    result = read_result(out)
    return LabRun(lab, result, result.seconds, None, seed, quick, out)


def read_result(out: Path) -> LabResult:
    """The LabResult a run wrote to ``out``/results.json, its defaults from the registry."""
    path = Path(out) / RESULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"the report names '{path}', which does not exist") from None
    return LabResult.from_dict(data, Path(out), _defaults(data))


def _defaults(data: dict) -> dict | None:
    lab = LABS.get(data["lab"])
    return None if lab is None else {p.name: p.value(data["quick"]) for p in lab.params}
