"""Tensor: an ndarray (`.array`), its gradient (`.grad`) and its place in the graph.

`.array` is the engine's own ndarray (every op reads it); `.data` is PyTorch's: a Tensor
sharing that memory, cut from the graph.

A Tensor made by an op is also the graph node of that op (see nablab.autograd.graph):
`_parents` are its inputs and `_backward(δ_Z)` returns one gradient per input. A leaf has
`_parents == ()`; a node whose graph was freed by `backward()` has `_parents is None`.
`grad_fn` is the public view of the node.

The operators and the methods named like ops (`x + y`, `x.sum()`) are attached by
nablab.ops from its one table, `nablab.ops.methods.TENSOR_METHODS`: this module knows
no op.
"""

import numpy as np

from .. import devices, dtypes
from . import version
from .grad_mode import AnomalyError, mode
from .graph import clock, gc_pause, grad_fn, run_backward

_new = object.__new__
_NO_GRAPH = (False, (), None, "", 0)  # requires_grad, _parents, _backward, _op, _seq
accumulate_listeners = []  # f(tensor) before backward adds into its existing .grad


class Tensor:
    __slots__ = (
        *("array", "grad", "requires_grad"),
        *("_parents", "_backward", "_op", "_seq"),  # the graph node: see run_backward
        "__weakref__",
    )
    # NumPy defers to Tensor's reflected operators: ndarray * Tensor -> Tensor.
    __array_ufunc__ = None

    def __init__(self, data, dtype=None, requires_grad=False):
        self.array = as_array(data, dtype)
        self.grad = None
        self.requires_grad = False
        self._parents, self._backward, self._op, self._seq = (), None, "", 0
        if requires_grad:
            self.requires_grad_()

    @staticmethod
    def _wrap(array):
        """A leaf around `array`, no copy, no checks (the engine's fast constructor; outside
        the engine, `from_numpy`)."""
        t = _new(Tensor)
        t.array, t.grad, t.requires_grad = array, None, False
        t._parents, t._backward, t._op, t._seq = (), None, "", 0
        return t

    # ----- attributes ---------------------------------------------------------
    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    is_leaf = property(lambda self: self._parents == ())
    grad_fn = property(grad_fn, doc="The op that made this tensor (a graph.Node), or None")

    @property
    def data(self):
        """PyTorch's `.data`: a Tensor sharing this one's memory, cut from the graph; what is
        written through it is not counted by the version counters (`detach()`'s is)."""
        t = _new(_Data)
        t.array, t.grad, t.requires_grad = self.array, None, False
        t._parents, t._backward, t._op, t._seq = (), None, "", 0
        return t

    @data.setter
    def data(self, value):
        self.array = value.array if isinstance(value, Tensor) else as_array(value)

    _version = property(
        lambda self: version.version(self.array),
        doc="How many in-place changes this tensor's memory has seen (nablab.autograd.version)",
    )
    _tracked = True  # in-place changes count a version (not through .data)
    device = property(lambda self: devices.CPU, doc="Always device('cpu'): nablab runs on the CPU")

    def size(self, dim=None):
        return self.array.shape if dim is None else self.array.shape[dim]

    def dim(self):
        return self.array.ndim

    def numel(self):
        return self.array.size

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ----- conversion -----------------------------------------------------------
    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        """Raises the one CPU-only error: nablab has no CUDA."""
        devices.cpu("cuda")

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a Tensor that requires grad; use tensor.detach().numpy()"
            )
        return self.array

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype, copy=False)

    def item(self):
        if self.array.size != 1:
            raise ValueError(
                f"a Tensor with {self.array.size} elements cannot be converted to a scalar"
            )
        return self.array.item()

    def tolist(self):
        return self.array.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.array.dtype.kind not in "iub":
            raise TypeError(
                f"only integer tensors of a single element can be an index, got {self.dtype}"
            )
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"Boolean value of a Tensor with {self.array.size} values is ambiguous"
            )
        return bool(self.array)

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(
            self.array, separator=", ", prefix="tensor(", formatter=_formatter(self.array)
        )
        extras = ""
        if self.array.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extras += f", dtype=nablab.{self.array.dtype}"
        if self._op:
            extras += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ----- autograd -------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only floating point tensors can require gradients, got dtype {self.array.dtype}"
            )
        if not self.is_leaf:
            raise RuntimeError("requires_grad can only be changed on leaf tensors; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same data, cut from the graph (shares memory, like PyTorch)."""
        return Tensor._wrap(self.array)

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) · grad into every leaf's `.grad`.

        `grad` (δ of this tensor) may be omitted only for a one-element tensor.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if grad is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this tensor has "
                    f"shape {self.array.shape}: pass backward(grad) with a gradient of that shape"
                )
            g = np.ones(self.array.shape, self.array.dtype)
        else:
            g = as_array(grad, self.array.dtype)
            if g.shape != self.array.shape:
                raise RuntimeError(
                    f"backward: grad has shape {g.shape} but the tensor has shape "
                    f"{self.array.shape}"
                )
        run_backward(self, g, retain_graph)

    def _accumulate_grad(self, g, owned=False):
        """.grad += g. `owned`: g is a fresh array nothing else refers to, kept without a copy.
        Before adding into an existing .grad, calls every listener in `accumulate_listeners`
        with this tensor (nablab.diagnostics finds a forgotten zero_grad that way)."""
        if self.grad is not None:
            for listener in accumulate_listeners:
                listener(self)
            self.grad.array += g
        elif owned and g.dtype == self.array.dtype and g.shape == self.array.shape:
            self.grad = Tensor._wrap(g)
        else:
            self.grad = Tensor._wrap(
                np.array(np.broadcast_to(g, self.array.shape), self.array.dtype)
            )


