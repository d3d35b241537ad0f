"""Parameter: a Tensor that a Module learns.

Assigning a Parameter to a Module attribute registers it, so `model.parameters()`
finds it; it is a leaf that requires grad unless told otherwise.
"""

from ..autograd.tensor import Tensor, as_array


class Parameter(Tensor):
    """A leaf Tensor registered by a Module on attribute assignment.

    `Parameter(t)` shares `t`'s memory (as in PyTorch); other data (arrays, lists) is copied.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = []
        self.data = data.data if isinstance(data, Tensor) else as_array(data)
        self.grad, self.requires_grad = None, False
        self._parents, self._backward, self._op = (), None, ""
        if requires_grad:
            self.requires_grad_()

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
