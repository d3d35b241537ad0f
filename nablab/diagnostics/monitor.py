"""Monitor: watch a model train and name what goes wrong, with the numbers that show it.

Two lines in any training loop::

    from nablab.diagnostics import Monitor

    mon = Monitor(model)                      # forward hooks on every leaf layer
    for epoch in range(epochs):
        loss = loss_fn(model(X), y)
        opt.zero_grad()
        loss.backward()
        mon.step()                            # weight-gradient norm of every layer
        opt.step()
    print(mon.report())                       # per-layer statistics and the findings
    mon.detach()                              # remove the hooks

What it records: after every forward of a leaf layer, the mean and standard deviation of
its output, and for ReLU layers the fraction of exactly-zero outputs per unit; at each
``step()``, the Frobenius norm ‖∇W‖ of every parameter named ``weight``. ``findings()``
turns that into named problems (see nablab.diagnostics.findings): zero-gradients,
vanishing-gradients, exploding-gradients, dead-units, symmetric-units, non-finite and,
given ``record_metrics(train, test)`` per epoch, over-fitting. ``guard()`` runs a block under
``detect_anomaly`` and records the first op that produced NaN/Inf (with the layer running
it); ``check_finite(loss)`` does the same for a loss already computed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from ..autograd.grad_mode import AnomalyError, detect_anomaly
from ..autograd.tensor import Tensor
from ..nn.activation import ReLU
from .anomaly import first_nonfinite_op
from .findings import (
    Finding,
    dead_unit_findings,
    gradient_findings,
    overfitting_findings,
    symmetric_unit_findings,
)


@dataclass
class ActivationStats:
    """A leaf layer's output at its last forward; for ReLU layers, per-unit zero statistics."""

    mean: float = float("nan")
    std: float = float("nan")
    zero_fraction: np.ndarray | None = None  # per unit, last forward (ReLU layers)
    zero_streak: np.ndarray | None = None  # per unit, consecutive inputs with output exactly 0
    samples: int = 0  # inputs seen since the unit count last changed


