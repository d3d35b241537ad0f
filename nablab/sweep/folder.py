"""A sweep's folder: one JSON file per finished task (written atomically, so an interrupted
sweep keeps every finished task and never a half-written one), each task's own run folder,
and a lock so two sweeps cannot write to one folder at once.

    OUT/tasks/<key>.json   a finished task (key: lab, parameters, seeds, quick, version)
    OUT/runs/<key>/        that task's figures and results.json
    OUT/sweep.json, OUT/sweep.md, OUT/sweep.png, OUT/sweep.html   the summary
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

from ..labs.base import write_atomic
from ..labs.runner import FolderBusyError, hold, prepare_out
from .tasks import SweepError


class SweepFolder:
    """The folder ``out``, locked for this process while it is open (a context manager)."""

    def __init__(self, out):
        self.out = prepare_out(out)
        self.tasks = self.out / "tasks"
        self.tasks.mkdir(exist_ok=True)
        self._held = ExitStack()

    def __enter__(self) -> SweepFolder:
        try:
            self._held.enter_context(hold(self.out, f"another sweep is writing to '{self.out}'"))
        except FolderBusyError as e:
            raise SweepError(f"{e}; wait for it") from None
        return self

    def __exit__(self, *exc) -> None:
        self._held.close()

    def run_dir(self, key: str) -> Path:
        return self.out / "runs" / key

    def finished(self, key: str) -> dict | None:
        """The stored record of task ``key``, or None if it has not finished (or is unreadable)."""
        path = self.tasks / f"{key}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def store(self, key: str, record: dict) -> None:
        write_atomic(self.tasks / f"{key}.json", json.dumps(record, indent=1) + "\n")
