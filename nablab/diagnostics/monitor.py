"""Monitor: watch a model train and name what goes wrong, with the cause and the fix.

In any training loop::

    from nablab.diagnostics import Monitor

    mon = Monitor(model)
    for epoch in range(epochs):
        loss = loss_fn(model(X), y)
        mon.check_finite(loss)                # the loss, NaN/Inf, what feeds the loss
        opt.zero_grad()
        loss.backward()
        mon.step()                            # gradients of this step
        opt.step()
    print(mon.report())                       # statistics and the findings
    mon.detach()                              # remove the hooks

What it records, on sampled steps (0, 4, 8, 16, 32, then every ``every``-th, sparser as a
long run goes on: ``Monitor.spacing``; the other steps cost a counter): ‖∇W‖ and ‖W‖ of
every weight matrix (every parameter with two or more dimensions, recurrent weights
included), ‖∇p‖/‖p‖ of every parameter, a copy of the weights and gradients; at the step
after it, how far each weight moved (‖ΔW‖/‖W‖) and whether backward added into the sampled
step's .grad (a forgotten zero_grad: nablab.autograd calls the Monitor's listener when
backward adds into an existing .grad). Forward hooks on the ReLU/sigmoid/tanh layers are on
only for the forwards of sampled steps (activity.py: dead and saturated units).
``check_finite(loss)`` records every loss, where a NaN/Inf first appears (the op), and on
sampled steps whether a sigmoid/softmax feeds a logits loss. ``guard()`` finds the op and
layer of a NaN under detect_anomaly. ``record_metrics(train, test)`` per epoch. Records are
thinned to ``capacity`` entries, so memory is bounded. ``findings()`` runs the rules of
rules.RULES over ``record()``, what was recorded.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from ..autograd import tensor as tensor_module
from ..autograd.grad_mode import AnomalyError, detect_anomaly
from ..autograd.tensor import Tensor
from ..nn.embedding import Embedding
from .activity import record_output, watch
from .anomaly import first_nonfinite_op
from .display import monitor_html
from .findings import Finding
from .loss_rules import loss_is_flat
from .record import Thinned
from .rules import Record, run_rules
from .setup_rules import LOGITS_LOSSES

SAMPLES_PER_DOUBLING = 16


class Monitor:
    """Gradient, weight, activation and loss statistics of ``model``, and the problems
    they reveal (see nablab.diagnostics.findings for the list).

    every: the sampling period, in steps: gradients, weights and activations are recorded
        on every ``every``-th step (the first included, and steps 4, 8, 16… below
        ``every``) and the step after it, over the first 32·``every`` steps; then twice as
        far apart each time the run doubles (``spacing``). The loss is recorded at every
        ``check_finite``. ``every=1`` records every step, however long the run (see
        benchmarks/README.md for the cost of each: benchmarks/bench_monitor.py).
    dead_after: a ReLU unit is dead once exactly 0 on this many consecutive sampled inputs
        (or on every input seen, if fewer).
    dead_fraction, saturated_fraction: dead (saturated) units are reported when at least this
        share of a layer is dead (saturated); fewer are the ordinary cost of the activation.
    overfit_tolerance: how much the train/test gap must grow, relative to the best test value.
    capacity: the most steps (and losses, and epochs) kept; longer runs are thinned.
    """

    def __init__(
        self,
        model,
        every: int = 64,
        dead_after: int = 256,
        dead_fraction: float = 0.5,
        saturated_fraction: float = 0.5,
        overfit_tolerance: float = 0.1,
        capacity: int = 4096,
    ):
        if every < 1:
            raise ValueError(f"Monitor: every must be a positive number of steps, got {every}")
        self.model, self.every = model, every
        self.dead_after, self.dead_fraction = dead_after, dead_fraction
        self.saturated_fraction, self.overfit_tolerance = saturated_fraction, overfit_tolerance
        self.params = dict(model.named_parameters())
        self.matrices = [n for n, p in self.params.items() if p.ndim >= 2]
        self._matrix_set = set(self.matrices)
        self._norms: dict[str, float] = {}  # ‖p‖ at the last sampled step
        self.layers = _weight_layers(model)
        self._history_keys = {
            f"{layer}.weight" if layer != "(model)" else "weight": layer for layer in self.layers
        }
        self.steps = 0
        self._grads = Thinned(capacity)  # per sampled step: ‖∇W‖ of each matrix (−1: none)
        self._weights = Thinned(capacity)  # per sampled step: ‖W‖ of each matrix
        self.losses = Thinned(capacity)
        self._updates = Thinned(capacity)  # per optimizer step checked: _movement()
        self._loss_count = 0
        self.metrics = Thinned(capacity)
        self._last_metric: tuple | None = None
        self._higher_is_better: bool | None = None
        self._first: dict[str, np.ndarray] = {}
        self._largest_step = dict.fromkeys(self.params, 0.0)  # max ‖∇p‖/‖p‖ seen
        self._saved: dict[int, tuple[str, np.ndarray]] = {}  # id(param): (name, its grad)
        self._saved_weights: dict[str, np.ndarray] = {}
        self._pair_open = False  # a sampled step waits for the next one to compare with
        self._next_sample = 0
        self._moved_ever: set[str] = set()
        self._sampled_at = 0
        self._accumulated: dict[str, int] = {}
        self._pending: set[str] = set()  # accumulated into at the backward after a sample
        self._pairs = 0
        self._logits_inputs = {"count": 0, "seen": 0, "loss": "", "input": ""}
        self._events: dict[tuple, Finding] = {}
        self._handles: list = []
        self._leaves = [(n or "(model)", m) for n, m in model.named_modules() if _is_leaf(m)]
        output = self._leaves[-1][0] if self._leaves else None
        self._watched = [
            (name, module, stats)
            for name, module in self._leaves
            if (stats := watch(module, name == output)) is not None
        ]
        self.activations = {name: stats for name, _, stats in self._watched}
        self._attached = True
        tensor_module.accumulate_listeners.append(self._on_accumulate)
        self._hook_forwards()

    # ----- recording ---------------------------------------------------------------------
    def _hook_forwards(self) -> None:
        """Forward hooks on the activation layers, for the forwards of a sampled step."""
        if self._handles:
            return
        for _, module, stats in self._watched:
            self._handles.append(module.register_forward_hook(self._recorder(stats)))

    def _unhook_forwards(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _recorder(self, stats):
        def after(module, inputs, output):
            if isinstance(output, Tensor) and output.array.dtype.kind == "f" and output.array.size:
                record_output(stats, output.array)

        return after

    def _on_accumulate(self, tensor) -> None:
        saved = self._saved.get(id(tensor))
        if saved is not None and np.array_equal(tensor.grad.array, saved[1]):
            self._pending.add(saved[0])

    def step(self) -> dict[str, float]:
        """Record this step's gradients; call after ``backward()``. On a sampled step (see
        ``sampled``) returns {layer: ‖∇W‖} (Frobenius, float64) for every layer with a
        ``weight`` that has a gradient; on the others, {} (``every=1`` samples every step)."""
        t = self.steps
        self.steps = t + 1
        if self._pair_open:
            self._close_pair()
        if t != self._next_sample:  # the common case: a counter and a comparison
            if self.steps == self._next_sample and self._attached:
                self._hook_forwards()
            return {}
        self._next_sample = self._sample_after(t)
        sampled_next = self.steps == self._next_sample
        grads = self._sample(t)
        norms = np.array([grads.get(n, -1.0) for n in self.matrices])
        if not np.isfinite(norms).all():
            bad = self.matrices[int(np.flatnonzero(~np.isfinite(norms))[0])]
            self._nonfinite(bad, "its weight gradient holds NaN or Inf", "backward", "")
        self._grads.add(t, norms)
        self._weights.add(t, np.array([self._norms.get(n, np.nan) for n in self.matrices]))
        if not sampled_next:
            self._unhook_forwards()
        return {
            self._history_keys[n]: float(v)
            for n, v in zip(self.matrices, norms)
            if n in self._history_keys and v >= 0
        }

    def sampled(self, t: int) -> bool:
        """Whether step ``t`` is sampled: the powers of two from 4 below ``every`` (problems
        often start early; short runs get samples), then every ``spacing(t)``-th step."""
        return t % self.spacing(t) == 0 or (4 <= t < self.every and t & (t - 1) == 0)

    def spacing(self, t: int) -> int:
        """The steps between samples around step ``t``: ``every`` for the first
        ``SAMPLES_PER_DOUBLING``·2·``every`` steps, then doubling each time the run doubles,
        so a run of any length has ``SAMPLES_PER_DOUBLING`` samples per doubling of its
        length (the cost per step falls as the run grows; every stretch is still seen).
        ``every=1`` asks for every step: it is never thinned out."""
        if self.every == 1:
            return 1
        return self.every << (t // (2 * SAMPLES_PER_DOUBLING * self.every)).bit_length()

    def _sample_after(self, t: int) -> int:
        """The first sampled step after ``t``."""
        doubled = max(4, 1 << t.bit_length())  # the next power of two above t, from 4
        spacing = self.spacing(t)
        return doubled if doubled < self.every else (t // spacing + 1) * spacing

    def _sample(self, t: int) -> dict[str, float]:
        """A sampled step: the first values, copies of the gradients (and of the weights of
        the matrices and of what has not moved yet) to compare with at the next step, ‖∇p‖ and
        ‖p‖ of those. Returns {name: ‖∇p‖}."""
        self._sampled_at, grads, self._norms, self._pair_open = t, {}, {}, True
        for name, p in self.params.items():
            if t == 0:
                self._first[name] = p.array.copy()
            if p.grad is None:
                continue
            self._saved[id(p)] = (name, p.grad.array.copy())
            still = name not in self._moved_ever
            if still or name in self._matrix_set:
                self._saved_weights[name] = p.array.copy()
                grads[name], self._norms[name] = _norm(p.grad.array), _norm(p.array)
            if still:
                step = _relative(grads[name], self._norms[name])
                self._largest_step[name] = max(self._largest_step[name], step)
        return grads

    def _close_pair(self) -> None:
        """At the step after a sampled one: if some parameter moved (an optimizer step ran),
        record the update sizes and whether backward added into the sampled .grad."""
        moved, size = self._movement()
        self._moved_ever |= moved
        if moved:  # else no optimizer step in between: accumulation on purpose
            self._pairs += 1
            self._updates.add(self._pairs - 1, size)
            for name in self._pending & self._moved_ever:  # the never stepped are "unchanged"
                self._accumulated[name] = self._accumulated.get(name, 0) + 1
        self._pair_open = False
        self._pending.clear()
        self._saved.clear()
        self._saved_weights.clear()

    def _movement(self) -> tuple[set[str], tuple[int, float, str]]:
        """(parameters that moved since the sample, (sampled step, largest ‖ΔW‖/‖W‖ over the
        matrices, its layer))."""
        moved, largest, where = set(), 0.0, ""
        for name, saved in self._saved_weights.items():
            change = self.params[name].array - saved
            if not change.any():
                continue
            moved.add(name)
            if name in self._matrix_set and self._norms.get(name, 0) > 0:
                size = _norm(change) / self._norms[name]
                if not size <= largest:  # NaN counts as the largest
                    largest, where = size, name
        return moved, (self._sampled_at, largest, _short(where))

    @property
    def history(self) -> list[dict[str, float]]:
        """{layer: ‖∇W‖} per recorded step (every step until ``capacity``, then thinned)."""
        return [
            {
                self._history_keys[n]: float(v)
                for n, v in zip(self.matrices, row)
                if n in self._history_keys and v >= 0
            }
            for row in self._grads.values
        ]

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
        epoch = self._last_metric[0] + 1 if self._last_metric else 0
        self._last_metric = (epoch, float(train), float(test))
        self.metrics.add(epoch, (float(train), float(test)))

    def _epochs(self) -> tuple[list[int], list[float], list[float]]:
        """(epochs, train, test) kept, the latest epoch always included."""
        epochs, values = list(self.metrics.steps), list(self.metrics.values)
        if self._last_metric and (not epochs or epochs[-1] != self._last_metric[0]):
            epochs.append(self._last_metric[0])
            values.append(self._last_metric[1:])
        return epochs, [v[0] for v in values], [v[1] for v in values]

    @property
    def train_metric(self) -> list[float]:
        return self._epochs()[1]

    @property
    def test_metric(self) -> list[float]:
        return self._epochs()[2]

    @contextlib.contextmanager
    def guard(self):
        """Run the block under ``detect_anomaly``; on NaN/Inf record which op (and layer)
        produced it first, then re-raise the AnomalyError. (Slow: for finding a NaN's
        origin, not for every step.)"""
        running = []
        handles = [
            module.register_forward_pre_hook(lambda m, inputs, name=name: running.append(name))
            for name, module in self._leaves
        ]
        try:
            with detect_anomaly():
                yield self
        except AnomalyError as e:
            layer = running[-1] if e.phase == "forward" and running else e.op
            self._nonfinite(
                layer,
                f"the {e.phase} of '{e.op}' produced NaN or Inf from finite inputs",
                e.phase,
                e.op,
            )
            raise
        finally:
            for handle in handles:
                handle.remove()

    def check_finite(self, loss) -> bool:
        """Record the loss and what feeds it; True if it is finite, else record the first op
        of its graph that produced NaN/Inf and return False. Call it before ``backward()``."""
        data = loss.array
        value = float(data) if data.ndim == 0 else float(data.mean()) if data.size else 0.0
        self.losses.add(self._loss_count, value)
        self._loss_count += 1
        if self.steps == self._next_sample:
            self._check_loss_input(loss)
        if math.isfinite(value):
            return True
        origin = first_nonfinite_op(loss)
        op, shape = origin if origin else ("unknown", tuple(loss.shape))
        self._nonfinite(
            op,
            f"the loss is not finite at step {self.steps}; the first op producing NaN or Inf "
            f"from finite inputs is '{op}' (output shape {shape})",
            "forward",
            op,
            shape=list(shape),
        )
        return False

    def _check_loss_input(self, loss) -> None:
        """Count a logits loss (reached through at most 3 ops of one graphed input each, as
        in ``loss * 0.5``) whose input is a sigmoid (softmax) output."""
        node = loss.grad_fn
        try:
            for _ in range(3):
                if node is None or node.op in LOGITS_LOSSES:
                    break
                graphed = [n for n, _ in node.next_functions if n is not None and n.op]
                if len(graphed) != 1:
                    return
                node = graphed[0]
            squash = LOGITS_LOSSES.get(node.op) if node is not None else None
            if squash is None:
                return
            source = node.inputs[0].grad_fn if node.inputs else None
        except RuntimeError:  # check_finite after backward: the graph is freed
            return
        self._logits_inputs["seen"] += 1
        if source is not None and source.op == squash:
            self._logits_inputs.update(loss=node.op, input=squash)
            self._logits_inputs["count"] += 1

    def _nonfinite(self, layer: str, message: str, phase: str, op: str, **extra) -> None:
        key = ("non-finite", layer, phase)
        if key in self._events:
            return
        domain = op in ("log", "div", "sqrt", "pow", "reciprocal")
        self._events[key] = Finding(
            "non-finite",
            layer,
            message,
            {"op": op, "phase": phase, "step": self.steps, **extra},
            "error",
            "a log, square root or division met 0 or a negative number"
            if domain
            else "values overflowed: weights or activations grew without bound, usually from "
            "a learning rate too large",
            "clamp the argument (log(p.clamp(min=1e-7))) or use the fused loss "
            "(BCEWithLogitsLoss, CrossEntropyLoss)"
            if domain
            else "lower the learning rate, clip the gradient norm, and stop at the first "
            "check_finite(loss) that is False",
        )

    # ----- findings ----------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        """Every problem the recorded statistics show: the rules of
        nablab.diagnostics.rules.RULES in order, most basic first (NaN/Inf and loop
        mistakes, gradients, units, the loss, then over-fitting)."""
        return run_rules(self.record())

    def record(self) -> Record:
        """What has been recorded so far, as the rules read it."""
        names = list(self.params)
        grad, weight = np.array(self._grads.values), np.array(self._weights.values)
        if not self._grads.steps:
            grad = weight = np.zeros((0, len(self.matrices)))
        updates = list(self._updates.values)
        if self._pair_open:  # the run stopped right after a sampled step
            updates.append(self._movement()[1])
        epochs, train, test = self._epochs()
        li = self._logits_inputs
        return Record(
            steps=self.steps,
            events=list(self._events.values()),
            parameters=names,
            moved=[
                n not in self._first or not np.array_equal(self._first[n], self.params[n].array)
                for n in names
            ],
            largest_step=[self._largest_step[n] for n in names],
            frozen=[not self.params[n].requires_grad for n in names],
            loss_falls=self._loss_falls(),
            accumulated=dict(self._accumulated),
            pairs=self._pairs,
            logits_loss=li["loss"],
            logits_input=li["input"],
            logits_count=li["count"],
            logits_seen=li["seen"],
            matrices=[_short(n) for n in self.matrices],
            numel=np.array([self.params[n].array.size for n in self.matrices]),
            grad_steps=list(self._grads.steps),
            grad=grad,
            weight=weight,
            updates=updates,
            activations=list(self.activations.items()),
            units={
                n: (w.array, None if b is None else b.array) for n, (w, b) in self.layers.items()
            },
            loss_steps=list(self.losses.steps),
            losses=list(self.losses.values),
            epochs=epochs,
            train=train,
            test=test,
            higher_is_better=bool(self._higher_is_better),
            dead_after=self.dead_after,
            dead_fraction=self.dead_fraction,
            saturated_fraction=self.saturated_fraction,
            overfit_tolerance=self.overfit_tolerance,
        )

    def _loss_falls(self) -> bool | None:
        """Whether the loss fell (see loss_is_flat); None with too few losses."""
        flat = loss_is_flat(self.losses.values)
        return None if flat is None else not flat

    def report(self) -> str:
        """Plain text: the last step's gradient norms, the sampled activations, the findings
        with their causes and fixes."""
        history = self.history
        latest = history[-1] if history else {}
        lines = [
            f"Monitor: {len(self.layers)} weight layers, {self.steps} steps recorded "
            f"({len(history)} sampled, every {self.every})"
        ]
        if latest:
            lines.append(f"  {'layer':<16}{'‖∇W‖ (last sampled step)':>26}")
            lines += [f"  {name:<16}{norm:>26.3e}" for name, norm in latest.items()]
        if any(s.samples for s in self.activations.values()):
            lines.append(f"  {'output of':<16}{'inputs seen':>12}{'units 0 on all':>16}")
            for name, s in self.activations.items():
                dead = "" if s.zero_now is None else f"{int(s.zero_now.sum())}"
                lines.append(f"  {name:<16}{s.samples:>12}{dead:>16}")
        found = self.findings()
        lines.append("Findings:" if found else "Findings: none")
        for f in found:
            lines.append(f"  [{f.kind}] ({f.severity}) {f.layer}: {f.message}")
            lines += [f"      cause: {f.cause}", f"      fix: {f.fix}"] if f.cause else []
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The report as HTML (in a notebook): gradient norms and the findings."""
        return monitor_html(self)

    def detach(self) -> None:
        """Remove every hook from the model; the recorded statistics stay."""
        self._attached = False
        self._unhook_forwards()
        if self._on_accumulate in tensor_module.accumulate_listeners:
            tensor_module.accumulate_listeners.remove(self._on_accumulate)

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc) -> None:
        self.detach()


