"""Autograd semantics: accumulation, shared subexpressions, backward(grad), graph
freeing, grad modes, detach, anomaly detection, custom Functions, deep graphs, dtypes,
seeding and repr. PyTorch's behaviour is the reference throughout."""

import time

import numpy as np
import pytest

import nablab
from nablab.ops import dropout


def leaf(values, dtype=nablab.float64):
    return nablab.tensor(values, dtype=dtype, requires_grad=True)


# ----- backward -----------------------------------------------------------------------


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    first = x.grad.array.copy()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.array, 2 * first)
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [3.0, 3.0, 3.0])


def test_tensor_used_twice_gets_the_sum():
    x = leaf([0.5, -1.5])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.array, 2 * x.array)


def test_shared_subexpression_sums_every_path():
    """Z = Y² + sin Y with Y = e^X:  δ_X = (2Y + cos Y)·Y."""
    x = leaf([0.3, -0.7, 1.1])
    y = x.exp()
    (y * y + y.sin()).sum().backward()
    e = np.exp(x.array)
    np.testing.assert_allclose(x.grad.array, (2 * e + np.cos(e)) * e, rtol=1e-12)


def test_diamond_graph():
    """A = 2X feeds both B = A + 1 and C = 3A;  L = Σ B ⊙ C = Σ 6X(2X + 1)."""
    x = leaf([1.0, 2.0])
    a = x * 2
    ((a + 1) * (a * 3)).sum().backward()
    np.testing.assert_allclose(x.grad.array, 24 * x.array + 6)


@pytest.mark.parametrize("make", [np.asarray, nablab.tensor, lambda g: g.tolist()])
def test_backward_of_non_scalar_takes_grad(make):
    x = leaf(np.arange(6.0).reshape(2, 3))
    g = np.linspace(-1, 1, 6).reshape(2, 3)
    (x * 3).backward(make(g))
    np.testing.assert_allclose(x.grad.array, 3 * g)


def test_backward_leaves_the_given_grad_alone():
    x = leaf([1.0, 2.0])
    g = np.array([1.0, 1.0])
    (x + 0).backward(g)
    assert np.array_equal(g, [1.0, 1.0])
    g[:] = 7
    np.testing.assert_array_equal(x.grad.array, [1.0, 1.0])  # x.grad is not a view of g


def test_leaf_gradients_are_independent_arrays():
    """Two leaves fed the same δ (by add, clone) must not share one .grad array."""
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    for _ in range(2):
        (x + y + x.clone()).sum().backward()
    x.grad.array[0] = 100.0
    np.testing.assert_array_equal(y.grad.array, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.array, [100.0, 4.0])


def test_only_leaves_get_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.sum().backward()
    assert x.is_leaf and not y.is_leaf
    assert y.grad is None and x.grad is not None


def test_graph_is_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.array, 4 * x.array)


def test_a_chain_of_200k_ops_backpropagates():
    """Backward is iterative: no RecursionError however deep the graph."""
    x = leaf(1.0)
    c = nablab.tensor(1.000001, dtype=nablab.float64)
    start = time.perf_counter()
    y = x
    for _ in range(200_000):
        y = y * c
    y.backward()
    assert time.perf_counter() - start < 60
    np.testing.assert_allclose(x.grad.item(), 1.000001**200_000, rtol=1e-9)


# ----- grad modes, detach, requires_grad_ -------------------------------------------------


def test_no_grad_block_records_nothing():
    x = leaf([1.0, 2.0])
    with nablab.no_grad():
        assert not nablab.is_grad_enabled()
        y = x * 2
    assert nablab.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_and_enable_grad_as_decorators():
    x = leaf([1.0, 2.0])

    @nablab.no_grad()
    def frozen(t):
        return t * 2

    @nablab.enable_grad()
    def recorded(t):
        return t * 2

    assert not frozen(x).requires_grad
    with nablab.no_grad():
        y = recorded(x)
        assert not nablab.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with nablab.no_grad():
        with nablab.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(KeyError), nablab.no_grad():
        raise KeyError("inside the block")
    assert nablab.is_grad_enabled()


