"""Version counters: backward refuses a value that was changed in place after an op saved it.

    y = (w * x).sum()     # mul saves x for δ_w = δ_Z ⊙ X
    x[0] = 100.0          # x is now at version 1
    y.backward()          # RuntimeError: ... is at version 1; expected version 0 instead

Every in-place change (`x += 1`, `x[0] = 2`, `x.zero_()`, `optimizer.step()`, under
`no_grad` too) counts one new version of the memory it wrote. The counter belongs to the
allocation, not to one Tensor: every Tensor that views the same NumPy memory (`x[0]`,
`x.view(-1)`, `x.detach()`) shares it, as PyTorch's views share theirs. Writing through
`.data` (or into `.array`, the engine's ndarray) is not counted: that is what `.data` is for.

The cost is paid by in-place changes only. A change records the `clock` tick it happened
at (the same clock that orders the graph's nodes); recording an op costs nothing more. At
backward, a node older than the newest change anywhere (`changes.last`) has the values its
closure captured looked up: any changed after the node was made raise the error above.
In the usual loop (forward, backward, step) every node is newer than the last step, so no
node is looked up.
"""

import weakref
from itertools import count

import numpy as np

clock = count(1)  # one order for op outputs (their _seq) and in-place changes
HISTORY = 64  # change ticks kept per allocation (enough to tell the expected version)


class _Changes:
    __slots__ = ("last", "counters")

    def __init__(self):
        self.last = 0  # clock tick of the newest in-place change anywhere
        self.counters = {}  # id(allocation) -> _Counter


class _Counter:
    __slots__ = ("version", "ticks")

    def __init__(self):
        self.version = 0
        self.ticks = []  # clock ticks of the latest changes, oldest first


changes = _Changes()


def allocation(array):
    """The ndarray that owns `array`'s memory (follows `.base` through views)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def bump(array):
    """Count one in-place change of `array`'s memory."""
    owner = allocation(array)
    key = id(owner)
    counter = changes.counters.get(key)
    if counter is None:
        counter = changes.counters[key] = _Counter()
        weakref.finalize(owner, changes.counters.pop, key, None)
    counter.version += 1
    changes.last = tick = next(clock)
    counter.ticks.append(tick)
    if len(counter.ticks) > HISTORY:
        del counter.ticks[0]


def version(array):
    """How many in-place changes `array`'s memory has seen (PyTorch's `tensor._version`)."""
    counter = changes.counters.get(id(allocation(array)))
    return 0 if counter is None else counter.version


def check_saved(node):
    """Raise if a value that `node`'s backward captured changed after `node` was made."""
    for array in _saved_arrays(node._backward):
        counter = changes.counters.get(id(allocation(array)))
        if counter is None or counter.ticks[-1] < node._seq:
            continue
        later = sum(tick > node._seq for tick in counter.ticks)
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: a tensor of shape {list(array.shape)} and dtype {array.dtype}"
            f" saved by {node.grad_fn.name()} is at version {counter.version}; expected "
            f"version {counter.version - later} instead. Change a copy (x.clone()), or change "
            "it after backward()"
        )


def _saved_arrays(backward):
    """The ndarrays a backward closure holds: captured arrays and Tensors, a Function's
    saved tensors, one level into tuples and lists."""
    saved = getattr(backward, "saved_tensors", None)
    cells = saved if saved is not None else [_contents(c) for c in backward.__closure__ or ()]
    for value in cells:
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(item, np.ndarray):
                yield item
            elif isinstance(getattr(item, "array", None), np.ndarray):
                yield item.array


def _contents(cell):
    try:
        return cell.cell_contents
    except ValueError:  # a cell not filled yet
        return None
