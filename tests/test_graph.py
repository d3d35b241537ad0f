"""The public view of the graph (`grad_fn`, `next_functions`, `AccumulateGrad.variable`),
beside PyTorch's, and the engine's pause of generation-2 garbage collection."""

import gc

import pytest

import nablab
from nablab.autograd import graph


def leaf(value):
    return nablab.tensor(value, requires_grad=True)


def test_grad_fn_is_none_for_leaves_and_untracked_results():
    x = leaf([1.0, 2.0])
    assert x.grad_fn is None and nablab.ones(2).grad_fn is None
    with nablab.no_grad():
        assert (x * 2).grad_fn is None


def test_next_functions_name_each_input():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = x * w + 1
    add = y.grad_fn
    assert add.name() == "AddBackward" and add.op == "add" and add.output is y
    ((mul, zero), (constant, _)) = add.next_functions
    assert mul.name() == "MulBackward" and zero == 0 and constant is None
    (acc_x, _), (acc_w, _) = mul.next_functions
    assert acc_x.name() == "AccumulateGrad" and acc_x.variable is x and acc_w.variable is w
    assert acc_x.next_functions == ()


def test_views_of_one_node_compare_equal():
    y = leaf([1.0]) * 2
    assert y.grad_fn == y.grad_fn and len({y.grad_fn, y.grad_fn}) == 1
    assert repr(y.grad_fn) == "<MulBackward>"


def test_function_nodes_are_named_after_the_class():
    class Cube(nablab.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            return grad

    assert Cube.apply(leaf([1.0])).grad_fn.name() == "CubeBackward"


def test_next_functions_of_a_freed_graph_say_so():
    y = (leaf([1.0, 2.0]) * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        _ = y.grad_fn.next_functions


def test_same_structure_as_torch(torch):
    def build(lib, make):
        x, w = make([1.0, 2.0]), make([0.5, -1.0])
        return ((x * w).exp() - x).sum()

    ours = build(nablab, leaf)
    theirs = build(torch, lambda v: torch.tensor(v, requires_grad=True))

    def shape(node):
        if node is None:
            return None
        name = node.name().rstrip("0123456789").removeprefix("torch::autograd::")
        return (name, tuple(shape(n) for n, _ in node.next_functions))

    assert shape(ours.grad_fn) == shape(theirs.grad_fn)


def test_a_large_graph_pauses_the_collector_and_restores_it(monkeypatch):
    monkeypatch.setattr(graph.gc_pause, "resume_at", 0)  # the next node is "large"
    saved = gc.get_threshold()
    x = leaf(1.0)
    y = x * 2.0
    assert gc.get_threshold()[0] == 0  # automatic collection off while the graph lives
    y.backward()  # y stays alive: the end of the backward restores the thresholds
    assert gc.get_threshold() == saved


def test_a_node_kept_past_its_backward_does_not_end_a_later_pause(monkeypatch):
    saved = gc.get_threshold()
    monkeypatch.setattr(graph.gc_pause, "resume_at", 0)
    first = leaf(1.0) * 2.0
    first.backward()
    monkeypatch.setattr(graph.gc_pause, "resume_at", 0)
    second = leaf(1.0) * 3.0
    del first  # its finalizer was detached by the backward
    assert gc.get_threshold() != saved
    second.backward()
    assert gc.get_threshold() == saved


def test_a_dropped_large_graph_restores_the_collector(monkeypatch):
    monkeypatch.setattr(graph.gc_pause, "resume_at", 0)
    saved = gc.get_threshold()
    y = leaf(1.0) * 2.0
    assert gc.get_threshold() != saved
    del y
    assert gc.get_threshold() == saved


def test_small_graphs_leave_the_collector_alone():
    saved = gc.get_threshold()
    for _ in range(3):
        y = (leaf([1.0, 2.0]) * 3.0).sum()
        assert gc.get_threshold() == saved
        y.backward()
