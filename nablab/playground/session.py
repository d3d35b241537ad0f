"""One browser session: the exported script's model, optimizer and Monitor, trained step by
step, and the frames the page draws.

The session executes the text of ``export.script`` (its ``__main__`` block does not run), so
what the page trains is, call for call, what the exported file trains. A frame holds the
step and epoch, the train and test loss, the output on a grid × grid square (uint8, base64),
each hidden unit's output on a coarser grid, the weights, each layer's ‖∇W‖ and the Monitor's
findings. Frames are computed with the modules' ``forward`` directly, so the Monitor's
forward hooks see only training batches.
"""

from __future__ import annotations

import base64
import dataclasses
import math

import numpy as np

import nablab as nl
from nablab import nn

from . import datasets, export
from .spec import DEFAULT_LIMITS, Limits, Spec, check_edit

NEURON_STRIDE = 2  # a hidden unit's heatmap samples every 2nd grid point


class SessionError(ValueError):
    """A bad request inside a valid message (a weight that does not exist, a missing CSV)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class Session:
    def __init__(self, spec: Spec, limits: Limits = DEFAULT_LIMITS, points=None):
        """points: the uploaded CSV rows (x1, x2, label) when spec.dataset is csv."""
        if spec.dataset == "csv" and points is None:
            raise SessionError("dataset", "csv needs an uploaded file: use “Upload CSV” first")
        self.spec, self.limits, self.points = spec, limits, points
        self.classes = export.class_count(spec, points)
        namespace = {"__name__": "nablab_playground_session"}
        exec(compile(export.script(spec, points), "<nablab playground>", "exec"), namespace)
        self.ns = namespace
        self.model, self.monitor = namespace["model"], namespace["monitor"]
        self.linears = [(n, m) for n, m in self.model.named_modules() if isinstance(m, nn.Linear)]
        self.outputs = self.classes if self.classes > 2 else 1
        self._drawn = {  # the module whose output is hidden layer i's picture
            f"fc{i}" if act == "linear" else f"act{i}" for i, act in enumerate(spec.act, start=1)
        }
        self.steps = 0
        self.first_seen: dict[tuple, int] = {}  # (kind, layer): the step a finding first fired
        self.grad_norms: dict[str, float] = {}
        self._grid_inputs, self.extent = self._grid()

    # ----- training ----------------------------------------------------------------------
    def train(self, steps: int) -> None:
        """``steps`` calls of the script's train_step; a run that overflows goes on (its loss
        shows as NaN/Inf and the Monitor names the op), so NumPy's warnings are silenced."""
        train_step = self.ns["train_step"]
        with np.errstate(all="ignore"):
            for _ in range(steps):
                self._apply_edits(self.steps)
                train_step()
                self.steps += 1
            norms = {
                name: float(np.linalg.norm(m.weight.grad.array))
                if m.weight.grad is not None
                else 0.0
                for name, m in self.linears
            }
        self.grad_norms = {name: v if math.isfinite(v) else None for name, v in norms.items()}

    def set_weight(self, layer, row, column, value) -> None:
        """Set one link's weight by hand before the next step. The edit joins the state (its
        URL and the exported script replay it before the same step)."""
        edit = (self.steps, layer, row, column, value)
        check_edit(edit, self.spec.weight_shapes())
        spec = dataclasses.replace(self.spec, edits=(*self.spec.edits, edit[:4] + (float(value),)))
        spec.validate(self.limits)
        self.spec = spec
        self._apply_edits(self.steps)

    def _apply_edits(self, step: int) -> None:
        for when, layer, row, column, value in self.spec.edits:
            if when == step:
                getattr(self.model, layer).weight.array[row, column] = value

    def script(self) -> str:
        return export.script(self.spec, self.points, self.steps)

    def close(self) -> None:
        """Remove the Monitor's hooks and its listener on nablab's backward, which would
        otherwise keep the model alive after the page has gone."""
        self.monitor.detach()

    # ----- what the page draws ---------------------------------------------------------------
    def _grid(self):
        X = np.concatenate([self.ns["X_train"], self.ns["X_test"]])
        half = float(np.ceil(np.abs(X).max() * 1.1 * 4) / 4)
        ticks = np.linspace(-half, half, self.limits.grid)
        x1, x2 = np.meshgrid(ticks, -ticks)  # row 0 at the top of the picture: x₂ = +half
        points = np.stack([x1.ravel(), x2.ravel()], axis=1)
        return nl.tensor(datasets.features(points, self.spec.features)), half

    def _forward(self, inputs):
        """The model's output and each activation layer's output, hooks left out."""
        hidden, x = [], inputs
        with nl.no_grad():
            for name, module in self.model.named_children():
                x = module.forward(x)
                if name in self._drawn:
                    hidden.append(x.array)
        return x.array, hidden

    def _loss(self, inputs, targets) -> float | None:
        output, _ = self._forward(inputs)
        with nl.no_grad():
            value = self.ns["loss_fn"](nl.tensor(output), targets).item()
        return value if math.isfinite(value) else None

    def layout(self) -> dict:
        """What stays fixed until the next reset: the points, the shape of the network."""

        def rows(X, y):
            return [[round(float(a), 4), round(float(b), 4), _label(c)] for (a, b), c in zip(X, y)]

        return {
            "query": self.spec.to_query(),
            "classes": self.classes,
            "extent": self.extent,
            "grid": self.limits.grid,
            "neuron_grid": len(range(0, self.limits.grid, NEURON_STRIDE)),
            "features": list(self.spec.features),
            "layers": [len(self.spec.features), *self.spec.hidden, self.outputs],
            "train": rows(self.ns["X_train"], self.ns["y_train"]),
            "test": rows(self.ns["X_test"], self.ns["y_test"]),
        }

    def frame(self) -> dict:
        with np.errstate(all="ignore"):
            return self._frame()

    def _frame(self) -> dict:
        self.model.eval()
        output, hidden = self._forward(self._grid_inputs)
        n_train = len(self.ns["X_train"])
        findings = self._findings()
        return {
            "type": "frame",
            "step": self.steps,
            "epoch": self.steps * self.spec.batch / n_train,
            "train_loss": self._loss(self.ns["inputs_train"], self.ns["targets_train"]),
            "test_loss": self._loss(self.ns["inputs_test"], self.ns["targets_test"]),
            "output": self._encode_output(output),
            "neurons": [
                [
                    _b64(_signed(h[:, j], 0.5 if act == "sigmoid" else 0.0))
                    for j in range(h.shape[1])
                ]
                for h, act in zip(hidden, self.spec.act)
            ],
            "weights": [
                {"name": name, "w": _rounded(m.weight.array), "b": _rounded(m.bias.array)}
                for name, m in self.linears
            ],
            "grad_norms": self.grad_norms,
            "findings": findings,
        }

    def _encode_output(self, output: np.ndarray) -> dict:
        """The output on the grid in [0, 1]: (v + 1)/2 for regression, σ(z) for 2 classes
        ("value"), softmax's class and its probability for more ("class", "confidence");
        "units": each output unit's [0, 1] value on the coarse grid, for the drawing."""
        output = output.astype(np.float64)
        if self.classes <= 2:
            z = output[:, 0]
            value = np.clip((z + 1) / 2, 0, 1) if self.classes == 1 else 1 / (1 + np.exp(-z))
            return {"value": _b64(value), "units": [_b64(_coarse(value))]}
        shifted = np.exp(output - output.max(axis=1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        return {
            "class": base64.b64encode(probabilities.argmax(axis=1).astype(np.uint8)).decode(),
            "confidence": _b64(probabilities.max(axis=1)),
            "units": [_b64(_coarse(p)) for p in probabilities.T],
        }

    def _findings(self) -> list[dict]:
        """The Monitor's findings now, each with the step it first fired in this session and
        the layers it names (its evidence's "layers" where it lists them, else its layer)."""
        found = []
        for f in self.monitor.findings():
            first = self.first_seen.setdefault((f.kind, f.layer), self.steps)
            listed = f.evidence.get("layers")
            layers = listed if isinstance(listed, list) else f.layer.split(", ")
            found.append(
                {"kind": f.kind, "layer": f.layer, "layers": [str(n) for n in layers],
                 "units": [int(u) for u in f.units], "message": f.message,
                 "severity": f.severity, "cause": f.cause, "fix": f.fix, "first_step": first}
            )  # fmt: skip
        return found


def _label(value):
    return (
        int(value) if np.issubdtype(np.asarray(value).dtype, np.integer) else round(float(value), 4)
    )


def _b64(unit_values: np.ndarray) -> str:
    """Values in [0, 1] as uint8 0 … 255, base64."""
    clean = np.nan_to_num(unit_values, nan=0.5)
    return base64.b64encode(np.round(clean * 255).astype(np.uint8).tobytes()).decode()


def _coarse(values: np.ndarray) -> np.ndarray:
    """Values on the grid × grid square, every NEURON_STRIDE-th row and column."""
    side = int(round(math.sqrt(values.size)))
    return values.reshape(side, side)[::NEURON_STRIDE, ::NEURON_STRIDE].ravel()


def _signed(values: np.ndarray, centre: float) -> np.ndarray:
    """A unit's outputs on the coarse grid, less the activation's value at 0 (σ(0) = ½, else 0),
    scaled by the largest magnitude into [0, 1]: 0.5 (white) is that value."""
    values = _coarse(values.astype(np.float64)) - centre
    scale = np.abs(values).max()
    return 0.5 + 0.5 * values / scale if scale > 0 and math.isfinite(scale) else values * 0 + 0.5


def _rounded(array: np.ndarray) -> list:
    return np.round(np.nan_to_num(array.astype(np.float64)), 5).tolist()
