"""The playground's whole state as a validated value: what the URL's query string holds.

``Spec.from_query("dataset=circle&hidden=4,2&act=tanh&lr=0.03", limits)`` checks every field
(type, range, size) and raises a ``SpecError`` naming the field, what was expected and what
came; ``spec.to_query()`` writes it back in a canonical order, so a link reproduces the run.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from .. import activations
from .datasets import CLASSIFICATION, FEATURES, MULTI_CLASS, REGRESSION

DATASETS = (*CLASSIFICATION, *REGRESSION, "csv")
ACTIVATIONS = (*activations.NAMES, "linear")  # the catalogue's, and none (a linear layer)
ACTIVATION_LABELS = {
    **{name: activations.get(name).title() for name in activations.NAMES},
    "linear": "Linear",
}
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
INITS = ("default", "xavier", "kaiming", "normal", "zero", "constant")
MAX_QUERY = 4000  # characters
MAX_EDITS = 64  # weights set by hand in one run
MAX_WEIGHT = 100.0  # |w| a link can be set to by hand
MAX_EDIT_STEP = 10**7


class SpecError(ValueError):
    """A bad value for one field of the state; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Limits:
    """What the server allows; the defaults keep a browser redrawing smoothly."""

    max_layers: int = 6
    max_neurons: int = 8
    max_points: int = 1000
    max_classes: int = 5
    max_sessions: int = 8
    max_upload_bytes: int = 100_000
    max_steps_per_frame: int = 100
    grid: int = 50  # the boundary heatmap is grid × grid


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Spec:
    dataset: str = "circle"
    classes: int = 2
    points: int = 500
    noise: float = 0.1
    train: int = 50  # percent of the points used to train
    batch: int = 10
    features: tuple = ("x1", "x2")
    hidden: tuple = (4, 2)
    act: tuple = ("tanh", "tanh")  # one per hidden layer
    dropout: float = 0.0
    lr: float = 0.3  # the seeds' points span ±1.3, not ±6 as in TensorFlow Playground
    optimizer: str = "sgd"
    wd: float = 0.0  # decoupled weight decay β: θ ← (1 − β)θ − α g
    reg: str = "none"
    reg_rate: float = 0.0
    init: str = "default"
    init_value: float = 0.1  # the std of "normal", the value of "constant"
    bias: float | None = None  # every bias set to this value; None: the init's own
    seed: int = 0
    spf: int = 10  # training steps per frame
    edits: tuple = ()  # weights set by hand: (before step, layer, row, column, value)

    @property
    def regression(self) -> bool:
        return self.dataset in REGRESSION

    @classmethod
    def from_query(cls, query: str, limits: Limits = DEFAULT_LIMITS) -> Spec:
        """The state a query string describes; absent fields keep their defaults."""
        if not isinstance(query, str):
            raise SpecError("query", f"expected a string, got {type(query).__name__}")
        if len(query) > MAX_QUERY:
            raise SpecError("query", f"at most {MAX_QUERY} characters, got {len(query)}")
        pairs = parse_qsl(query.lstrip("?#"), keep_blank_values=True)
        names = [f.name for f in dataclasses.fields(cls)]
        values = {}
        for name, text in pairs:
            if name not in names:
                raise SpecError(name, f"unknown setting; expected one of {', '.join(names)}")
            values[name] = text
        default = cls()
        parsed = {name: _PARSERS[name](values[name], limits) for name in values}
        if "act" not in parsed or len(parsed["act"]) == 1:
            act = parsed.get("act", default.act[:1] if default.act else ("tanh",))
            parsed["act"] = act * len(parsed.get("hidden", default.hidden))
        spec = dataclasses.replace(default, **parsed)
        spec.validate(limits)
        return spec

    def validate(self, limits: Limits = DEFAULT_LIMITS) -> None:
        """The checks against the limits and those that involve more than one field."""
        if len(self.hidden) > limits.max_layers:
            raise SpecError(
                "hidden", f"at most {limits.max_layers} hidden layers, got {len(self.hidden)}"
            )
        if any(size > limits.max_neurons for size in self.hidden):
            raise SpecError(
                "hidden", f"at most {limits.max_neurons} neurons per layer, got {max(self.hidden)}"
            )
        if self.points > limits.max_points:
            raise SpecError("points", f"at most {limits.max_points}, got {self.points}")
        if len(self.act) != len(self.hidden):
            raise SpecError(
                "act",
                f"expected one activation for all layers or one per hidden layer "
                f"({len(self.hidden)}), got {len(self.act)}",
            )
        if self.classes > 2 and self.dataset not in MULTI_CLASS + ("csv",):
            raise SpecError(
                "classes", f"only {' and '.join(MULTI_CLASS)} can have more than 2 classes"
            )
        if self.classes > limits.max_classes:
            raise SpecError("classes", f"at most {limits.max_classes}, got {self.classes}")
        if self.batch > self.points:
            raise SpecError("batch", f"at most the number of points ({self.points})")
        if self.spf > limits.max_steps_per_frame:
            raise SpecError("spf", f"at most {limits.max_steps_per_frame}, got {self.spf}")
        if len(self.edits) > MAX_EDITS:
            raise SpecError("edits", f"at most {MAX_EDITS} weights set by hand in one run")
        shapes = self.weight_shapes()
        for i, edit in enumerate(self.edits, start=1):
            try:
                check_edit(edit, shapes)
            except SpecError as e:
                raise SpecError("edits", f"edit {i} ({_edit_text(edit)}): {e}") from None

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        """{layer name: (out, in)} of the network's weight matrices: fc1 … fcL, out."""
        multi = not self.regression and self.classes > 2
        widths = [len(self.features), *self.hidden, self.classes if multi else 1]
        names = [f"fc{i}" for i in range(1, len(self.hidden) + 1)] + ["out"]
        return {name: (widths[i + 1], widths[i]) for i, name in enumerate(names)}

    def to_query(self) -> str:
        pairs = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "edits":
                text = ";".join(_edit_text(edit) for edit in value)
            elif isinstance(value, tuple):
                text = ",".join(str(v) for v in value)
            elif value is None:
                text = ""
            else:
                text = repr(value) if isinstance(value, float) else str(value)
            pairs.append((f.name, text))
        return urlencode(pairs, safe=",:;")


