"""Optimizer: the base of every update rule (SGD, Adam, ...), with PyTorch's interface.

An optimizer holds `param_groups`: a list of dicts, each with its `params` (a list of
leaf Tensors) and its own options (`lr`, `weight_decay`, ...; what a group leaves out
comes from `defaults`). `state[p]` is a dict of per-parameter buffers (momentum,
moment estimates, step count), created on the first step that sees a gradient for p.

`step()` walks every parameter that has a gradient and hands NumPy arrays to the
subclass's `_update(param, grad, state, group)`, which changes `param` in place (so the
Tensor keeps its array and its dtype: float32 stays float32). Parameters whose `.grad`
is None are skipped; `.grad` itself is never modified.

`state_dict()` refers to parameters by their index in the order of `param_groups`, as
PyTorch does, and holds copies of the buffers; `load_state_dict()` restores options,
buffers and step counts exactly, so training resumes bit for bit.

The update rules are PyTorch's, operation for operation; trajectories agree with
PyTorch's to rounding, not always to the last bit (PyTorch's CPU kernels fuse
multiply-adds, NumPy rounds each product).
"""

import numbers

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor
from ..autograd.version import bump


def _check_ordered(params):
    """A set's order changes between runs: the state_dict (by index) could not resume."""
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            f"params must be an ordered collection (a list, a tuple, model.parameters()), got "
            f"a {type(params).__name__}, whose order changes between runs, so a saved "
            "state_dict could not resume; pass a list"
        )


class Optimizer:
    """Base class: subclasses set `defaults` and define `_validate`, `_init_state`, `_update`."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__} expects an iterable of Tensors or of dicts, got a "
                "Tensor; pass [tensor] or model.parameters()"
            )
        _check_ordered(params)
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (missing ones from `defaults`)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a param group needs a 'params' entry")
        _check_ordered(params)
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize Tensors, got {p!r}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__} can't optimize a non-leaf Tensor")
            if p.dtype.kind != "f":
                raise TypeError(f"can only optimize floating-point Tensors, got dtype {p.dtype}")
        for name, value in self.defaults.items():
            group.setdefault(name, value)
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in group["params"]]
        if len(set(ids)) != len(ids):
            raise ValueError("a param group contains the same parameter more than once")
        if seen.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set `.grad` to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array.fill(0)

    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        `closure`, if given, re-evaluates the model and returns the loss (run with
        gradients enabled); `step` returns that loss.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = -p.grad.array if group.get("maximize", False) else p.grad.array
                    state = self.state.get(p)
                    if state is None:
                        state = self.state[p] = self._init_state(p.array, group)
                    self._update(p.array, grad, state, group)
                    bump(p.array)  # a new version: a graph that saved p can't backward
        return loss

    # ----- the three methods a subclass defines -----------------------------------
    def _validate(self, group):
        """Raise ValueError if an option of `group` is out of range."""

    def _init_state(self, param, group):
        """The buffers of one parameter (a dict), before its first update."""
        return {}

    def _update(self, param, grad, state, group):
        """Update the array `param` in place from `grad` (never modified) and `state`."""
        raise NotImplementedError

    def _check(self, ok, name, value, expected):
        if not ok:
            what = f"{type(self).__name__}: invalid {name}={value!r}"
            raise ValueError(f"{what}, expected {expected}")

    def _check_number(self, group, name, low=0.0):
        value = group[name]
        self._check(
            isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= low,
            name,
            value,
            f"a number >= {low}",
        )

    # ----- checkpoints ----------------------------------------------------------------
    def state_dict(self):
        """{"state": {index: buffers}, "param_groups": [options + "params": [indices]]}.

        Indices count parameters across groups in order; buffers are copies.
        """
        groups, state, index = [], {}, 0
        for group in self.param_groups:
            packed = {name: value for name, value in group.items() if name != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            for i, p in zip(packed["params"], group["params"]):
                if p in self.state:
                    state[i] = {k: _copy(v) for k, v in self.state[p].items()}
            index += len(group["params"])
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore options, buffers and step counts saved by `state_dict()`.

        The optimizer must hold the same number of groups and of parameters per group;
        buffers are copied and cast to their parameter's dtype.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("expected a dict with keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"different numbers of parameter groups: {len(saved_groups)} in the state "
                f"dict, {len(self.param_groups)} in the optimizer"
            )
        by_index = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"parameter group {i} has {len(saved['params'])} parameters in the state "
                    f"dict and {len(group['params'])} in the optimizer"
                )
            by_index.update(zip(saved["params"], group["params"]))
        state = {}
        for index, buffers in state_dict["state"].items():
            p = by_index.get(int(index))
            if p is None:
                raise ValueError(f"the state dict has state for unknown parameter index {index}")
            state[p] = {k: _restore(v, p, k) for k, v in buffers.items()}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            restored = {k: v for k, v in group.items() if k != "params"}
            restored.update({k: _copy(v) for k, v in saved.items() if k != "params"})
            restored["params"] = group["params"]
            self._validate(restored)
            new_groups.append(restored)
        self.state, self.param_groups = state, new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _copy(value):
    if isinstance(value, Tensor):
        return value.array.copy()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _restore(value, param, name):
    """A saved buffer as a fresh array of the parameter's dtype (step counts stay numbers)."""
    if isinstance(value, (Tensor, np.ndarray)):
        array = np.array(value.array if isinstance(value, Tensor) else value, dtype=param.dtype)
        if array.shape != param.shape:
            raise ValueError(
                f"state '{name}' has shape {array.shape} but its parameter has shape {param.shape}"
            )
        return array
    return _copy(value)