def test_detach_shares_data_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.array, x.array)
    (x * 2 + d * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [2.0, 2.0])

    y = x * x
    (y.detach() * x).sum().backward()  # y is a constant now: δ_X = Y
    np.testing.assert_array_equal(x.grad.array, [2.0 + 1.0, 2.0 + 4.0])


def test_requires_grad_():
    x = nablab.zeros(3)
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    assert not x.requires_grad_(False).requires_grad
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


# ----- anomaly detection ------------------------------------------------------------


def test_anomaly_names_the_forward_that_made_nan():
    x = leaf([-1.0, 4.0])
    with np.errstate(all="ignore"), nablab.detect_anomaly():
        y = x * 2
        with pytest.raises(nablab.AnomalyError, match="forward of 'log'") as info:
            (y - 1).log().exp()
    assert info.value.op == "log" and info.value.phase == "forward"


def test_anomaly_names_the_backward_that_made_inf():
    x = leaf([0.0, 4.0])
    with np.errstate(all="ignore"), nablab.detect_anomaly():
        y = (x.sqrt() * 3).sum()
        with pytest.raises(nablab.AnomalyError, match="backward of 'sqrt'") as info:
            y.backward()
    assert info.value.op == "sqrt" and info.value.phase == "backward"


def test_anomaly_detection_is_off_by_default_and_a_decorator():
    x = leaf([0.0, 4.0])
    with np.errstate(all="ignore"):
        (x.sqrt()).sum().backward()  # no check: an inf gradient, no error
        assert np.isinf(x.grad.array[0])

        @nablab.detect_anomaly()
        def checked(t):
            return t.log()

        with pytest.raises(nablab.AnomalyError):
            checked(leaf([-1.0]))


# ----- custom Functions ---------------------------------------------------------------


class Cube(nablab.Function):
    """Z = X³,  δ_X = δ_Z · 3X²."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class Scale(nablab.Function):
    """Z = k·X for a Tensor X and a number k (which gets no gradient)."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        ctx.seen_needs = ctx.needs_input_grad
        return x * k

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.k, None


