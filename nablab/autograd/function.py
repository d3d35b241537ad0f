"""`Function`: user-defined differentiable ops (forward and backward with a `ctx`).

The graph walk and the backward pass are in nablab.autograd.graph.
"""

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor, record


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
        tensors = tuple(a for a in args if isinstance(a, Tensor))
        ctx = Context(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            out = cls.forward(ctx, *args)
        data = out.array if isinstance(out, Tensor) else np.asarray(out)
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

        backward.saved_tensors = ctx.saved_tensors  # what nablab.autograd.version checks
        return record(data, tensors, backward, cls.__name__)


def _as_grad_array(g, like):
    if g is None:
        return None
    # A copy: a custom backward may return one of its saved arrays.
    g = np.array(g.array if isinstance(g, Tensor) else g)
    if g.shape != like.shape:
        raise RuntimeError(
            f"backward returned a gradient of shape {g.shape} for an input of shape {like.shape}"
        )
    return g
