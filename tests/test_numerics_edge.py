"""Edge cases beside PyTorch: empty tensors, one element, a dim of size 0, NaN extremes, integer
inputs, float16 printing. Each case runs the same expression on nablab and on torch and compares
the values, the gradients and the errors."""

import warnings

import numpy as np
import pytest

import nablab

NAN = float("nan")


def both(torch, fn, data, dtype=np.float32):
    """fn on nablab and on torch, each on a leaf holding ``data``; Σ of the output backward
    (where it is differentiable). Returns ((value, grad) ours, (value, grad) torch's)."""
    results = []
    for lib in (nablab, torch):
        array = np.array(data, dtype=dtype)
        x = lib.tensor(array, requires_grad=array.dtype.kind == "f")
        out = fn(x)
        out = out[0] if isinstance(out, tuple) else out  # (values, indices)
        if x.requires_grad:
            out.sum().backward()
        grad = None if x.grad is None else np.asarray(x.grad.detach().numpy())
        results.append((np.asarray(out.detach().numpy()), grad))
    return results


def assert_same(torch, fn, data, dtype=np.float32):
    (ours, our_grad), (theirs, their_grad) = both(torch, fn, data, dtype)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0, equal_nan=True)
    if their_grad is not None:
        assert our_grad.shape == their_grad.shape
        np.testing.assert_allclose(our_grad, their_grad, rtol=1e-6, atol=0, equal_nan=True)
    return ours, our_grad


def empty(*shape):
    return np.zeros(shape)


@pytest.mark.parametrize(
    "fn, data",
    [
        (lambda x: x.mean(), empty(0)),
        (lambda x: x.mean(), empty(2, 0)),
        (lambda x: x.mean(dim=1), empty(2, 0)),
        (lambda x: x.mean(dim=0), empty(2, 0)),
    ],
)
def test_mean_of_nothing_is_nan(fn, data, torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, _ = assert_same(torch, fn, data)
    assert value.size == 0 or np.isnan(value).all()


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(
    "call, data",
    [
        (lambda f: f(), [3.0]),  # one element: n − 1 = 0 degrees of freedom
        (lambda f: f(dim=1), [[1.0], [2.0], [5.0]]),
        (lambda f: f(), empty(0)),  # nothing: NaN, not −0.0
        (lambda f: f(dim=1), empty(2, 0)),
        (lambda f: f(correction=0), empty(0)),
        (lambda f: f(dim=0), empty(0, 3)),
    ],
)
def test_var_and_std_without_degrees_of_freedom_are_nan(name, call, data, torch):
    def fn(x):
        return call(getattr(x, name))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nablab: silent; torch warns, and gives NaN too
        warnings.filterwarnings("ignore", message=".*degrees of freedom is <= 0")
        value, grad = assert_same(torch, fn, data)
    assert value.size == 0 or np.isnan(value).all()
    assert grad.size == 0 or np.isnan(grad).all()


def test_var_with_degrees_of_freedom_is_unchanged(torch):
    data = [[1.0, 2.0, 4.0], [0.5, 0.5, 0.5]]
    for name in ("var", "std"):
        assert_same(torch, lambda x, name=name: getattr(x, name)(dim=1), data, np.float64)


SIZE_ZERO_AXIS = [empty(2, 0), empty(0, 3), empty(0)]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("data", SIZE_ZERO_AXIS, ids=str)
def test_softmax_over_nothing_is_empty(name, data, torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = assert_same(torch, lambda x: getattr(x, name)(-1), data)
    assert value.shape == data.shape and grad.shape == data.shape


@pytest.mark.parametrize("data", SIZE_ZERO_AXIS, ids=str)
def test_logsumexp_over_nothing_is_minus_infinity(data, torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, _ = assert_same(torch, lambda x: x.logsumexp(-1), data)
    assert np.all(value == -np.inf)


def test_logsumexp_over_all_of_nothing(torch):
    value, _ = assert_same(torch, lambda x: x.logsumexp((0, 1)), empty(0, 3))
    assert value == -np.inf


def error_of(fn):
    try:
        fn()
    except Exception as e:
        return e
    raise AssertionError("no error")


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((2, 0), -1), ((0, 3), 0)])
def test_max_min_over_a_dim_of_size_0_is_torchs_index_error(name, shape, dim, torch):
    ours = error_of(lambda: getattr(nablab.zeros(shape), name)(dim))
    theirs = error_of(lambda: getattr(torch.zeros(shape), name)(dim))
    assert type(ours) is type(theirs) is IndexError and str(ours) == str(theirs)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_over_a_nonempty_dim_of_an_empty_tensor_are_empty(name, torch):
    value, grad = assert_same(torch, lambda x: getattr(x, name)(1), empty(0, 3))
    assert value.shape == (0,) and grad.shape == (0, 3)
    assert getattr(nablab.zeros((0, 3)), name)(1).indices.dtype == nablab.int64


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_all_of_nothing_is_an_error(name, torch):
    ours = error_of(lambda: getattr(nablab.zeros(0), name)())
    theirs = error_of(lambda: getattr(torch.zeros(0), name)())
    assert type(ours) is type(theirs) is RuntimeError
    assert "without a dim" in str(ours) and "(0,)" in str(ours)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize(
    "data",
    [[1.0, NAN, 3.0], [NAN, NAN, 3.0], [[NAN, 1.0], [2.0, 3.0]], [2.0, 5.0, 5.0, 2.0]],
    ids=str,
)
def test_a_nan_extreme_gives_its_gradient_to_the_nans_only(name, data, torch):
    _, grad = assert_same(torch, lambda x: getattr(x, name)(), data)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("name", ["max", "min"])
def test_a_nan_along_a_dim_takes_the_gradient_of_its_row(name, torch):
    data = [[1.0, NAN, 3.0, NAN], [4.0, 2.0, 3.0, 1.0]]
    _, grad = assert_same(torch, lambda x: getattr(x, name)(dim=1), data)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_logsumexp_of_integers_is_in_the_default_float_dtype(dtype, default, torch):
    nablab.set_default_dtype(getattr(nablab, default))
    torch_default = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default))
    try:
        value, _ = assert_same(torch, lambda x: x.logsumexp(0), [1, 0, 1], dtype)
    finally:
        torch.set_default_dtype(torch_default)
    assert value.dtype == np.dtype(default)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_integers_is_an_error_as_in_torch(name, torch):
    ours = error_of(lambda: getattr(nablab.tensor([1, 2, 3]), name)(0))
    theirs = error_of(lambda: getattr(torch.tensor([1, 2, 3]), name)(0))
    assert isinstance(theirs, NotImplementedError)  # torch: "... not implemented for 'Long'"
    assert isinstance(ours, TypeError)
    assert str(ours) == f"{name} needs a floating point tensor, got dtype int64"


@pytest.mark.parametrize(
    "data",
    [
        [1.0, 60000.0, 1e-3],
        [65504.0, -1.0],
        [1.0, 2.5],
        [np.inf, 1e-5, -np.inf, np.nan],
        [[0.0, 5.0], [2000.0, 1.0]],
        [[0.1, 0.2], [300.0, 0.5]],
        [0.0, 0.0],
    ],
    ids=str,
)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_printing_is_torchs_and_float16_never_warns(data, dtype, torch):
    ours = nablab.tensor(data, dtype=getattr(nablab, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = repr(ours)
    assert text == repr(torch.tensor(data, dtype=getattr(torch, dtype))).replace(
        "torch.", "nablab."
    )
