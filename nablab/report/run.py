"""Run labs for a report: ``run_lab`` runs one lab through the runner (labs/runner.py, which
writes its results.json) and, with ``catch``, records a lab that raised instead of stopping."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..labs.base import LabResult
from ..labs.runner import run


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
