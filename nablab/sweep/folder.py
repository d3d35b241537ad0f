"""A sweep's folder: one JSON file per finished task (written atomically, so an interrupted
sweep keeps every finished task and never a half-written one), each task's own run folder,
and a lock so two sweeps cannot write to one folder at once.

    OUT/tasks/<key>.json   a finished task (key: lab, parameters, seeds, quick, version)
    OUT/runs/<key>/        that task's figures and results.json
    OUT/sweep.json, OUT/sweep.md, OUT/sweep.png, OUT/sweep.html   the summary
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from ..labs.base import write_atomic
from ..labs.runner import prepare_out
from .tasks import SweepError


class SweepFolder:
    """The folder ``out``, locked for this process while it is open (a context manager)."""

    def __init__(self, out):
        self.out = prepare_out(out)
        self.tasks = self.out / "tasks"
        self.tasks.mkdir(exist_ok=True)
        self._lock = None

    def __enter__(self) -> SweepFolder:
        self._lock = open(self.out / ".lock", "w")  # noqa: SIM115 (held until __exit__)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SweepError(f"another sweep is writing to '{self.out}'; wait for it") from None
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

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
