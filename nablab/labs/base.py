"""What every lab shares: tables, the result of a run, a progress bar (nablab.progress), an
atomic write.

A lab is declared in its own module (see declaration.py) and executed by runner.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..atomicfile import write_atomic as write_atomic  # the one atomic write, for the labs
from ..progress import track  # noqa: F401  (the labs and the sweep import it from here)
from .display import claims_tally, result_html, table_html


@dataclass
class Table:
    """A table of results; cells are str, int, float or None (printed as an empty cell).

    ``name`` is how a lab's published figures find the table (default: its title)."""

    title: str
    columns: list[str]
    rows: list[list]
    name: str | None = None

    def __post_init__(self) -> None:
        if self.name is None:
            self.name = self.title
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.title!r}: row {i} has {len(row)} cells, "
                    f"expected {len(self.columns)} (columns {self.columns})"
                )

    def with_columns(self, columns: dict[str, dict]) -> Table:
        """A copy with a column per entry of ``columns`` ({title: {first cell: value}}) added
        after the first column; rows whose first cell has no value get an empty cell."""
        titles = list(columns)
        rows = [
            [row[0], *(columns[t].get(_key(row[0]), columns[t].get(row[0])) for t in titles),
             *row[1:]]
            for row in self.rows
        ]  # fmt: skip
        return replace(self, columns=[self.columns[0], *titles, *self.columns[1:]], rows=rows)

    def _repr_html_(self) -> str:
        return table_html(self)


def _key(cell):
    return cell.item() if isinstance(cell, np.generic) else cell


def spread(values, center=np.median, fmt=".3g") -> str:
    """A table cell for a statistic over seeds: ``center (min–max)`` of the finite values,
    ``diverged`` if none is finite, and how many were not finite if some were."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "diverged"
    text = f"{center(finite):{fmt}} ({finite.min():{fmt}}–{finite.max():{fmt}})"
    return text if finite.size == values.size else text + f", {values.size - finite.size} NaN"


def format_seconds(seconds: float) -> str:
    """A duration for a person: '0.5 s', '42 s', '12 min'."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@dataclass(repr=False)
class LabResult:
    """What a lab run found: the rendered question, setting and answer, its tables, figures,
    metrics, notes, each claim with whether it holds, and how it was run."""

    lab: str
    summary: str
    source: str
    question: str
    setting: str
    tables: list[Table]
    figures: list[Path]
    answer: str
    metrics: dict
    notes: list[str] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    measures: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)
    published: list[dict] = field(default_factory=list)
    seed: int = 0
    quick: bool = False
    out: Path = Path("runs")
    seconds: float = 0.0
    version: str = "unknown"
    commit: str | None = None

    def __repr__(self) -> str:
        tally = claims_tally(self.claims) or "no claims"
        return (
            f"<LabResult {self.lab}{' (quick)' if self.quick else ''}: claims {tally}; "
            f"{len(self.tables)} tables, {len(self.figures)} figures in {self.out}>"
        )

    def _repr_html_(self) -> str:
        """The result in a notebook: question, answer, claims ✔/✘, setting, tables, figures."""
        return result_html(self)

    @classmethod
    def from_dict(cls, data: dict, out, defaults: dict | None = None) -> LabResult:
        """The LabResult a results.json in ``out`` holds (``to_dict``'s inverse); ``defaults``
        are the lab's default parameters where known (else: the parameters not changed)."""
        params = data["parameters"]
        if defaults is None:
            defaults = {k: v for k, v in params.items() if k not in data.get("changed", {})}
        return cls(
            lab=data["lab"], summary=data["summary"], source=data["source"],
            question=data["question"], setting=data["setting"],
            tables=[Table(**t) for t in data["tables"]],
            figures=[Path(out) / f for f in data["figures"]], answer=data["answer"],
            metrics=data["metrics"], notes=data["notes"], claims=data["claims"],
            measures=data.get("measures", {}), params=params, defaults=defaults,
            published=data.get("published", []), seed=data["seed"], quick=data["quick"],
            out=Path(out), seconds=data["seconds"], version=data["nablab_version"],
            commit=data["commit"],
        )  # fmt: skip

    @property
    def failed_claims(self) -> list[dict]:
        """The claims that do not hold (a claim that does not apply is not a failure)."""
        return [c for c in self.claims if c["holds"] is False]

    def to_dict(self) -> dict[str, Any]:
        """What results.json holds: JSON types only, figure paths relative to ``out``."""
        return _jsonable(
            {
                "lab": self.lab,
                "summary": self.summary,
                "source": self.source,
                "seed": self.seed,
                "quick": self.quick,
                "parameters": self.params,
                "changed": {k: v for k, v in self.params.items() if self.defaults.get(k) != v},
                "nablab_version": self.version,
                "commit": self.commit,
                "seconds": round(self.seconds, 3),
                "question": self.question,
                "setting": self.setting,
                "tables": [asdict(t) for t in self.tables],
                "figures": [str(_relative(Path(f), Path(self.out))) for f in self.figures],
                "answer": self.answer,
                "claims": self.claims,
                "measures": self.measures,
                "published": self.published,
                "metrics": self.metrics,
                "notes": self.notes,
            }
        )


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