class BadCount(nablab.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def test_function_forward_and_backward():
    x = leaf([1.0, -2.0, 0.5])
    y = Cube.apply(x)
    assert y.requires_grad and y.grad_fn is not None
    np.testing.assert_allclose(y.array, x.array**3)
    (y + x).sum().backward()
    np.testing.assert_allclose(x.grad.array, 3 * x.array**2 + 1)


def test_function_passes_non_tensor_arguments():
    x = leaf([1.0, 2.0])
    y = Scale.apply(x, 2.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, [2.5, 2.5])


def test_function_gradcheck():
    x = leaf(np.linspace(-1, 1, 5))
    assert nablab.gradcheck(Cube.apply, x)
    assert nablab.gradcheck(lambda t: Scale.apply(Cube.apply(t), -3.0), x)


def test_function_backward_with_wrong_number_of_grads():
    y = BadCount.apply(leaf([1.0]))
    with pytest.raises(RuntimeError, match="BadCount.backward returned 2 gradients, expected 1"):
        y.sum().backward()


def test_gradcheck_reports_a_wrong_gradient():
    class Wrong(nablab.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad  # should be 2X·δ

    with pytest.raises(nablab.GradcheckError, match="differs at element"):
        nablab.gradcheck(Wrong.apply, leaf([1.0, 2.0]))


# ----- dtypes -------------------------------------------------------------------------


def test_float32_by_default_float64_on_request():
    assert nablab.tensor([1.0, 2.0]).dtype == nablab.float32
    assert nablab.tensor(3.0).dtype == nablab.float32
    assert nablab.tensor([1.0], dtype=nablab.float64).dtype == nablab.float64
    assert nablab.tensor(np.array([1.0])).dtype == nablab.float64  # NumPy's dtype kept
    nablab.set_default_dtype(nablab.float64)
    assert nablab.tensor([1.0]).dtype == nablab.float64
    assert (nablab.tensor([1, 2]) * 0.5).dtype == nablab.float64


def test_promotion_between_tensors():
    f32, f64 = nablab.tensor([1.0, 2.0]), nablab.tensor([1.0, 2.0], dtype=nablab.float64)
    i64 = nablab.tensor([1, 2])
    assert (f32 + f64).dtype == nablab.float64
    assert (f64 * f32).dtype == nablab.float64
    assert (f32 @ f64).dtype == nablab.float64
    assert nablab.cat([f32, f64]).dtype == nablab.float64
    assert (i64 + f32).dtype == nablab.float32
    assert (i64 / i64).dtype == nablab.float32


def test_python_scalars_keep_the_tensor_dtype():
    f32, f64, i64 = (
        nablab.tensor([1.0]),
        nablab.tensor([1.0], dtype=nablab.float64),
        nablab.tensor([1]),
    )
    assert (f32 * 2.5).dtype == nablab.float32
    assert (2.5 - f32).dtype == nablab.float32
    assert (f64 + 1).dtype == nablab.float64
    assert (i64 + 2).dtype == nablab.int64
    assert (i64 + 2.5).dtype == nablab.float32  # a float meeting ints: the default float
    assert (i64 + 2.5).item() == 3.5
    assert (f32 > 0.5).dtype == nablab.bool_


def test_gradients_have_the_leaf_dtype():
    x = leaf([1.0, 2.0], dtype=nablab.float32)
    w = leaf([3.0, 4.0], dtype=nablab.float64)
    y = (x * w).sum()
    assert y.dtype == nablab.float64
    y.backward()
    assert x.grad.dtype == nablab.float32 and w.grad.dtype == nablab.float64
    np.testing.assert_allclose(x.grad.array, [3.0, 4.0])


@pytest.mark.parametrize(
    "name, args",
    [(f, ()) for f in ("exp", "log", "sqrt", "sin", "cos", "sigmoid", "tanh")]
    + [("clamp", (1.5,))],
)
def test_float_ops_of_integer_tensors_give_the_default_float(name, args, torch):
    ours = getattr(nablab.tensor([1, 2, 3]), name)(*args)
    theirs = getattr(torch.tensor([1, 2, 3]), name)(*args)
    assert str(theirs.dtype) == f"torch.{ours.dtype}"
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-6)


# ----- seeding ------------------------------------------------------------------------


def _draws():
    return [
        nablab.randn(3, 4).array,
        nablab.rand(5).array,
        nablab.randint(0, 10, (6,)).array,
        dropout(nablab.ones(50), 0.5).array,
        nablab.randn_like(nablab.zeros(2, dtype=nablab.float64)).array,
    ]


def test_manual_seed_makes_every_draw_repeatable():
    nablab.manual_seed(123)
    first = _draws()
    nablab.manual_seed(123)
    again = _draws()
    nablab.manual_seed(124)
    other = _draws()
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


# ----- repr ---------------------------------------------------------------------------


REPR_CASES = [
    ([1.0, 2.0], {}),
    ([[1.0, 2.0], [3.0, 4.0]], {}),
    (3.0, {}),
    ([1, 2], {}),
    ([True, False], {}),
    ([[0.1234567]], {}),
    ([1.5, 2.25], {}),
    ([1e-5, 1.0], {}),
    ([1.0, 2.0], {"dtype": "float64"}),
    ([1.0, 2.0], {"requires_grad": True}),
]


@pytest.mark.parametrize("data, kwargs", REPR_CASES)
def test_repr_like_torch(data, kwargs, torch):
    ours = nablab.tensor(
        data, **{k: getattr(nablab, v) if k == "dtype" else v for k, v in kwargs.items()}
    )
    theirs = torch.tensor(
        data, **{k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    )
    assert repr(ours) == repr(theirs).replace("torch.", "nablab.")


def test_repr_names_the_op():
    assert (
        repr(leaf([1.0, 2.0], dtype=nablab.float32) * 2)
        == "tensor([2., 4.], grad_fn=<MulBackward>)"
    )


def test_repr_pads_columns_like_torch(torch):
    data = [[0.1, -2.5], [10.0, 3.0]]
    assert repr(nablab.tensor(data)) == repr(torch.tensor(data))
