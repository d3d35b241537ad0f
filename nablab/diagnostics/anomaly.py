"""Where a NaN or Inf came from: the first op of a graph whose output is not finite."""

import numpy as np

from ..autograd.graph import topological_order


def first_nonfinite_op(tensor):
    """(op name, shape) of the earliest op producing NaN/Inf from finite inputs, or None.

    Walks the graph of ``tensor`` in forward order (every op after its inputs), so the op
    named is where the non-finite values appear first. A non-finite leaf (a parameter or
    input that already holds NaN) is named "leaf". Call it before ``backward()``, which
    frees the graph.
    """
    if np.all(np.isfinite(tensor.array)) or not tensor.requires_grad:
        return None
    for t in reversed(topological_order(tensor)):
        if t.array.dtype.kind != "f" or np.all(np.isfinite(t.array)):
            continue
        node = t.grad_fn
        inputs = node.inputs if node is not None else ()
        if all(np.all(np.isfinite(p.array)) for p in inputs if p.array.dtype.kind == "f"):
            return (node.op if node is not None else "leaf", tuple(t.shape))
    return None
