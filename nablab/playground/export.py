"""The plain nablab script of a playground state ("Export as Python").

The page's session runs this very script (``exec`` of ``script(spec, ...)`` without its
``__main__`` block), so the page and the exported file build the same data, model, init and
optimizer with the same nablab calls in the same order from the same seed: after STEPS steps
they print the same losses. The script imports only numpy and nablab. Everything put into the
text comes from a validated Spec (numbers and names from fixed lists) or from parsed CSV
numbers, never from raw page input.
"""

from __future__ import annotations

import inspect

import numpy as np

from .. import activations
from . import datasets
from .spec import Spec

ACTIVATION_MODULES = {  # the catalogue's layers at their defaults; "linear": no activation
    **{name: f"nn.{activations.get(name).module}()" for name in activations.NAMES},
    "linear": None,
}


def class_count(spec: Spec, points: np.ndarray | None = None) -> int:
    """Output classes: 1 for regression (one output), else 2 or more."""
    if spec.regression:
        return 1
    if spec.dataset == "csv":
        return int(points[:, 2].max()) + 1
    return spec.classes if spec.dataset in datasets.MULTI_CLASS else 2


def script(spec: Spec, points: np.ndarray | None = None, steps: int = 0) -> str:
    """The script text. points: the uploaded CSV rows (x1, x2, label) when dataset is csv.
    The weights set by hand (spec.edits) are replayed before their step."""
    classes = class_count(spec, points)
    parts = [
        _header(spec, steps, classes),
        _data(spec, points),
        _model(spec, classes),
        _training(spec, classes),
        _main(spec.edits),
    ]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def _header(spec: Spec, steps: int, classes: int) -> str:
    task = "regression" if classes == 1 else f"{classes}-class classification"
    return f'''"""nablab playground export: {spec.dataset} ({task}),
hidden layers {list(spec.hidden)}, {spec.optimizer} at lr {spec.lr!r}, {steps} training steps.

Run `python this_file.py`: it trains for STEPS steps and prints the train and test loss, which
match the playground's after the same number of steps, then the Monitor's report.
Playground state (the page's URL query):
    {_wrapped(spec.to_query())}
"""

from collections import OrderedDict

import nablab as nl
import numpy as np
from nablab import {"data, " if _uses_data(spec) else ""}nn, optim
from nablab.data import DataLoader, TensorDataset
from nablab.diagnostics import Monitor

SEED = {spec.seed}
STEPS = {steps}
FEATURES = [{", ".join(f'"{name}"' for name in spec.features)}]'''


def _uses_data(spec: Spec) -> bool:
    """Whether the data set's generator calls nablab.data (circles, moons, spirals)."""
    generator = datasets.GENERATORS.get(spec.dataset)
    return generator is not None and "data." in inspect.getsource(generator)


def _wrapped(query: str, width: int = 88) -> str:
    """The query cut after an & into lines of at most ``width`` characters."""
    lines = [""]
    for pair in query.split("&"):
        if lines[-1] and len(lines[-1]) + len(pair) + 1 > width:
            lines.append("")
        lines[-1] += ("&" if lines[-1] else "") + pair
    return "&\n    ".join(lines)


def _data(spec: Spec, points: np.ndarray | None) -> str:
    if spec.dataset == "csv":
        rows = "".join(f"        [{x1!r}, {x2!r}, {int(c)}],\n" for x1, x2, c in points.tolist())
        make = (
            f"# the uploaded CSV: x1, x2, label\nPOINTS = np.array(\n    [\n{rows}    ]\n)\n"
            "X, y = POINTS[:, :2], POINTS[:, 2].astype(np.int64)"
        )
    else:
        generator = datasets.GENERATORS[spec.dataset]
        make = (
            inspect.getsource(generator)
            + f"\n\nX, y = {generator.__name__}({spec.points}, noise={spec.noise!r}, "
            f"classes={spec.classes}, seed=SEED)"
        )
    to_tensor = (
        "nl.tensor(y.astype(np.int64))"
        if class_count(spec, points) > 2
        else "nl.tensor(y.astype(np.float32)[:, None])"
    )
    return f"""{make}


{inspect.getsource(datasets.split)}

{inspect.getsource(datasets.features)}

(X_train, y_train), (X_test, y_test) = split(X, y, train_percent={spec.train}, seed=SEED)


def as_tensors(X, y):
    return nl.tensor(features(X, FEATURES)), {to_tensor}


inputs_train, targets_train = as_tensors(X_train, y_train)
inputs_test, targets_test = as_tensors(X_test, y_test)"""


def _model(spec: Spec, classes: int) -> str:
    layers, width = [], len(spec.features)
    for i, (size, act) in enumerate(zip(spec.hidden, spec.act), start=1):
        layers.append(f'("fc{i}", nn.Linear({width}, {size}, generator=rng))')
        if ACTIVATION_MODULES[act]:
            layers.append(f'("act{i}", {ACTIVATION_MODULES[act]})')
        if spec.dropout > 0:
            layers.append(f'("drop{i}", nn.Dropout({spec.dropout!r}, generator=rng))')
        width = size
    outputs = classes if classes > 2 else 1
    layers.append(f'("out", nn.Linear({width}, {outputs}, generator=rng))')
    listing = "".join(f"    {layer},\n" for layer in layers)
    return (
        f"rng = np.random.default_rng(SEED)  # the model's draws: init, then dropout masks\n"
        f"layers = [\n{listing}]\nmodel = nn.Sequential(OrderedDict(layers))\n" + _init(spec)
    )