def check_edit(edit, shapes: dict) -> None:
    """One weight set by hand, (step, layer, row, column, value): the layer must exist, row and
    column be inside its weight matrix, the value a number within ±MAX_WEIGHT. A SpecError
    names the bad part ("layer", "row", "column", "value" or "step")."""
    step, layer, row, column, value = edit
    if not isinstance(layer, str) or layer not in shapes:
        raise SpecError("layer", f"expected one of {', '.join(shapes)}, got {layer!r}")
    size = dict(zip(("row", "column"), shapes[layer]))
    for name, index in (("row", row), ("column", column)):
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < size[name]:
            expected = f"an integer from 0 to {size[name] - 1}"
            raise SpecError(name, f"expected {expected}, got {index!r}")
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or abs(value) > MAX_WEIGHT
    ):
        raise SpecError("value", f"expected a number within ±{MAX_WEIGHT}, got {value!r}")
    if not isinstance(step, int) or not 0 <= step <= MAX_EDIT_STEP:
        raise SpecError("step", f"expected an integer from 0 to {MAX_EDIT_STEP}, got {step!r}")


def _edit_text(edit) -> str:
    step, layer, row, column, value = edit
    return f"{step}:{layer}:{row}:{column}:{value!r}"


def _edits(text: str, limits: Limits):
    """ "20:fc2:1:0:0.5;40:out:0:1:-1": before step 20 set fc2.weight[1, 0] = 0.5, …; the
    layers and ranges are checked against the network in Spec.validate."""
    edits = []
    for item in filter(None, text.split(";")):
        parts = item.split(":")
        try:
            step, layer, row, column, value = parts
            edits.append((int(step), layer, int(row), int(column), float(value)))
        except ValueError:
            raise SpecError(
                "edits", f"expected step:layer:row:column:value items joined by ';', got {item!r}"
            ) from None
    return tuple(edits)


def _number(name, low, high, integer=False, low_open=False):
    kind = "an integer" if integer else "a number"
    bound = f"above {low}" if low_open else f"from {low}"
    expects = f"{kind} {bound} to {high}"

    def parse(text: str, limits: Limits):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise SpecError(name, f"expected {expects}, got {text!r}") from None
        high_value = high(limits) if callable(high) else high
        if (
            not math.isfinite(value)
            or value < low
            or (low_open and value == low)
            or value > high_value
        ):
            bound_text = f"{kind} {bound} to {high_value}"
            raise SpecError(name, f"expected {bound_text}, got {text!r}")
        return value

    return parse


def _choice(name, options):
    def parse(text: str, limits: Limits):
        if text not in options:
            raise SpecError(name, f"expected one of {', '.join(options)}, got {text!r}")
        return text

    return parse


def _choices(name, options, allow_empty=False):
    def parse(text: str, limits: Limits):
        items = tuple(t.strip() for t in text.split(",") if t.strip())
        if not items and not allow_empty:
            raise SpecError(name, f"expected at least one of {', '.join(options)}")
        for item in items:
            if item not in options:
                raise SpecError(name, f"expected items from {', '.join(options)}, got {item!r}")
        if len(set(items)) != len(items) and name == "features":
            raise SpecError(name, f"each feature at most once, got {text!r}")
        return items

    return parse


def _hidden(text: str, limits: Limits):
    items = [t.strip() for t in text.split(",") if t.strip()]
    if len(items) > limits.max_layers:
        raise SpecError("hidden", f"at most {limits.max_layers} hidden layers, got {len(items)}")
    sizes = []
    for item in items:
        if not item.isdigit() or not 1 <= int(item) <= limits.max_neurons:
            raise SpecError(
                "hidden",
                f"expected layer sizes from 1 to {limits.max_neurons} neurons, got {item!r}",
            )
        sizes.append(int(item))
    return tuple(sizes)


def _bias(text: str, limits: Limits):
    return None if text == "" else _number("bias", -20.0, 20.0)(text, limits)


_PARSERS = {
    "dataset": _choice("dataset", DATASETS),
    "classes": _number("classes", 2, lambda limits: limits.max_classes, integer=True),
    "points": _number("points", 20, lambda limits: limits.max_points, integer=True),
    "noise": _number("noise", 0.0, 1.0),
    "train": _number("train", 10, 90, integer=True),
    "batch": _number("batch", 1, lambda limits: limits.max_points, integer=True),
    "features": _choices("features", FEATURES),
    "hidden": _hidden,
    "act": _choices("act", ACTIVATIONS, allow_empty=True),
    "dropout": _number("dropout", 0.0, 0.9),
    "lr": _number("lr", 0.0, 10.0, low_open=True),
    "optimizer": _choice("optimizer", OPTIMIZERS),
    "wd": _number("wd", 0.0, 0.5),
    "reg": _choice("reg", REGULARIZATIONS),
    "reg_rate": _number("reg_rate", 0.0, 10.0),
    "init": _choice("init", INITS),
    "init_value": _number("init_value", -10.0, 10.0),
    "bias": _bias,
    "seed": _number("seed", 0, 2**31 - 1, integer=True),
    "spf": _number("spf", 1, lambda limits: limits.max_steps_per_frame, integer=True),
    "edits": _edits,
}
