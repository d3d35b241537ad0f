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

from . import datasets
from .spec import Spec

ACTIVATION_MODULES = {
    "relu": "nn.ReLU()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "leaky_relu": "nn.LeakyReLU(0.01)",
    "linear": None,  # no activation: the layer stays linear
}


def class_count(spec: Spec, points: np.ndarray | None = None) -> int:
    """Output classes: 1 for regression (one output), else 2 or more."""
    if spec.regression:
        return 1
    if spec.dataset == "csv":
        return int(points[:, 2].max()) + 1
    return spec.classes if spec.dataset in datasets.MULTI_CLASS else 2


def script(spec: Spec, points: np.ndarray | None = None, steps: int = 0, edits=()) -> str:
    """The script text. points: the uploaded CSV rows (x1, x2, label) when dataset is csv;
    edits: (step, layer, row, column, value) weights set by hand, replayed at their step."""
    classes = class_count(spec, points)
    parts = [
        _header(spec, steps, classes),
        _data(spec, points),
        _model(spec, classes),
        _training(spec, classes),
        _main(edits),
    ]
    return "\n\n".join(parts) + "\n"


def _header(spec: Spec, steps: int, classes: int) -> str:
    task = "regression" if classes == 1 else f"{classes}-class classification"
    return f'''"""nablab playground export: {spec.dataset} ({task}),
hidden layers {list(spec.hidden)}, {spec.optimizer} at lr {spec.lr!r}, {steps} training steps.

Run `python this_file.py`: it trains for STEPS steps and prints the train and test loss, which
match the playground's after the same number of steps, then the Monitor's report.
Playground state: ?{spec.to_query()}
"""

from collections import OrderedDict

import numpy as np

import nablab as nl
from nablab import data, nn, optim
from nablab.data import DataLoader, TensorDataset
from nablab.diagnostics import Monitor

SEED = {spec.seed}
STEPS = {steps}
FEATURES = {list(spec.features)!r}'''


def _data(spec: Spec, points: np.ndarray | None) -> str:
    if spec.dataset == "csv":
        rows = ",\n    ".join(f"[{x1!r}, {x2!r}, {int(c)}]" for x1, x2, c in points.tolist())
        make = (
            f"POINTS = np.array([\n    {rows},\n])  # the uploaded CSV: x1, x2, label\n"
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
        f"model = nn.Sequential(OrderedDict([\n{listing}]))\n" + _init(spec)
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
    decay = f", weight_decay={spec.wd!r}, decoupled=True" if spec.wd else ""
    optimizer = {
        "sgd": f"optim.SGD(model.parameters(), lr={spec.lr!r}{decay})",
        "momentum": f"optim.SGD(model.parameters(), lr={spec.lr!r}, momentum=0.9{decay})",
        "adam": (
            f"optim.AdamW(model.parameters(), lr={spec.lr!r}, weight_decay={spec.wd!r} / "
            f"{spec.lr!r})  # decoupled: θ ← (1 − {spec.wd!r})θ − the Adam step"
            if spec.wd
            else f"optim.Adam(model.parameters(), lr={spec.lr!r})"
        ),
    }[spec.optimizer]
    penalty = (
        f" + {spec.reg_rate!r} * nn.{spec.reg}_penalty(model)"
        if spec.reg != "none" and spec.reg_rate
        else ""
    )
    return f"""loss_fn = {loss}
optimizer = {optimizer}
loader = DataLoader(
    TensorDataset(inputs_train, targets_train),
    batch_size={spec.batch},
    shuffle=True,
    generator=np.random.default_rng(SEED + 1),
)
monitor = Monitor(model)


def batches():
    while True:  # one epoch after another
        yield from loader


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


def _main(edits) -> str:
    if edits:
        table = ",\n    ".join(
            f"({step}, {layer!r}, {row}, {column}, {value!r})"
            for step, layer, row, column, value in edits
        )
        replay = (
            f"EDITS = [  # weights set by hand: (before step, layer, row, column, value)\n"
            f"    {table},\n]\n\n\n"
            "def apply_edits(step):\n"
            "    for when, layer, row, column, value in EDITS:\n"
            "        if when == step:\n"
            "            getattr(model, layer).weight.data[row, column] = value\n\n\n"
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
