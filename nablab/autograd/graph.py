"""The graph: the public view of its nodes, its walk, and the backward pass.

Every op's output Tensor is itself the graph node: it keeps its `_parents` (the input
Tensors) and `_backward`, a closure that maps the upstream gradient δ_Z to one gradient
per parent (None where a parent needs none). `run_backward` walks the graph
iteratively (no recursion: a chain of a million ops is fine), calling each node's
closure once in reverse topological order and summing the gradients that meet at a node
(the multivariate chain rule: δ_X = Σ over users of X of their contribution).

The public, PyTorch-shaped view of a node is `tensor.grad_fn` (None for a leaf):

    y = x * w + 1
    y.grad_fn.name()            # 'AddBackward'
    y.grad_fn.next_functions    # ((<MulBackward>, 0), (None, 0)): the constant 1 has none
    mul = y.grad_fn.next_functions[0][0]
    mul.next_functions[0][0]    # <AccumulateGrad>: x, a leaf that requires grad
    mul.next_functions[0][0].variable is x

Beyond PyTorch, a `Node` also gives `op` (the op's name, "mul"), `output` (the Tensor it
made: here the Tensor is the node, so its value is at hand) and `inputs` (the Tensors it
read, constants included). `topological_order(tensor)`
lists the graph's Tensors, each before its inputs.

Large graphs and the cyclic garbage collector: nodes form no reference cycles (a node
refers to its inputs, never to its users), so reference counting frees them and every pass
of the collector over them is wasted work: each live node is traversed by a young
collection, again by a middle one, and by every full (generation-2) pass, whose work grows
with the number of live nodes. Together they about tripled the build time of a 10⁶-op
chain. Once more than `PAUSE_GC_AFTER` nodes have been recorded since the last backward,
the engine turns automatic collection off (threshold 0), and restores the caller's
thresholds at the end of the next backward or as soon as the node that paused it is freed
(the graph dropped unused), whichever comes first; reference cycles made meanwhile are
collected by the next automatic pass after that. A graph of fewer nodes (a training step of
the labs: hundreds to a few thousand) never pauses anything.
"""

import gc
import weakref
from heapq import heappop, heappush
from operator import attrgetter

import numpy as np

from .grad_mode import AnomalyError, mode
from .version import changes, check_saved, clock

retained = {}  # id -> weak reference of each non-leaf whose .grad backward fills (retain_grad)
PAUSE_GC_AFTER = 10_000  # nodes recorded since the last backward (or resume) before a pause

FREED_GRAPH = (
    "Trying to backward through the graph a second time: its saved values were freed "
    "by the first backward. Pass retain_graph=True to the first backward() to keep them."
)


class _CollectorPause:
    """Holds automatic collections off while one large graph is alive (see above)."""

    def __init__(self):
        self.resume_at = PAUSE_GC_AFTER  # record() calls pause() for nodes past this _seq
        self.saved = None  # the caller's thresholds while paused
        self.finalizer = None

    def pause(self, node):
        if self.saved is None:
            self.saved = gc.get_threshold()
            gc.set_threshold(0)
            self.finalizer = weakref.finalize(node, self.resume)
        self.resume_at = next(clock) + PAUSE_GC_AFTER

    def resume(self):
        """Give the collector back its thresholds (at the end of a backward, or when the
        node that paused it is freed, whichever comes first)."""
        if self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
            self.finalizer.detach()
        self.resume_at = next(clock) + PAUSE_GC_AFTER


gc_pause = _CollectorPause()


def topological_order(root):
    """Tensors that `root` depends on and that require grad, each before its inputs.

    Collect the graph with an explicit stack (no recursion), then order it by creation
    time: an op's output is always created after its inputs, so newest-first is a
    reverse topological order. Leaves (`_seq == 0`) come last.
    """
    found = {id(root): root}
    stack = [root]
    while stack:
        parents = stack.pop()._parents
        if parents is None:
            raise RuntimeError(FREED_GRAPH)
        for p in parents:
            if p.requires_grad and id(p) not in found:
                found[id(p)] = p
                stack.append(p)
    return sorted(found.values(), key=_creation, reverse=True)


_creation = attrgetter("_seq")


