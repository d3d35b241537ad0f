"""The backward pass, and `Function` for user-defined ops.

Every op's output Tensor is itself the graph node: it keeps its `_parents` (the input
Tensors) and `_backward`, a closure that maps the upstream gradient δ_Z to one gradient
per parent (None where a parent needs none). `run_backward` orders the graph once,
iteratively (no recursion: a chain of a million ops is fine), then calls each node's
closure once in reverse topological order, summing the gradients that meet at a node
(the multivariate chain rule: δ_X = Σ over users of X of their contribution).
"""

from itertools import count
from operator import attrgetter

import numpy as np

from .grad_mode import AnomalyError, mode

clock = count(1)  # creation order of op outputs; leaves have _seq 0

FREED_GRAPH = (
    "Trying to backward through the graph a second time: its saved values were freed "
    "by the first backward. Pass retain_graph=True to the first backward() to keep them."
)


def topological_order(root):
    """Tensors that `root` depends on and that require grad, each before its inputs.

    Collect the graph with an explicit stack (no recursion), then order it by creation
    time: an op's output is always created after its inputs, so newest-first is a
    reverse topological order. Leaves (`_seq == 0`) come last.
    """
    order, seen, stack = [root], {id(root)}, [root]
    while stack:
        parents = stack.pop()._parents
        if parents is None:
            raise RuntimeError(FREED_GRAPH)
        for p in parents:
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
                order.append(p)
    order.sort(key=_creation, reverse=True)
    return order


_creation = attrgetter("_seq")


def run_backward(root, grad, retain_graph=False):
    """Propagate δ_root = `grad` to every leaf that requires grad, accumulating in `.grad`."""
    grads = {id(root): grad}
    handed = set()  # arrays already stored as a leaf's .grad in this pass
    check = mode.anomaly
    for t in topological_order(root):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        backward = t._backward
        if backward is None:
            t._accumulate_grad(g, owned=g.base is None and id(g) not in handed)
            handed.add(id(g))
            continue
        parent_grads = backward(g)
        if check:
            _check_backward(t, parent_grads)
        for p, pg in zip(t._parents, parent_grads):
            if pg is not None and p.requires_grad:
                k = id(p)
                old = grads.get(k)
                grads[k] = pg if old is None else old + pg
        if not retain_graph:
            t._parents = t._backward = None


def _check_backward(t, parent_grads):
    for i, pg in enumerate(parent_grads):
        if pg is not None and not np.all(np.isfinite(pg)):
            raise AnomalyError(t._op, "backward", f" (gradient for its input {i})")


class Context:
    """What a `Function` keeps between its forward and its backward."""

    __slots__ = ("saved_tensors", "needs_input_grad", "__dict__")

    def __init__(self, needs_input_grad):
        self.saved_tensors = ()
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors


class Function:
    """A user-defined differentiable op, the seeds' `Op` class with PyTorch's interface.

    Subclass it with two static methods and call `.apply`::

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):              # Z = X³
                ctx.save_for_backward(x)
                return x * x * x
            @staticmethod
            def backward(ctx, grad):          # δ_X = δ_Z · 3X²
                (x,) = ctx.saved_tensors
                return grad * 3 * x * x

        y = Cube.apply(t)

    `forward` receives the inputs as given (Tensors run without recording) and returns
    a Tensor or array; `backward` receives δ_Z as a Tensor and returns one gradient
    (Tensor, array or None) per input of `forward`.
    """

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args):
        from .grad_mode import no_grad
        from .tensor import Tensor, record

        tensors = tuple(a for a in args if isinstance(a, Tensor))
        ctx = Context(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            out = cls.forward(ctx, *args)
        data = out.data if isinstance(out, Tensor) else np.asarray(out)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

        def backward(g):
            with no_grad():
                result = cls.backward(ctx, Tensor._wrap(g))
            if not isinstance(result, tuple):
                result = (result,)
            if len(result) != len(args):
                raise RuntimeError(
                    f"{cls.__name__}.backward returned {len(result)} gradients, "
                    f"expected {len(args)} (one per input of forward)"
                )
            return tuple(_as_grad_array(result[i], args[i]) for i in positions)

        return record(data, tensors, backward, cls.__name__)


def _as_grad_array(g, like):
    if g is None:
        return None
    # A copy: a custom backward may return one of its saved arrays.
    g = np.array(g.data if hasattr(g, "_parents") else g)
    if g.shape != like.shape:
        raise RuntimeError(
            f"backward returned a gradient of shape {g.shape} for an input of shape {like.shape}"
        )
    return g
