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
        super().__init__([])  # a plain leaf; then adopt the data without another copy
        if data is not None:
            self.array = data.array if isinstance(data, Tensor) else as_array(data)
        if requires_grad:
            self.requires_grad_()

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