def run_backward(root, grad, retain_graph=False):
    """Propagate δ_root = `grad` to every leaf that requires grad, accumulating in `.grad`.

    One pass, newest node first: a max-heap on creation order holds the nodes reached so
    far. A node's users are all newer than it, so when it is popped every user has
    already added its share to its δ (the same argument as the sort in
    `topological_order`, without collecting and sorting the graph first). Leaves
    (`_seq == 0`) wait in a list and receive their δ at the end.
    """
    if root._parents is None:
        raise RuntimeError(FREED_GRAPH)
    grads = {id(root): grad}
    heap, leaves = [], []
    if root._backward is None:
        leaves.append(root)
    else:
        heap.append((-root._seq, root))
    check = mode.anomaly
    while heap:
        t = heappop(heap)[1]
        parents = t._parents
        if parents is None:
            raise RuntimeError(FREED_GRAPH)
        if t._seq < changes.last:
            check_saved(t)
        g = grads.pop(id(t))
        if retained and id(t) in retained:
            t._accumulate_grad(g)
        parent_grads = t._backward(g)
        if check:
            _check_backward(t, parent_grads)
        for p, pg in zip(parents, parent_grads):
            if pg is not None and p.requires_grad:
                k = id(p)
                old = grads.get(k)
                if old is not None:
                    grads[k] = old + pg
                    continue
                grads[k] = pg
                if p._seq:
                    heappush(heap, (-p._seq, p))
                else:
                    leaves.append(p)
        if not retain_graph:
            t._parents = t._backward = None
    handed = set()  # arrays already stored as a leaf's .grad in this pass
    for leaf in leaves:
        g = grads.pop(id(leaf))
        leaf._accumulate_grad(g, owned=g.base is None and id(g) not in handed)
        handed.add(id(g))
    gc_pause.resume()


def retain_grad(tensor):
    """PyTorch's `Tensor.retain_grad()`: a non-leaf keeps its δ in `.grad` after backward
    (accumulated, like a leaf's); on a leaf, which keeps it anyway, nothing to do."""
    if not tensor.requires_grad:
        raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
    if tensor._seq:  # by id: Tensor's == is element-wise; the entry goes with the tensor
        key = id(tensor)
        retained[key] = weakref.ref(tensor, lambda _: retained.pop(key, None))


def _check_backward(t, parent_grads):
    for i, pg in enumerate(parent_grads):
        if pg is not None and not np.all(np.isfinite(pg)):
            raise AnomalyError(t._op, "backward", f" (gradient for its input {i})")


class Node:
    """`tensor.grad_fn`: the op that made `output`, PyTorch-shaped (`name()`, `next_functions`).

    A view made on access: two views of one tensor compare equal and hash alike.
    """

    __slots__ = ("output",)

    def __init__(self, output):
        self.output = output

    @property
    def op(self):
        """The op's name as recorded: "mul", "log_softmax", a Function's class name."""
        return self.output._op

    def name(self):
        """PyTorch's style of name: "MulBackward", "LogSoftmaxBackward"."""
        op = self.output._op
        return "".join(part[:1].upper() + part[1:] for part in op.split("_")) + "Backward"

    @property
    def inputs(self):
        """The Tensors the op read, in order, those that need no gradient included."""
        parents = self.output._parents
        if parents is None:
            raise RuntimeError(FREED_GRAPH)
        return parents

    @property
    def next_functions(self):
        """One `(node, 0)` pair per input: its grad_fn, an `AccumulateGrad` for a leaf
        that requires grad, or None for an input that needs no gradient."""
        parents = self.output._parents
        if parents is None:
            raise RuntimeError(FREED_GRAPH)
        return tuple((_node_of(p), 0) for p in parents)

    def __eq__(self, other):
        return type(other) is type(self) and other.output is self.output

    def __hash__(self):
        return hash(id(self.output))

    def __repr__(self):
        return f"<{self.name()}>"


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: backward adds into `variable.grad`."""

    __slots__ = ()

    @property
    def variable(self):
        return self.output

    op = property(lambda self: "")
    inputs = property(lambda self: ())
    next_functions = property(lambda self: ())

    def name(self):
        return "AccumulateGrad"


def grad_fn(tensor):
    """The `Node` that made `tensor`, or None for a leaf (whatever its requires_grad)."""
    return Node(tensor) if tensor._op else None


def _node_of(tensor):
    if not tensor.requires_grad:
        return None
    return Node(tensor) if tensor._op else AccumulateGrad(tensor)
