"""In-place ops, version counters and `.data` (nablab.ops.inplace, nablab.autograd.version),
each beside torch where it is installed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nablab

try:
    import torch
except ImportError:  # the torch columns below skip; nablab's own behaviour is still checked
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")
VERSION = "is at version {}; expected version {} instead"


def both(fn):
    """fn(nablab) and, with torch installed, fn(torch)."""
    return [fn(L) for L in (nablab, torch) if L is not None]


# ----- the values: each in-place method against torch ------------------------------------
METHODS = [
    ("iadd", lambda L, x: x.__iadd__(L.tensor([1.0, -2.0, 0.5]))),
    ("isub", lambda L, x: x.__isub__(2.0)),
    ("imul", lambda L, x: x.__imul__(L.tensor([[2.0], [3.0]]))),
    ("itruediv", lambda L, x: x.__itruediv__(4.0)),
    ("add_alpha", lambda L, x: x.add_(L.tensor([1.0, 2.0, 3.0]), alpha=-0.5)),
    ("sub_alpha", lambda L, x: x.sub_(1.0, alpha=3)),
    ("mul_", lambda L, x: x.mul_(-1.5)),
    ("div_", lambda L, x: x.div_(L.tensor([1.0, 2.0, 4.0]))),
    ("clamp_", lambda L, x: x.clamp_(-0.5, 0.5)),
    ("clamp_min", lambda L, x: x.clamp_(min=0.0)),
    ("fill_", lambda L, x: x.fill_(7.0)),
    ("zero_", lambda L, x: x.zero_()),
    ("copy_broadcast", lambda L, x: x.copy_(L.tensor([9.0, 8.0, 7.0]))),
    ("setitem_slice", lambda L, x: x.__setitem__((slice(None), 1), 5.0)),
    ("setitem_mask", lambda L, x: x.__setitem__(x > 0, 0.0)),
    ("setitem_row", lambda L, x: x.__setitem__(0, L.tensor([1.0, 2.0, 3.0]))),
]


@needs_torch
@pytest.mark.parametrize("name, change", METHODS, ids=[m[0] for m in METHODS])
def test_each_in_place_method_changes_the_values_as_torch_and_returns_the_tensor(name, change):
    start = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    results = []
    for L in (nablab, torch):
        x = L.tensor(start)
        out = change(L, x)
        assert out is None or out is x
        assert x._version == 1
        results.append(np.asarray(x))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_in_place_writes_keep_memory_so_views_see_them():
    x = nablab.zeros(2, 3)
    row, flat = x[1], x.view(-1)
    x += 1.0
    row.mul_(3.0)
    assert flat.tolist() == [1.0, 1.0, 1.0, 3.0, 3.0, 3.0]
    assert x._version == row._version == flat._version == 2


@needs_torch
def test_versions_count_as_torch_counts_them_through_views_and_detach():
    def versions(L):
        x = L.zeros(4)
        v, d = x[1:3], x.detach()
        x.add_(1)
        v.mul_(2)
        d[0] = 5.0
        with L.no_grad():
            x -= 1
        return [x._version, v._version, d._version]

    ours, theirs = both(versions)
    assert ours == theirs == [4, 4, 4]


def test_integer_tensor_refuses_a_float_result_and_shapes_must_fit():
    x = nablab.ones(3, dtype=nablab.int64)
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to .* int64"):
        x += 1.5
    y = nablab.ones(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast"):
        y += nablab.ones(2, 3)
    assert x.tolist() == [1, 1, 1] and y.tolist() == [1.0, 1.0, 1.0]


def test_normal_and_uniform_draw_in_place_from_the_seeded_generator():
    nablab.manual_seed(3)
    a = nablab.empty(2000).normal_(1.0, 0.5)
    nablab.manual_seed(3)
    b = nablab.nn.init.normal_(nablab.empty(2000), 1.0, 0.5)
    np.testing.assert_array_equal(a.array, b.array)
    assert abs(a.array.mean() - 1.0) < 0.05 and abs(a.array.std() - 0.5) < 0.05
    u = nablab.empty(2000).uniform_(-2.0, 3.0)
    assert u.array.min() >= -2.0 and u.array.max() < 3.0 and u._version == 1


# ----- leaves that require grad ---------------------------------------------------------
LEAF_WRITES = [
    lambda w: w.__iadd__(1.0),
    lambda w: w.mul_(2.0),
    lambda w: w.zero_(),
    lambda w: w.copy_(w.detach() * 2),
    lambda w: w.__setitem__(0, 3.0),
]


@pytest.mark.parametrize("write", LEAF_WRITES)
def test_a_leaf_that_requires_grad_refuses_in_place_writes_outside_no_grad(write):
    for L in (nablab, torch):
        if L is None:
            continue
        w = L.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
            write(w)
        with L.no_grad():
            write(w)
        assert w.is_leaf and w.requires_grad


def test_a_view_of_a_leaf_that_requires_grad_is_refused():
    w = nablab.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[0].add_(1.0)


# ----- changed after it was saved: backward raises ---------------------------------------
def _setitem_after_mul(L):
    w, x = L.ones(3, requires_grad=True), L.ones(3)
    y = (w * x).sum()
    x[0] = 100.0
    return y


def _no_grad_edit_after_matmul(L):
    w, x = L.ones(3, 2, requires_grad=True), L.ones(4, 3, requires_grad=True)
    y = (x @ w).sum()  # x @ w saves w for δ_X
    with L.no_grad():
        w -= 0.1
    return y


def _through_a_view(L):
    w, x = L.ones(3, requires_grad=True), L.ones(2, 3)
    y = (x * w).sum()
    x.view(-1)[4] = 2.0
    return y


def _through_detach(L):
    w = L.ones(3, requires_grad=True)
    y = w.exp()
    y.detach().zero_()
    return y.sum()


def _output_saved_by_its_op(L):
    x = L.ones(3, requires_grad=True)
    y = x.sigmoid()
    y += 1.0
    return y.sum()


def _optimizer_step_between(L):
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(3, 2), L.nn.Tanh(), L.nn.Linear(2, 1))
    optimizer = L.optim.SGD(model.parameters(), lr=0.1)
    loss = model(L.ones(4, 3)).pow(2).sum()  # the second layer saves its weight
    loss.backward(retain_graph=True)
    optimizer.step()
    return loss


SAVED_CHANGED = [
    _setitem_after_mul,
    _no_grad_edit_after_matmul,
    _through_a_view,
    _through_detach,
    _output_saved_by_its_op,
    _optimizer_step_between,
]


@pytest.mark.parametrize("make", SAVED_CHANGED, ids=[f.__name__ for f in SAVED_CHANGED])
def test_backward_refuses_a_saved_value_changed_in_place(make):
    for L in (nablab, torch):
        if L is None:
            continue
        y = make(L)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as caught:
            y.backward()
        assert "is at version" in str(caught.value) and "expected version" in str(caught.value)


def test_the_message_names_the_versions_the_shape_and_the_op():
    w, x = nablab.ones(3, requires_grad=True), nablab.ones(2, 3)
    y = (x * w).sum()
    x[0] = 2.0
    x[1] = 3.0
    with pytest.raises(RuntimeError) as caught:
        y.backward()
    assert VERSION.format(2, 0) in str(caught.value)
    assert "shape [2, 3]" in str(caught.value) and "MulBackward" in str(caught.value)


@needs_torch
def test_what_is_not_saved_may_change_as_in_torch():
    def run(L):
        w, x = L.ones(3, 2, requires_grad=True), L.ones(4, 3)
        y = (x @ w).sum()  # x needs no gradient, so w is not saved
        with L.no_grad():
            w -= 0.1
        y.backward()
        return w.grad.tolist()

    ours, theirs = both(run)
    assert ours == theirs


def test_a_value_no_op_saved_may_change_and_a_change_after_backward_is_fine():
    a, b = nablab.ones(3, requires_grad=True), nablab.ones(3)
    y = (a + b).sum()  # add saves neither input
    b += 1.0
    y.backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]
    z = (a * b).sum()
    z.backward()
    b += 1.0  # after backward: nothing left to check
    assert a.grad.tolist() == [3.0, 3.0, 3.0]


def test_a_custom_function_checks_what_it_saved_only():
    class Scale(nablab.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(k)
            return x * k

        @staticmethod
        def backward(ctx, g):
            (k,) = ctx.saved_tensors
            return g * k, None

    x, k = nablab.ones(2, requires_grad=True), nablab.full((2,), 3.0)
    y = Scale.apply(x, k).sum()
    x.detach()[0] = 5.0  # not saved: fine
    k[1] = 4.0
    with pytest.raises(RuntimeError, match=VERSION.format(1, 0)):
        y.backward()


# ----- a non-leaf changed in place is recorded -----------------------------------------
@needs_torch
@pytest.mark.parametrize(
    "change",
    [
        lambda L, y, w: y.__imul__(w),
        lambda L, y, w: y.__iadd__(w * 2),
        lambda L, y, w: y.__imul__(3.0),
        lambda L, y, w: y.__setitem__(1, w[0] * 5),
        lambda L, y, w: y.__setitem__((slice(None), 0), 1.0),
        lambda L, y, w: y.clamp_(0.0, 1.5),
        lambda L, y, w: y.copy_(w),
    ],
)
def test_in_place_on_a_non_leaf_gives_torch_gradients(change):
    start = np.random.default_rng(1).uniform(0.1, 1.0, (3, 2))

    def run(L):
        x = L.tensor(start, requires_grad=True)
        w = L.tensor(start[::-1].copy(), requires_grad=True)
        y = x * 2
        change(L, y, w)
        (y * L.tensor(start)).sum().backward()
        return [
            np.asarray(y.detach()),
            x.grad.numpy(),
            np.asarray(w.grad if w.grad is not None else 0),
        ]

    for ours, theirs in zip(*both(run)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_a_constant_given_a_value_that_requires_grad_joins_the_graph():
    w = nablab.tensor([1.0, 2.0], requires_grad=True)
    buffer = nablab.zeros(2)
    buffer += w * w
    assert buffer.requires_grad and buffer.grad_fn.name() == "AddBackward"
    buffer.sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_detach_in_place_cuts_the_tensor_from_the_graph():
    h = nablab.ones(2, requires_grad=True) * 3
    assert h.detach_() is h and not h.requires_grad and h.grad_fn is None and h.is_leaf


# ----- .data -------------------------------------------------------------------------
def test_data_shares_memory_is_detached_and_is_not_counted():
    p = nablab.ones(3, requires_grad=True)
    d = p.data
    assert not d.requires_grad and d.grad_fn is None
    d -= 0.5
    assert p.tolist() == [0.5, 0.5, 0.5] and p._version == 0
    assert isinstance(p.data.numpy(), np.ndarray)
    p.data = nablab.zeros(2)
    assert p.shape == (2,) and p.requires_grad


@needs_torch
def test_the_data_idioms_of_course_code_train_as_torch():
    def run(L):
        L.manual_seed(0)
        p = L.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        x = L.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
        losses = []
        for _ in range(5):
            loss = (x @ p).pow(2).mean()
            loss.backward()
            p.data -= 0.05 * p.grad.data
            p.grad.data.zero_()
            losses.append(loss.item())
        snapshot = L.zeros(2, 2)
        snapshot.data.copy_(p.data)
        p.data.zero_()
        return losses + snapshot.flatten().tolist() + p.data.numpy().ravel().tolist()

    ours, theirs = both(run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


# ----- d2l's from-scratch SGD: the loop that silently did nothing before ---------------
@needs_torch
def test_from_scratch_sgd_under_no_grad_trains_exactly_as_torch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2)).astype(np.float32)
    y = (X @ np.array([[2.0], [-3.4]]) + 4.2).astype(np.float32)

    def run(L):
        w = L.tensor(rng_init(), requires_grad=True)
        b = L.zeros(1, requires_grad=True)
        features, labels = L.tensor(X), L.tensor(y)
        losses = []
        for _ in range(5):
            for i in range(0, 64, 16):
                loss = ((features[i : i + 16] @ w + b - labels[i : i + 16]) ** 2 / 2).sum()
                loss.backward()
                with L.no_grad():
                    for param in (w, b):
                        param -= 0.3 * param.grad / 16
                        param.grad.zero_()
            with L.no_grad():
                losses.append(float(((features @ w + b - labels) ** 2 / 2).mean()))
        return losses

    def rng_init():
        return np.random.default_rng(1).normal(0, 0.01, (2, 1)).astype(np.float32)

    ours, theirs = both(run)
    assert ours[-1] < ours[0] / 10
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(
    ops=st.lists(st.sampled_from(["add", "mul", "set", "view_add", "zero"]), min_size=1, max_size=6)
)
def test_random_sequences_of_writes_count_one_version_each(ops):
    x = nablab.ones(2, 3)
    for op in ops:
        if op == "add":
            x.add_(1.0)
        elif op == "mul":
            x *= 2.0
        elif op == "set":
            x[0, 1] = -1.0
        elif op == "view_add":
            x.view(-1)[2:4] += 1.0
        else:
            x.zero_()
    expected = len(ops) + ops.count("view_add")  # x.view(-1)[2:4] += 1 also writes back
    assert x._version == expected
    if torch is not None:
        t = torch.ones(2, 3)
        for op in ops:
            {"add": lambda: t.add_(1.0), "mul": lambda: t.mul_(2.0), "zero": t.zero_}.get(
                op, lambda: None
            )()
            if op == "set":
                t[0, 1] = -1.0
            elif op == "view_add":
                t.view(-1)[2:4] += 1.0
        assert t._version == x._version
        np.testing.assert_array_equal(t.numpy(), x.array)


@needs_torch
def test_a_write_through_one_picked_element_reaches_the_tensor_as_in_torch():
    def run(L):
        x = L.ones(3)
        x[0].mul_(5.0)
        x[1:][0].add_(2.0)
        return x.tolist() + [x._version]

    ours, theirs = both(run)
    assert ours == theirs == [5.0, 3.0, 1.0, 2]