class _Data(Tensor):
    """What `.data` gives: a Tensor whose in-place changes are not counted."""

    __slots__ = ()
    _tracked = False


def _formatter(x):
    """PyTorch's float style: `1.` for whole numbers, else 4 decimals, or 4-digit scientific
    when the nonzero magnitudes span over 1000x, pass 1e8 or (not whole) go below 1e-4;
    every element padded to the widest."""
    if x.dtype.kind != "f" or x.size == 0:
        return None
    nonzero = np.abs(x[np.isfinite(x) & (x != 0)]).astype(np.float64)  # float16 overflows at 1e8
    wide = nonzero.size > 0 and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8)
    if np.all(nonzero == np.round(nonzero)):
        style = "{:.4e}" if wide else "{:.0f}."
    else:
        style = "{:.4e}" if wide or nonzero.min() < 1e-4 else "{:.4f}"

    def fmt(v):
        return style.format(v) if np.isfinite(v) else str(v)

    width = max(len(fmt(v)) for v in x.flat)
    return {"float_kind": lambda v: fmt(v).rjust(width)}


def as_array(data, dtype=None):
    """An ndarray for `data`, with PyTorch's default dtypes (floats -> default float)."""
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        arr = np.array(data)
    else:
        arr = np.array(data)
        if arr.dtype.kind == "f":
            arr = arr.astype(dtypes.get_default_dtype())
    kind = arr.dtype.kind
    if kind in "iu" and not isinstance(data, np.ndarray):
        arr = arr.astype(dtypes.int64)
    elif kind not in "fiub":
        raise TypeError(f"can't make a tensor from {type(data).__name__} data of dtype {arr.dtype}")
    return arr


def from_numpy(array):
    """A leaf Tensor sharing memory with `array` (an ndarray or anything np.asarray takes;
    its dtype kept)."""
    return Tensor._wrap(np.asarray(array))


def record(data, parents, backward, op):
    """The output Tensor of an op; a graph node if recording and any input requires grad."""
    out = _new(Tensor)
    out.array = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    if mode.grad_enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                out._op = op
                out._seq = seq = next(clock)
                if seq > gc_pause.resume_at:
                    gc_pause.pause(out)
                break
        else:
            out.requires_grad, out._parents, out._backward, out._op, out._seq = _NO_GRAPH
    else:
        out.requires_grad, out._parents, out._backward, out._op, out._seq = _NO_GRAPH
    if mode.anomaly:
        _check_forward(out, parents, op)
    return out


def _check_forward(out, parents, op):
    if out.array.dtype.kind == "f" and not np.all(np.isfinite(out.array)):
        if all(np.all(np.isfinite(p.array)) for p in parents if p.array.dtype.kind == "f"):
            raise AnomalyError(op, "forward")
