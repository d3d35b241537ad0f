"""The lab framework: a lab is a function ``run(config) -> LabResult`` registered under a name.

A lab module (``nablab/labs/xor_relu.py`` for the lab ``xor-relu``) looks like::

    from nablab.labs.base import LabConfig, LabResult, Table, register, track

    @register("xor-relu", summary="Can a 2-2-1 ReLU net learn XOR?", source="seeds/000 ex. 1")
    def run(config: LabConfig) -> LabResult:
        rng = config.rng()
        for epoch in track(range(epochs), total=epochs, description="training", config=config):
            ...
        return LabResult(question=..., setting=..., tables=[Table(...)],
                         figures=[config.out / "x.png"], answer=..., metrics={"accuracy": acc})

``nablab run xor-relu`` (nablab/cli.py) creates ``config.out``, runs the lab, prints its tables and
writes ``results.json``; ``nablab report`` runs every registered lab into one HTML page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class LabConfig:
    """How to run a lab: ``quick`` is the fast variant the tests run; figures go into ``out``."""

    seed: int = 0
    quick: bool = False
    out: Path = Path("runs")
    progress: bool = True
    iterations: int | None = None  # overrides the lab's main training length when given

    def __post_init__(self) -> None:
        if self.iterations is not None and (
            isinstance(self.iterations, bool)
            or not isinstance(self.iterations, int)
            or self.iterations < 1
        ):
            raise ValueError(f"iterations must be a positive integer, got {self.iterations!r}")

    def steps(self, full: int, quick: int) -> int:
        """The lab's main training length (epochs or steps): ``iterations`` if given, else
        ``quick`` for the quick variant or ``full``."""
        if self.iterations is not None:
            return self.iterations
        return quick if self.quick else full

    def rng(self) -> np.random.Generator:
        """A fresh NumPy generator seeded with ``seed``: the same config gives the same draws."""
        return np.random.default_rng(self.seed)


@dataclass
class Table:
    """A table of results; cells are str, int, float or None (printed as an empty cell)."""

    title: str
    columns: list[str]
    rows: list[list]

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.title!r}: row {i} has {len(row)} cells, "
                    f"expected {len(self.columns)} (columns {self.columns})"
                )


def spread(values, center=np.median, fmt=".3g") -> str:
    """A table cell for a statistic over seeds: ``center (min–max)`` of the finite values,
    ``diverged`` if none is finite, and how many were not finite if some were."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "diverged"
    text = f"{center(finite):{fmt}} ({finite.min():{fmt}}–{finite.max():{fmt}})"
    return text if finite.size == values.size else text + f", {values.size - finite.size} NaN"


@dataclass
class LabResult:
    """What a lab found: the question, the setting, tables, figures, the answer and its metrics."""

    question: str
    setting: str
    tables: list[Table]
    figures: list[Path]
    answer: str
    metrics: dict
    notes: list[str] = field(default_factory=list)

    def to_dict(self, relative_to: Path | None = None) -> dict[str, Any]:
        """JSON-able dict; figure paths are made relative to ``relative_to`` when given."""
        figures = [Path(f) for f in self.figures]
        if relative_to is not None:
            figures = [_relative(f, Path(relative_to)) for f in figures]
        return {
            "question": self.question,
            "setting": self.setting,
            "tables": [_jsonable(asdict(t)) for t in self.tables],
            "figures": [str(f) for f in figures],
            "answer": self.answer,
            "metrics": _jsonable(self.metrics),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Lab:
    """A registered lab: ``run(config)`` does the experiment and returns a LabResult."""

    name: str
    summary: str
    source: str
    run: Callable[[LabConfig], LabResult]


LABS: dict[str, Lab] = {}


class UnknownLabError(KeyError):
    """No lab has this name; the message lists the available ones."""

    def __str__(self) -> str:
        return str(self.args[0])


def register(name: str, summary: str, source: str):
    """Decorator: register ``run(config) -> LabResult`` as the lab ``name``; returns ``run``."""

    def decorator(run: Callable[[LabConfig], LabResult]) -> Callable[[LabConfig], LabResult]:
        existing = LABS.get(name)
        if existing is not None and _origin(existing.run) != _origin(run):
            raise ValueError(
                f"lab {name!r} is already registered by {'.'.join(_origin(existing.run))}"
            )
        LABS[name] = Lab(name=name, summary=summary, source=source, run=run)
        return run

    return decorator


def get_lab(name: str) -> Lab:
    """The lab registered as ``name``; an unknown name raises UnknownLabError listing the others."""
    try:
        return LABS[name]
    except KeyError:
        available = ", ".join(sorted(LABS)) or "none"
        raise UnknownLabError(f"unknown lab {name!r}; available labs: {available}") from None


def track(iterable: Iterable, total: int, description: str, config: LabConfig) -> Iterator:
    """Iterate with a rich progress bar (on stderr) when ``config.progress``, else plainly.

    Nested calls share one display: an inner loop adds its own bar under the outer one.
    """
    if not config.progress:
        yield from iterable
        return
    global _active_progress
    if _active_progress is not None:
        progress, owner = _active_progress, False
    else:
        progress, owner = _new_progress(), True
        _active_progress = progress
        progress.start()
    task = progress.add_task(description, total=total)
    try:
        for item in iterable:
            yield item
            progress.advance(task)
    finally:
        progress.remove_task(task)
        if owner:
            progress.stop()
            _active_progress = None


_active_progress = None


def _new_progress():
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _origin(fn: Callable) -> tuple[str, str]:
    return (getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn)))


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.resolve().relative_to(base.resolve())
    except ValueError:
        return path


def _jsonable(value: Any) -> Any:
    """NumPy scalars and arrays, tuples, Paths and dataclasses (e.g. a Monitor's Findings)
    turned into plain JSON types."""
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value
