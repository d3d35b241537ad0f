"""A lab's parameters: declared once with a type, a default, a range and a help line; parsed
from ``--set NAME=VALUE`` text or checked as Python values, always with a one-line error.

    Param("lr", 0.1, "SGD learning rate", min=0, min_open=True)
    Param("hidden", [2, 3, 4, 20], "hidden-layer widths to compare", min=1)
    Param("activation", "relu", "hidden activation", choices=("relu", "sigmoid"))
    Param("seeds", 20, "number of seeds", quick=5, min=1)

The type is the default's (bool, int, float, str, or a list of one of them); ``quick`` is the
value of the quick variant when it differs from the full one.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SCALARS = (bool, int, float, str)
_WORDS = {
    bool: ("true or false", "true/false values"),
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    str: ("a string", "strings"),
}
_SAME = object()


class ParameterError(ValueError):
    """A parameter name or value a lab does not accept; the message is one line."""


@dataclass(frozen=True)
class Param:
    """One knob of a lab: name, default (the source's value), help, range or choices, unit."""

    name: str
    default: Any
    help: str
    quick: Any = _SAME
    min: float | None = None
    max: float | None = None
    min_open: bool = False  # True: the value must be > min, not >= min
    choices: tuple | None = None
    unit: str = ""
    size: int | None = None  # a list parameter's exact length, when it has one

    def __post_init__(self) -> None:
        kind = self.kind
        if kind not in _SCALARS:
            raise TypeError(f"parameter {self.name!r}: unsupported type {kind!r}")
        self.check(self.default)
        if self.quick is not _SAME:
            self.check(self.quick)

    @property
    def is_list(self) -> bool:
        return isinstance(self.default, (list, tuple))

    @property
    def kind(self) -> type:
        """The scalar type: the default's, or its items' for a list."""
        if not self.is_list:
            return type(self.default)
        kinds = {type(v) for v in self.default}
        if kinds == {int, float}:
            return float
        if len(kinds) != 1:
            raise TypeError(f"parameter {self.name!r}: a list default needs items of one type")
        return kinds.pop()

    def value(self, quick: bool) -> Any:
        """The default of the full or the quick variant (a fresh list for list parameters)."""
        value = self.default if not quick or self.quick is _SAME else self.quick
        return list(value) if self.is_list else value

    def expects(self) -> str:
        """What the parameter accepts, in words: 'a number > 0', 'a list of integers ≥ 1'."""
        one, many = _WORDS[self.kind]
        list_of = f"a list of {self.size} " if self.size is not None else "a list of "
        if self.choices is not None:
            listed = ", ".join(map(str, self.choices))
            return f"{list_of}values from {listed}" if self.is_list else f"one of {listed}"
        return f"{list_of}{many}{self._range()}" if self.is_list else f"{one}{self._range()}"

    def _range(self) -> str:
        low, high = self.min, self.max
        if low is not None and high is not None:
            return f" in {'(' if self.min_open else '['}{low:g}, {high:g}]"
        if low is not None:
            return f" {'>' if self.min_open else '≥'} {low:g}"
        if high is not None:
            return f" ≤ {high:g}"
        return ""

    def check(self, value: Any) -> Any:
        """``value`` if it is a valid Python value of this parameter, else ParameterError."""
        if self.is_list:
            if not isinstance(value, (list, tuple)):
                raise ParameterError(
                    f"{self.name} expects {self.expects()}, got the single value {value!r}; "
                    f"write {self.name}=[{value}]"
                )
            if not value:
                raise ParameterError(f"{self.name} expects {self.expects()}, got an empty list")
            if self.size is not None and len(value) != self.size:
                raise ParameterError(
                    f"{self.name} expects {self.expects()}, got {len(value)} values"
                )
            return [self._check_one(v) for v in value]
        return self._check_one(value)

    def _check_one(self, value: Any) -> Any:
        kind = self.kind
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ParameterError(
                f"{self.name} expects {self.expects()}, got {value!r} ({type(value).__name__})"
            )
        if self.choices is not None and value not in self.choices:
            raise ParameterError(f"{self.name} expects {self.expects()}, got {value!r}")
        too_low = self.min is not None and (
            value <= self.min if self.min_open else value < self.min
        )
        if too_low or (self.max is not None and value > self.max):
            raise ParameterError(f"{self.name} expects {self.expects()}, got {value!r}")
        return value

    def parse(self, text: str) -> Any:
        """The value written as ``text`` on the command line: '0.5', 'true', 'relu', '[2, 3]' or
        '2,3' for a list."""
        text = text.strip()
        if self.is_list:
            inner = text[1:-1] if text.startswith("[") and text.endswith("]") else None
            if inner is None and "," not in text:
                raise ParameterError(
                    f"{self.name} expects {self.expects()}, got the single value {text!r}; "
                    f"write {self.name}=[{text}]"
                )
            items = [t for t in (inner if inner is not None else text).split(",") if t.strip()]
            return self.check([self._parse_one(t.strip()) for t in items])
        return self.check(self._parse_one(text))

    def _parse_one(self, text: str) -> Any:
        kind = self.kind
        if kind is str:
            return text.strip("'\"")
        if kind is bool:
            words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
            if text.lower() in words:
                return words[text.lower()]
        else:
            try:
                return kind(text)
            except ValueError:
                pass
        raise ParameterError(f"{self.name} expects {self.expects()}, got {text!r}")

    def describe(self) -> dict:
        """A JSON-able description: name, type, default, quick default, range, help, unit."""
        return {
            "name": self.name,
            "type": f"list[{self.kind.__name__}]" if self.is_list else self.kind.__name__,
            "default": self.value(quick=False),
            "quick": self.value(quick=True),
            "min": self.min,
            "max": self.max,
            "min_open": self.min_open,
            "choices": list(self.choices) if self.choices is not None else None,
            "unit": self.unit,
            "size": self.size,
            "help": self.help,
            "expects": self.expects(),
        }


class Params(Mapping):
    """The values a lab runs with, read as attributes (``p.lr``) or as a mapping."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__["_values"] = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"this lab has no parameter {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError("lab parameters are read-only; pass new values to the runner")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return "Params(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


def resolve(params: tuple[Param, ...], quick: bool, overrides: Mapping[str, Any]) -> Params:
    """The defaults of the (quick or full) variant with ``overrides`` checked and applied."""
    by_name = {p.name: p for p in params}
    for name in overrides:
        if name not in by_name:
            raise ParameterError(unknown_message(name, list(by_name)))
    values = {p.name: p.value(quick) for p in params}
    values.update({name: by_name[name].check(v) for name, v in overrides.items()})
    return Params(values)


def unknown_message(name: str, known: list[str]) -> str:
    """'no parameter NAME; did you mean X? parameters: a, b, c' (one line)."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(known) or "none"
    return f"this lab has no parameter {name!r}{hint} (its parameters: {listed})"


def format_value(value) -> str:
    """A parameter value as a person writes it: [2, 3] for a list, 0.001 for a float."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(format_value, value)) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def parse_assignment(text: str) -> tuple[str, str]:
    """'NAME=VALUE' split at the first '='; ParameterError without one."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"--set expects NAME=VALUE, got {text!r}")
    return name.strip(), value