def _init(spec: Spec) -> str:
    weight = {
        "default": None,  # nn.Linear's own: Kaiming-uniform weights, uniform biases
        "xavier": "nn.init.xavier_uniform_(layer.weight, generator=rng)",
        "kaiming": 'nn.init.kaiming_normal_(layer.weight, nonlinearity="relu", generator=rng)',
        "normal": f"nn.init.normal_(layer.weight, 0.0, {spec.init_value!r}, generator=rng)",
        "zero": "nn.init.zeros_(layer.weight)",
        "constant": f"nn.init.constant_(layer.weight, {spec.init_value!r})",
    }[spec.init]
    bias = (
        f"nn.init.constant_(layer.bias, {spec.bias!r})"
        if spec.bias is not None
        else None
        if spec.init == "default"
        else f"nn.init.constant_(layer.bias, {spec.init_value!r})"
        if spec.init == "constant"
        else "nn.init.zeros_(layer.bias)"
    )
    lines = [line for line in (weight, bias) if line]
    if not lines:
        return ""
    body = "".join(f"        {line}\n" for line in lines)
    return (
        f"for layer in model.modules():  # init: {spec.init}\n"
        f"    if isinstance(layer, nn.Linear):\n{body}"
    )


def _training(spec: Spec, classes: int) -> str:
    loss = {1: "nn.MSELoss()", 2: "nn.BCEWithLogitsLoss()"}.get(classes, "nn.CrossEntropyLoss()")
    args = ["model.parameters()", f"lr={spec.lr!r}"]
    name, note = {"sgd": "SGD", "momentum": "SGD", "adam": "Adam"}[spec.optimizer], ""
    if spec.optimizer == "momentum":
        args.append("momentum=0.9")
    if spec.wd and spec.optimizer == "adam":  # AdamW decays by lr·λ: λ = β / lr gives (1 − β)
        name, note = "AdamW", f"# decoupled weight decay: θ ← (1 − {spec.wd!r})θ − the Adam step\n"
        args.append(f"weight_decay={spec.wd!r} / {spec.lr!r}")
    elif spec.wd:
        note = f"# decoupled weight decay: θ ← (1 − {spec.wd!r})θ − lr·g\n"
        args += [f"weight_decay={spec.wd!r}", "decoupled=True"]
    optimizer = note + _call("optimizer", f"optim.{name}", args)
    penalty = (
        f" + {spec.reg_rate!r} * nn.{spec.reg}_penalty(model)"
        if spec.reg != "none" and spec.reg_rate
        else ""
    )
    return f"""loss_fn = {loss}
{optimizer}
loader = DataLoader(
    TensorDataset(inputs_train, targets_train),
    batch_size={spec.batch},
    shuffle=True,
    generator=np.random.default_rng(SEED + 1),
)
monitor = Monitor(model)


def batches():
    while True:  # one epoch after another; after each, the Monitor compares train and test
        yield from loader
        train_loss = evaluate(inputs_train, targets_train)
        monitor.record_metrics(train_loss, evaluate(inputs_test, targets_test))


stream = batches()


def train_step():
    inputs, targets = next(stream)
    model.train()
    loss = loss_fn(model(inputs), targets){penalty}
    monitor.check_finite(loss)
    optimizer.zero_grad()
    loss.backward()
    monitor.step()
    optimizer.step()


def evaluate(inputs, targets):
    model.eval()
    with nl.no_grad():
        return loss_fn(model(inputs), targets).item()"""


def _call(target: str, function: str, args: list[str], width: int = 100) -> str:
    """``target = function(args)`` on one line, or with the arguments on the next (as ruff
    formats it)."""
    line = f"{target} = {function}({', '.join(args)})"
    if len(line) <= width:
        return line
    return f"{target} = {function}(\n    {', '.join(args)}\n)"


def _main(edits) -> str:
    if edits:
        table = ",\n    ".join(
            f'({step}, "{layer}", {row}, {column}, {value!r})'
            for step, layer, row, column, value in edits
        )
        replay = (
            f"EDITS = [  # weights set by hand: (before step, layer, row, column, value)\n"
            f"    {table},\n]\n\n\n"
            "def apply_edits(step):\n"
            "    for when, layer, row, column, value in EDITS:\n"
            "        if when == step:\n"
            "            getattr(model, layer).weight.array[row, column] = value\n\n\n"
        )
        loop = (
            "    for step in range(STEPS):\n"
            "        apply_edits(step)\n"
            "        train_step()\n"
            "    apply_edits(STEPS)\n"
        )
    else:
        replay, loop = "", "    for step in range(STEPS):\n        train_step()\n"
    return (
        f'{replay}if __name__ == "__main__":\n{loop}'
        '    print(f"train loss {evaluate(inputs_train, targets_train):.9f}")\n'
        '    print(f"test loss {evaluate(inputs_test, targets_test):.9f}")\n'
        "    print(monitor.report())"
    )
