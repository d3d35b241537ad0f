"""What a sweep runs: the grid and the seeds parsed with the lab's own parameter declarations,
the tasks they make, and the function a worker calls for one task.

A task is one run of the lab through the runner (labs/runner.py): a grid point, the fixed
``--set`` values and one seed — the lab's ``seeds`` parameter set to 1, so a task equals
``nablab run LAB --set NAME=V ... --set seeds=1 --seed S``. With ``batch_seeds`` a lab that
trains its seeds as one batched computation runs all the sweep's seeds of a grid point as one
task (``--set seeds=N --seed FIRST``), which is faster; its metrics then hold one value per seed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..labs.declaration import Lab
from ..labs.params import ParameterError, parse_assignment, unknown_message


class SweepError(ValueError):
    """Bad sweep input or a folder in use: one line, exit code 2."""


@dataclass(frozen=True)
class Task:
    """One run of the lab: its parameter overrides, the seed it starts at and the seeds it
    covers (one, or a batch)."""

    lab: str
    params: dict
    seed: int
    seeds: tuple
    quick: bool
    point: dict = field(default_factory=dict)  # the grid values of this task

    def key(self, version: str) -> str:
        """A stable name for the result: the lab, every override, the seed(s), quick and the
        nablab version, hashed."""
        text = json.dumps(
            {"lab": self.lab, "params": self.params, "seeds": list(self.seeds),
             "quick": self.quick, "version": version},
            sort_keys=True, ensure_ascii=False,
        )  # fmt: skip
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def split_values(text: str) -> list[str]:
    """'0,0.1,0.3' → ['0', '0.1', '0.3']; '[2],[2,20]' → ['[2]', '[2,20]'] (commas inside
    brackets stay with their list)."""
    values, depth, current = [], 0, ""
    for char in text:
        depth += (char == "[") - (char == "]")
        if char == "," and depth == 0:
            values.append(current.strip())
            current = ""
        else:
            current += char
    values.append(current.strip())
    return values


def parse_grid(lab: Lab, assignments: list[str]) -> dict[str, list]:
    """{name: [values]} from '--grid NAME=V1,V2,...' texts, each value checked as --set checks."""
    if not assignments:
        raise SweepError("sweep needs at least one --grid NAME=V1,V2,... (see nablab show LAB)")
    grid = {}
    for text in assignments:
        param, values = _lookup(lab, text, "--grid")
        if param.name in grid:
            raise SweepError(f"--grid {param.name} is given twice")
        texts = [v for v in split_values(values) if v]
        if not texts:
            raise SweepError(f"--grid expects NAME=V1,V2,... with at least one value, got {text!r}")
        grid[param.name] = [_parse(param, v) for v in texts]
    return grid


def parse_fixed(lab: Lab, assignments: list[str], grid: dict) -> dict:
    """The --set values of a sweep, checked; a name both fixed and swept is an error."""
    fixed = {}
    for text in assignments:
        param, value = _lookup(lab, text, "--set")
        if param.name in grid:
            raise SweepError(f"{param.name} is both swept (--grid) and fixed (--set)")
        fixed[param.name] = _parse(param, value)
    return fixed


def _lookup(lab: Lab, text: str, option: str):
    """(the lab's Param named in 'NAME=VALUE', the value text); SweepError otherwise."""
    name, value = _assignment(text, option)
    by_name = {p.name: p for p in lab.params}
    if name not in by_name:
        raise SweepError(unknown_message(name, list(by_name)))
    return by_name[name], value


def _parse(param, text: str):
    try:
        return param.parse(text)
    except ParameterError as e:
        raise SweepError(str(e)) from None


def _assignment(text: str, option: str) -> tuple[str, str]:
    try:
        return parse_assignment(text)
    except ParameterError:
        raise SweepError(f"{option} expects NAME=VALUE, got {text!r}") from None


def parse_seeds(text: str) -> list[int]:
    """'0-9' → 0…9, '3' → [3], '0,4,7' → [0, 4, 7]; non-negative, a range low to high."""
    message = (
        f"--seeds expects N, A-B with A ≤ B, or N1,N2,... (non-negative integers), got {text!r}"
    )
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-"))
            seeds = list(range(low, high + 1))
            if low > high:
                raise ValueError
        else:
            seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise SweepError(message) from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise SweepError(message)
    return seeds


def make_tasks(
    lab: Lab, grid: dict, seeds: list[int], fixed: dict, quick: bool, batch_seeds: bool
) -> list[Task]:
    """Every (grid point, seed) as a task, or with ``batch_seeds`` every grid point as one."""
    names = {p.name for p in lab.params}
    if "seeds" in grid or "seeds" in fixed:
        raise SweepError("the sweep sets the lab's seeds parameter itself: use --seeds")
    if batch_seeds:
        if "seeds" not in names:
            raise SweepError(f"--batch-seeds: lab {lab.name!r} has no seeds parameter")
        if seeds != list(range(seeds[0], seeds[0] + len(seeds))):
            raise SweepError("--batch-seeds needs consecutive seeds (e.g. --seeds 0-9)")
    tasks = []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values))
        params = {**fixed, **point}
        if batch_seeds:
            runs = [(seeds[0], tuple(seeds), {"seeds": len(seeds)})]
        else:
            one = {"seeds": 1} if "seeds" in names else {}
            runs = [(s, (s,), one) for s in seeds]
        for seed, covered, extra in runs:
            tasks.append(Task(lab.name, {**params, **extra}, seed, covered, quick, point))
    return tasks


def run_task(task: Task, out: str) -> dict:
    """Run one task through the runner with one BLAS thread (what a worker calls); its figures
    and results.json go to ``out``. Returns the JSON-able record the sweep stores."""
    from threadpoolctl import threadpool_limits

    from .. import labs

    with threadpool_limits(limits=1):
        result = labs.run(
            task.lab, quick=task.quick, seed=task.seed, out=Path(out), progress=False, **task.params
        )
    saved = result.to_dict()
    return {
        "lab": task.lab,
        "point": task.point,
        "params": saved["parameters"],
        "seed": task.seed,
        "seeds": list(task.seeds),
        "quick": task.quick,
        "measures": saved["measures"],
        "claims": [{"text": c["text"], "holds": c["holds"]} for c in saved["claims"]],
        "metrics": saved["metrics"],
        "seconds": saved["seconds"],
        "version": saved["nablab_version"],
    }
