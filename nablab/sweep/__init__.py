"""Sweeps: a lab over a grid of parameters and seeds, on every local core or a Ray cluster,
resumable, with a table and the plot a teacher shows the class.

    from nablab.sweep import sweep
    result = sweep("regularization", grid={"l2": [0, 0.1, 0.3, 0.7, 1.5]}, seeds=range(10))
    result.table, result.plot            # metric per λ over seeds; the PNG

    nablab sweep regularization --grid l2=0,0.1,0.3,0.7,1.5 --seeds 0-9 --metric l2_test

Every (grid point, seed) is one task run by the labs' runner (see tasks.py); a finished task is
stored at once under the sweep's folder, so a rerun computes only what is missing and Ctrl-C
loses nothing finished. A task that fails is reported with its error; the others go on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..labs.base import Table, track, write_atomic
from ..labs.declaration import get_lab
from ..labs.runner import nablab_version, render_partial
from .backends import BACKENDS, check_reachable, run_local, run_ray
from .folder import SweepFolder
from .summary import check_metric, load, plot, summarise
from .tasks import SweepError, make_tasks, parse_fixed, parse_grid, parse_seeds

__all__ = [
    "SweepError",
    "SweepResult",
    "check_reachable",
    "default_out",
    "load",
    "parse_fixed",
    "parse_grid",
    "parse_seeds",
    "sweep",
]


@dataclass
class SweepResult:
    """A finished (or partly failed) sweep: its records, what was computed now and what was
    reused, the failures with their errors, and the files written."""

    lab: str
    records: list[dict]
    computed: int
    reused: int
    failed: list[dict] = field(default_factory=list)
    table: Table | None = None
    out: Path = Path(".")
    files: dict = field(default_factory=dict)


def default_out(lab: str, quick: bool) -> Path:
    return Path("runs") / "sweeps" / (f"{lab}-quick" if quick else lab)


def sweep(
    lab: str,
    grid: dict,
    seeds=(0,),
    fixed: dict | None = None,
    quick: bool = False,
    metrics: list[str] | None = None,
    workers: int | None = None,
    backend: str = "local",
    address: str | None = None,
    out=None,
    batch_seeds: bool = False,
    progress: bool = False,
) -> SweepResult:
    """Run ``lab`` at every point of ``grid`` ({name: [values]}) for every seed; ``fixed``
    holds other parameters. Values are Python values, checked by the lab's declarations."""
    spec = get_lab(lab)
    if backend not in BACKENDS:
        raise SweepError(f"--backend expects one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise SweepError(f"--workers expects a positive integer, got {workers!r}")
    if not grid or not all(grid.values()):
        raise SweepError("sweep needs at least one grid parameter with at least one value")
    by_name = {p.name: p for p in spec.params}
    for name in {**grid, **(fixed or {})}:
        if name not in by_name:
            raise SweepError(f"lab {lab!r}: no parameter {name!r}")
    checked = {name: [by_name[name].check(v) for v in values] for name, values in grid.items()}
    fixed = {name: by_name[name].check(v) for name, v in (fixed or {}).items()}
    metrics = list(metrics or ([spec.metrics[0].name] if spec.metrics else []))
    if not metrics:
        raise SweepError(f"lab {lab!r} declares no metric: give --metric PATH.TO.NUMBER")
    for metric in metrics:
        check_metric(spec, metric)
    tasks = make_tasks(spec, checked, list(seeds), fixed, quick, batch_seeds)
    version = nablab_version()
    workers = workers or os.cpu_count() or 1

    with SweepFolder(out if out is not None else default_out(lab, quick)) as folder:
        keyed = [(t, t.key(version)) for t in tasks]
        records = {key: folder.finished(key) for _, key in keyed}
        missing = [(t, str(folder.run_dir(key))) for t, key in keyed if records[key] is None]
        reused = len(tasks) - len(missing)
        failed = []
        if missing:
            runner = (
                run_local(missing, workers) if backend == "local"
                else run_ray(missing, workers, address)
            )  # fmt: skip
            for task, record, error in track(runner, len(missing), f"{lab} sweep", progress):
                key = task.key(version)
                if error is None:
                    folder.store(key, record)
                    records[key] = record
                else:
                    failed.append({"point": task.point, "seed": task.seed, "error": error})
        done = [records[key] for _, key in keyed if records[key] is not None]
        result = SweepResult(lab, done, len(missing) - len(failed), reused, failed, out=folder.out)
        _write(result, spec, checked, list(seeds), fixed, quick, metrics, backend, tasks)
    return result


def _write(result, spec, grid, seeds, fixed, quick, metrics, backend, tasks) -> None:
    out = result.out
    result.table = summarise(result.records, grid, metrics)
    data = {
        "lab": spec.name,
        "grid": grid,
        "seeds": seeds,
        "fixed": fixed,
        "quick": quick,
        "metrics": metrics,
        "backend": backend,
        "tasks": len(tasks),
        "claims": [render_partial(c.text, fixed) for c in spec.claims],
        "table": {"columns": result.table.columns, "rows": result.table.rows},
        "failed": result.failed,
        "points": result.records,
    }
    files = {"json": write_atomic(out / "sweep.json", json.dumps(data, indent=1) + "\n")}
    if result.records:
        title = f"{spec.name}: {', '.join(metrics)} over {len(seeds)} seed(s)"
        files["plot"] = plot(result.records, grid, metrics, out / "sweep.png", title)
    from ..report import render_sweep_page

    files["html"] = write_atomic(out / "sweep.html", render_sweep_page(data, out))
    result.files = files