class Monitor:
    """Gradient and activation statistics of ``model``, and the problems they reveal.

    vanishing_ratio: ‖∇W_first‖/‖∇W_last‖ below it is vanishing (above its inverse: exploding).
    exploding_norm: a weight-gradient norm above it is exploding.
    dead_after: a ReLU unit is dead once exactly 0 on this many consecutive inputs (or on
        every input seen, if fewer).
    dead_fraction: dead units are reported when at least this share of a layer is dead.
    overfit_tolerance: how much worse than its best (relative) the test metric must get.
    """

    def __init__(
        self,
        model,
        vanishing_ratio: float = 1e-3,
        exploding_norm: float = 1e3,
        dead_after: int = 256,
        dead_fraction: float = 0.25,
        overfit_tolerance: float = 0.1,
    ):
        self.model = model
        self.vanishing_ratio, self.exploding_norm = vanishing_ratio, exploding_norm
        self.dead_after, self.dead_fraction = dead_after, dead_fraction
        self.overfit_tolerance = overfit_tolerance
        self.layers = _weight_layers(model)
        self.history: list[dict[str, float]] = []
        self.activations: dict[str, ActivationStats] = {}
        self.train_metric: list[float] = []
        self.test_metric: list[float] = []
        self._higher_is_better: bool | None = None
        self._events: dict[tuple, Finding] = {}
        self._running: str | None = None
        self._handles = []
        for name, module in model.named_modules():
            if next(iter(module.children()), None) is None:
                self._watch(name or "(model)", module)

    # ----- recording ---------------------------------------------------------------------
    def _watch(self, name: str, module) -> None:
        stats = self.activations[name] = ActivationStats()
        relu = isinstance(module, ReLU)

        def before(module, inputs):
            self._running = name

        def after(module, inputs, output):
            self._running = None
            out = output[0] if isinstance(output, tuple) else output
            if isinstance(out, Tensor) and out.data.dtype.kind == "f" and out.data.size:
                self._record_output(name, stats, out.data, relu)

        self._handles.append(module.register_forward_pre_hook(before))
        self._handles.append(module.register_forward_hook(after))

    def _record_output(self, name: str, stats: ActivationStats, data: np.ndarray, relu: bool):
        stats.mean, stats.std = float(data.mean()), float(data.std())
        if not (np.isfinite(stats.mean) and np.isfinite(stats.std)):
            self._event(
                "non-finite", name, "the output of this layer holds NaN or Inf", phase="forward"
            )
        if not relu:
            return
        zero = (data == 0).reshape(-1, data.shape[-1] if data.ndim else 1)
        n = zero.shape[0]
        if stats.zero_streak is None or stats.zero_streak.shape[0] != zero.shape[1]:
            stats.zero_streak, stats.samples = np.zeros(zero.shape[1], np.int64), 0
        trailing = np.argmax(~zero[::-1], axis=0)  # zero rows after a unit's last non-zero
        all_zero = zero.all(axis=0)
        stats.zero_streak = np.where(all_zero, stats.zero_streak + n, trailing)
        stats.zero_fraction = zero.mean(axis=0)
        stats.samples += n

    def step(self) -> dict[str, float]:
        """Record ‖∇W‖ (Frobenius, in float64) of every weight with a gradient; call after
        ``backward()``. Returns this step's {layer: norm}."""
        norms = {}
        for name, (weight, _) in self.layers.items():
            if weight.grad is None:
                continue
            g = np.asarray(weight.grad.data, dtype=np.float64)
            norms[name] = float(np.sqrt(np.sum(g * g)))
            if not np.isfinite(norms[name]):
                self._event(
                    "non-finite", name, "its weight gradient holds NaN or Inf", phase="backward"
                )
        self.history.append(norms)
        return norms

    def record_metrics(self, train: float, test: float, higher_is_better: bool = False) -> None:
        """Record one epoch's train and test metric: losses by default, or accuracies
        (``higher_is_better=True``); the same kind at every call."""
        if self._higher_is_better is None:
            self._higher_is_better = higher_is_better
        elif self._higher_is_better != higher_is_better:
            raise ValueError(
                "record_metrics: higher_is_better must stay the same at every call, got "
                f"{higher_is_better} after {self._higher_is_better}"
            )
        self.train_metric.append(float(train))
        self.test_metric.append(float(test))

    @contextlib.contextmanager
    def guard(self):
        """Run the block under ``detect_anomaly``; on NaN/Inf record which op (and layer)
        produced it first, then re-raise the AnomalyError."""
        try:
            with detect_anomaly():
                yield self
        except AnomalyError as e:
            layer = self._running if e.phase == "forward" and self._running else e.op
            self._event(
                "non-finite",
                layer,
                f"the {e.phase} of '{e.op}' produced NaN or Inf from finite inputs",
                op=e.op,
                phase=e.phase,
            )
            raise
        finally:
            self._running = None

    def check_finite(self, loss) -> bool:
        """True if ``loss`` is finite; else record the first op of its graph that produced
        NaN/Inf and return False. Call it before ``backward()``."""
        if np.all(np.isfinite(np.asarray(loss.data))):
            return True
        origin = first_nonfinite_op(loss)
        op, shape = origin if origin else ("unknown", tuple(loss.shape))
        self._event(
            "non-finite",
            op,
            f"the loss is not finite; the first op producing NaN or "
            f"Inf from finite inputs is '{op}' (output shape {shape})",
            op=op,
            phase="forward",
            shape=list(shape),
        )
        return False

    def _event(self, kind: str, layer: str, message: str, **evidence) -> None:
        key = (kind, layer, evidence.get("phase"))
        if key not in self._events:
            self._events[key] = Finding(kind, layer, message, evidence)

    # ----- findings ----------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        """Every problem the recorded statistics show, most basic first (NaN/Inf, gradients,
        units, then over-fitting)."""
        found = list(self._events.values())
        latest = self.history[-1] if self.history else {}
        if latest and all(np.isfinite(v) for v in latest.values()):
            found += gradient_findings(latest, self.vanishing_ratio, self.exploding_norm)
        for name, stats in self.activations.items():
            if stats.zero_streak is not None:
                found += dead_unit_findings(
                    name, stats.zero_streak, stats.samples, self.dead_after, self.dead_fraction
                )
        for name, (weight, bias) in self.layers.items():
            found += symmetric_unit_findings(name, weight.data, None if bias is None else bias.data)
        found += overfitting_findings(
            self.train_metric,
            self.test_metric,
            bool(self._higher_is_better),
            self.overfit_tolerance,
        )
        return found

    def report(self) -> str:
        """Plain text: the last step's gradient norms, the last activations, the findings."""
        latest = self.history[-1] if self.history else {}
        lines = [f"Monitor: {len(self.layers)} weight layers, {len(self.history)} steps recorded"]
        if latest:
            lines.append(f"  {'layer':<16}{'‖∇W‖ (last step)':>18}")
            lines += [f"  {name:<16}{norm:>18.3e}" for name, norm in latest.items()]
        if any(s.samples or np.isfinite(s.mean) for s in self.activations.values()):
            lines.append(f"  {'output of':<16}{'mean':>11}{'std':>11}{'zero units':>12}")
            for name, s in self.activations.items():
                dead = "" if s.zero_fraction is None else f"{int(np.sum(s.zero_fraction == 1))}"
                lines.append(f"  {name:<16}{s.mean:>11.3g}{s.std:>11.3g}{dead:>12}")
        found = self.findings()
        lines.append("Findings:" if found else "Findings: none")
        lines += [f"  {f}" for f in found]
        return "\n".join(lines)

    def detach(self) -> None:
        """Remove every hook from the model; the recorded statistics stay."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc) -> None:
        self.detach()


def _weight_layers(model) -> dict[str, tuple]:
    """{layer name: (weight, bias or None)} for every module with a parameter named weight,
    in registration order (input layer first)."""
    layers = {}
    for name, module in model.named_modules():
        params = dict(module.named_parameters(recurse=False))
        if params.get("weight") is not None:
            layers[name or "(model)"] = (params["weight"], params.get("bias"))
    return layers