def _is_leaf(module) -> bool:
    return next(iter(module.children()), None) is None


def _norm(a: np.ndarray) -> float:
    """‖a‖ (Frobenius), summed in a's precision and again in float64 if that overflowed."""
    flat = a.ravel()
    total = float(np.dot(flat, flat))
    if math.isinf(total) and flat.dtype != np.float64:
        flat = flat.astype(np.float64)
        total = float(np.dot(flat, flat))
    return math.sqrt(total) if total == total else math.nan


def _relative(grad: float, weight: float) -> float:
    """‖∇p‖/‖p‖, +∞ for a zero parameter with a gradient, 0 without one."""
    if grad <= 0:
        return 0.0
    return grad / weight if weight > 0 else math.inf


def _short(name: str) -> str:
    """A matrix's name as a layer name: "fc1.weight" → "fc1"; recurrent ones stay whole."""
    return name[: -len(".weight")] if name.endswith(".weight") else name


def _weight_layers(model) -> dict[str, tuple]:
    """{layer name: (weight, bias or None)} for every module with a matrix named weight whose
    rows are units (not an Embedding's rows of tokens), in registration order."""
    layers = {}
    for name, module in model.named_modules():
        params = dict(module.named_parameters(recurse=False))
        weight = params.get("weight")
        if weight is not None and weight.ndim >= 2 and not isinstance(module, Embedding):
            layers[name or "(model)"] = (weight, params.get("bias"))
    return layers
