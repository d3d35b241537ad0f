"""A lab as a declaration: what it asks, what it can change, what it claims, what was published.

A lab module declares the lab once, above its experiment::

    @lab(
        "xor-relu",
        summary="Can a 2-2-1 ReLU net learn XOR?",
        source="seeds/000 ex. 4-2",
        question="Can Linear(2,2)→ReLU→Linear(2,1) learn XOR with SGD?",
        setting="... SGD lr {lr}, {epochs:,} epochs, H = {hidden} ...",
        params=[Param("lr", 0.1, "SGD learning rate", min=0, min_open=True), ...],
        length="epochs",
        claims=[Claim("A linear model cannot separate XOR", lambda m, p: m["lr_acc"] == 0.5)],
        published=[Published("often fails", "seeds/000 ex. 4-2", column="seed", row=2)],
        answer="Over {seeds} seeds, ...",
    )
    def experiment(p, ctx):
        ...  # the experiment itself: p.lr, p.hidden; ctx.seeds, ctx.track, ctx.out
        return Outcome(tables=[...], figures=[...], metrics={...}, notes=[...])

``setting``, ``answer`` and each claim's text are templates filled with the parameters
actually used and the experiment's metrics (``str.format``; a list prints as "2, 3, 4"),
or functions ``(metrics, p) -> str``. One runner (labs/runner.py) executes every lab.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .params import Param

Text = str | Callable[[dict, Any], str]


@dataclass(frozen=True)
class Claim:
    """What the lab shows, as a sentence and a check over its metrics and parameters.

    ``check(metrics, p)`` returns True/False, or (True/False, {name: number that decides it}),
    or None when the claim does not apply to these parameters (e.g. a width that was not run).
    """

    text: Text
    check: Callable[[dict, Any], Any]


@dataclass(frozen=True)
class Metric:
    """A named number the lab measures, for sweeps and comparisons: ``value(metrics, p)`` is a
    float, or a list with one float per seed of the run (``ctx.seeds``); None when it does
    not apply to these parameters. ``name`` is short and typeable (``l2_test``)."""

    name: str
    value: Callable[[dict, Any], Any]
    help: str = ""


@dataclass(frozen=True)
class Published:
    """A published figure beside ours: its value, where it comes from, and where it goes in a
    table: the column ``column`` (added after the first column of the table named ``table``, by
    default the first table), on the row whose first cell is ``row``."""

    value: Any
    source: str
    column: str
    row: Any = None
    table: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What an experiment computed: tables, figures (paths), metrics (JSON-able) and notes."""

    tables: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


@dataclass(frozen=True)
class Lab:
    """A registered lab: its declaration and the experiment function the runner calls."""

    name: str
    summary: str
    source: str
    question: str
    setting: Text
    answer: Text
    experiment: Callable
    params: tuple[Param, ...] = ()
    length: str | None = None  # the parameter `--iterations` sets (epochs, steps, rounds)
    claims: tuple[Claim, ...] = ()
    published: tuple[Published, ...] = ()
    metrics: tuple[Metric, ...] = ()
    needs: Callable[[], None] | None = None  # raises DataUnavailableError when data is missing

    def param(self, name: str) -> Param:
        return {p.name: p for p in self.params}[name]

    def timing(self) -> dict[str, float]:
        """Measured seconds of the full and quick runs ({} if never measured)."""
        return _timings().get(self.name, {})


LABS: dict[str, Lab] = {}
RESERVED = {"name", "quick", "seed", "out", "progress", "iterations"}  # runner.run's arguments


class UnknownLabError(KeyError):
    """No lab has this name; the message lists the available ones."""

    def __str__(self) -> str:
        return str(self.args[0])


def lab(
    name: str,
    *,
    summary: str,
    source: str,
    question: str,
    setting: Text,
    answer: Text,
    params: Sequence[Param] = (),
    length: str | None = None,
    claims: Sequence[Claim] = (),
    published: Sequence[Published] = (),
    metrics: Sequence[Metric] = (),
    needs: Callable[[], None] | None = None,
):
    """Decorator: declare the lab ``name`` around its experiment ``(p, ctx) -> Outcome``."""
    names = [p.name for p in params]
    reserved = RESERVED & set(names)
    if reserved:
        raise ValueError(f"lab {name!r}: {sorted(reserved)} are the runner's own arguments")
    if len(set(names)) != len(names):
        raise ValueError(f"lab {name!r}: a parameter is declared twice in {names}")
    if length is not None and length not in names:
        raise ValueError(f"lab {name!r}: length {length!r} is not one of its parameters {names}")

    def decorator(experiment: Callable) -> Callable:
        existing = LABS.get(name)
        if existing is not None and _origin(existing.experiment) != _origin(experiment):
            raise ValueError(
                f"lab {name!r} is already registered by {'.'.join(_origin(existing.experiment))}"
            )
        LABS[name] = Lab(
            name=name,
            summary=summary,
            source=source,
            question=question,
            setting=setting,
            answer=answer,
            experiment=experiment,
            params=tuple(params),
            length=length,
            claims=tuple(claims),
            published=tuple(published),
            metrics=tuple(metrics),
            needs=needs,
        )
        return experiment

    return decorator


def get_lab(name: str) -> Lab:
    """The lab registered as ``name``; an unknown name raises UnknownLabError listing the others."""
    try:
        return LABS[name]
    except KeyError:
        available = ", ".join(sorted(LABS)) or "none"
        raise UnknownLabError(f"unknown lab {name!r}; available labs: {available}") from None


TIMINGS_FILE = Path(__file__).with_name("timings.json")


def _timings() -> dict:
    try:
        return json.loads(TIMINGS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _origin(fn: Callable) -> tuple[str, str]:
    return (getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn)))
