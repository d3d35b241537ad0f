"""Every differentiable op, from one table: analytic gradients against central
differences (`nablab.gradcheck`, float64) over hypothesis-drawn shapes and values, and
values and gradients against PyTorch on the same inputs (float64, and float32 for some).

An op is written once, as `fn(L, *tensors, **params)` with PyTorch's method names, and
runs unchanged on nablab (`L` = nablab's namespace) and on torch (`L` = torch's).
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    SETTINGS,
    VECTOR_MATMULS,
    Case,
    along_dim,
    away_from_zero,
    basic_index_case,
    binary,
    cat_case,
    chunk_case,
    clamp_case,
    einsum_case,
    expand_case,
    flatten_case,
    gather_case,
    integer_index_case,
    linear_case,
    mask_index_case,
    masked_fill_case,
    matmul_case,
    meshgrid_case,
    mm_case,
    norm_case,
    on_grid,
    permute_case,
    put_index_case,
    real,
    reduction,
    remainder_case,
    repeat_interleave_case,
    reshape_case,
    shapes,
    split_case,
    squeeze_case,
    stack_case,
    tensordot_case,
    transpose_case,
    triangle_case,
    unary,
    unsqueeze_case,
    where_case,
)

import nablab
import nablab.ops
from nablab.ops import registry


class Namespace:
    """Attribute lookup through several modules, first hit wins."""

    def __init__(self, *modules):
        self.modules = modules

    def __getattr__(self, name):
        for m in self.modules:
            if hasattr(m, name):
                return getattr(m, name)
        raise AttributeError(name)


NB = Namespace(nablab.ops, nablab)


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable
    cases: st.SearchStrategy
    float32: bool = False  # also compared with torch in float32
    torch: bool = True  # compared with torch (dropout's masks cannot be)
    gradcheck: dict = field(default_factory=dict)  # tolerances for nablab.gradcheck
    op: str = ""  # the registered op this row checks, where the row's name is a variant

    @property
    def checks(self):
        return self.op or self.name


def _put(a, index, v):
    """`a[index] = v` on a copy: the in-place write recorded as index_put."""
    z = a.clone()
    z[index] = v
    return z


POSITIVE = real(0.2, 3.0)
GRID, HALF_GRID = on_grid(), on_grid(offset=0.05)
DISTINCT = on_grid(n=40)  # with unique=True: no ties for max/min
MATRIX = shapes(min_dims=2, max_dims=2)


def _reduce(method, **extra):
    return lambda L, a, dim, keepdim: getattr(a, method)(dim=dim, keepdim=keepdim, **extra)


OPS = [
    # arithmetic, broadcasting
    Op("add", lambda L, a, b: a + b, binary(), float32=True),
    Op("add_scalar", lambda L, a: 1.5 + a, unary(), op="add"),
    Op("sub", lambda L, a, b: a - b, binary()),
    Op("rsub", lambda L, a: 2.0 - a, unary()),
    Op("mul", lambda L, a, b: a * b, binary(), float32=True),
    Op("mul_scalar", lambda L, a: a * -3.0, unary(), op="mul"),
    Op("div", lambda L, a, b: a / b, binary(b=away_from_zero()), float32=True),
    Op("rdiv", lambda L, a: 2.0 / a, unary(away_from_zero())),
    Op("pow_int", lambda L, a: a**3, unary(), op="pow"),
    Op("pow_float", lambda L, a: a**-1.5, unary(POSITIVE), op="pow"),
    Op("pow_tensor", lambda L, a, p: a**p, binary(a=POSITIVE), op="pow"),
    Op("rpow", lambda L, a: 2.0**a, unary()),
    Op("neg", lambda L, a: -a, unary()),
    # element-wise functions
    Op("exp", lambda L, a: a.exp(), unary(), float32=True),
    Op("log", lambda L, a: a.log(), unary(POSITIVE), float32=True),
    Op("sqrt", lambda L, a: a.sqrt(), unary(POSITIVE)),
    Op("sin", lambda L, a: a.sin(), unary()),
    Op("cos", lambda L, a: a.cos(), unary()),
    Op("abs", lambda L, a: a.abs(), unary(away_from_zero())),
    Op("sinh", lambda L, a: a.sinh(), unary()),
    Op("cosh", lambda L, a: a.cosh(), unary()),
    Op("log1p", lambda L, a: a.log1p(), unary(real(-0.5, 2.0))),
    Op("expm1", lambda L, a: a.expm1(), unary()),
    Op("log2", lambda L, a: a.log2(), unary(POSITIVE)),
    Op("log10", lambda L, a: L.log10(a), unary(POSITIVE)),
    Op("sign", lambda L, a: a.sign(), unary(away_from_zero())),
    Op("remainder", lambda L, a, b: a % b, remainder_case()),
    Op("remainder_fn", lambda L, a, b: L.remainder(a, b), remainder_case(), op="remainder"),
    # 0.4 divides the whole grid's points 0.4, 0.8, ...: the half grid stays 0.05 away
    Op("remainder_scalar", lambda L, a: a % 0.4, unary(HALF_GRID), op="remainder"),
    # PyTorch has no derivative of number % tensor: gradcheck only
    Op(
        "rremainder",
        lambda L, a: 2.0 % a,
        unary(real(2.2, 3.8) | real(-3.8, -2.2) | real(0.45, 0.49)),
        torch=False,
    ),
    Op("clamp", lambda L, a, min, max: a.clamp(min, max), clamp_case()),
    Op("maximum", lambda L, a, b: L.maximum(a, b), binary(GRID, HALF_GRID)),
    Op("minimum", lambda L, a, b: L.minimum(a, b), binary(HALF_GRID, GRID)),
    Op("where", lambda L, a, b, condition: L.where(condition, a, b), where_case()),
    Op("masked_fill", lambda L, a, mask, value: a.masked_fill(mask, value), masked_fill_case()),
    Op(
        "where_scalar",
        lambda L, a, mask, value: L.where(mask, a, value),
        masked_fill_case(),
        op="where",
    ),
    Op("clone", lambda L, a: a.clone(), unary()),
    Op(
        "to_float32",
        lambda L, a: a.to(L.float32),
        unary(),
        gradcheck={"eps": 1e-2, "atol": 1e-4},
        op="to_dtype",
    ),
    # reductions
    Op("sum", _reduce("sum"), reduction(), float32=True),
    Op("mean", _reduce("mean"), reduction()),
    Op("var", _reduce("var"), reduction(min_side=2)),
    Op("var_biased", _reduce("var", correction=0), reduction(), op="var"),
    Op("std", _reduce("std"), reduction(DISTINCT, min_side=2, unique=True)),
    Op("max", lambda L, a: a.max(), unary(DISTINCT, unique=True)),
    Op("min", lambda L, a: a.min(), unary(DISTINCT, unique=True)),
    Op(
        "max_dim",
        lambda L, a, dim, keepdim: a.max(dim, keepdim).values,
        reduction(DISTINCT, none=False, tuple_dims=False, unique=True),
        op="max",
    ),
    Op(
        "min_dim",
        lambda L, a, dim, keepdim: a.min(dim, keepdim).values,
        reduction(DISTINCT, none=False, tuple_dims=False, unique=True),
        op="min",
    ),
    Op("logsumexp", _reduce("logsumexp"), reduction(none=False), float32=True),
    Op(
        "prod",
        lambda L, a, dim, keepdim: a.prod() if dim is None else a.prod(dim, keepdim),
        reduction(tuple_dims=False),
    ),
    Op("cumsum", lambda L, a, dim: a.cumsum(dim), along_dim()),
    Op("norm", lambda L, a, dim, keepdim, p: a.norm(p, dim, keepdim), norm_case()),
    Op("norm_fn", lambda L, a: L.norm(a), unary(away_from_zero()), op="norm"),
    # shapes, joins, indexing
    Op("reshape", lambda L, a, shape: a.reshape(shape), reshape_case()),
    Op("view", lambda L, a, shape: a.view(shape), reshape_case(), op="reshape"),
    Op("flatten", lambda L, a, start_dim, end_dim: a.flatten(start_dim, end_dim), flatten_case()),
    Op("permute", lambda L, a, dims: a.permute(dims), permute_case()),
    Op("transpose", lambda L, a, dim0, dim1: a.transpose(dim0, dim1), transpose_case()),
    Op("swapaxes", lambda L, a, dim0, dim1: a.swapaxes(dim0, dim1), transpose_case()),
    Op(
        "meshgrid",
        lambda L, *parts, indexing: L.meshgrid(*parts, indexing=indexing),
        meshgrid_case(),
    ),
    Op("tril", lambda L, a, diagonal: a.tril(diagonal), triangle_case()),
    Op("triu", lambda L, a, diagonal: L.triu(a, diagonal=diagonal), triangle_case()),
    Op(
        "repeat_interleave",
        lambda L, a, repeats, dim: a.repeat_interleave(repeats, dim=dim),
        repeat_interleave_case(),
    ),
    Op("T", lambda L, a: a.T, unary(shape=MATRIX), op="permute"),
    Op("squeeze", lambda L, a, dim: a.squeeze() if dim is None else a.squeeze(dim), squeeze_case()),
    Op("unsqueeze", lambda L, a, dim: a.unsqueeze(dim), unsqueeze_case()),
    Op("expand", lambda L, a, sizes: a.expand(sizes), expand_case()),
    Op(
        "expand_as",
        lambda L, a, sizes: a.expand_as(L.zeros(tuple(a.expand(sizes).shape))),
        expand_case(),
    ),
    Op("cat", lambda L, *parts, dim: L.cat(parts, dim), cat_case()),
    Op("stack", lambda L, *parts, dim: L.stack(parts, dim), stack_case()),
    Op(
        "split",
        lambda L, a, split_size_or_sections, dim: a.split(split_size_or_sections, dim),
        split_case(),
    ),
    Op("chunk", lambda L, a, chunks, dim: a.chunk(chunks, dim), chunk_case()),
    Op("unbind", lambda L, a, dim: a.unbind(dim), along_dim()),
    Op("getitem_basic", lambda L, a, index: a[index], basic_index_case(), op="getitem"),
    Op("getitem_integer_arrays", lambda L, a, index: a[index], integer_index_case(), op="getitem"),
    Op("index_put", lambda L, a, v, index: _put(a, index, v), put_index_case()),
    Op("getitem_bool_mask", lambda L, a, index: a[index], mask_index_case(), op="getitem"),
    Op("gather", lambda L, a, dim, index: a.gather(dim, index), gather_case()),
    # products
    Op("matmul", lambda L, a, b: a @ b, matmul_case(), float32=True),
    Op("matmul_vectors", lambda L, a, b: a @ b, matmul_case(VECTOR_MATMULS), op="matmul"),
    Op("linear", lambda L, x, w, *bias: L.linear(x, w, *bias), linear_case(), float32=True),
    Op("mm", lambda L, a, b: a.mm(b), mm_case()),
    Op("bmm", lambda L, a, b: L.bmm(a, b), mm_case(batch=True)),
    Op("einsum", lambda L, *xs, equation: L.einsum(equation, *xs), einsum_case(), float32=True),
    Op("tensordot", lambda L, a, b, dims: L.tensordot(a, b, dims=dims), tensordot_case()),
    # activations and heads
    Op("sigmoid", lambda L, a: a.sigmoid(), unary(real(-6, 6)), float32=True),
    Op("tanh", lambda L, a: a.tanh(), unary(real(-4, 4)), float32=True),
    Op("relu", lambda L, a: a.relu(), unary(away_from_zero())),
    Op("leaky_relu", lambda L, a: L.leaky_relu(a, 0.1), unary(away_from_zero())),
    Op("elu", lambda L, a: L.elu(a, alpha=0.5), unary(away_from_zero())),
    Op("softplus", lambda L, a: L.softplus(a), unary(real(-5, 5)), float32=True),
    # β·x crosses the threshold at x = 1.5, a point of the whole grid: values avoid it
    Op(
        "softplus_threshold",
        lambda L, a: L.softplus(a, beta=2.0, threshold=3.0),
        unary(HALF_GRID),
        op="softplus",
    ),
    Op("softmax", lambda L, a, dim: a.softmax(dim), along_dim(), float32=True),
    Op("log_softmax", lambda L, a, dim: a.log_softmax(dim), along_dim(), float32=True),
    # a fresh generator per call: the same mask in every pass gradcheck makes
    Op(
        "dropout",
        lambda L, a: L.dropout(a, 0.4, generator=np.random.default_rng(0)),
        unary(),
        torch=False,
    ),
]
TORCH_OPS = [op for op in OPS if op.torch]


def test_every_registered_op_has_a_gradcheck_row():
    """The table is complete: an op registered without a row here fails this test."""
    checked = {op.checks for op in OPS}
    unknown = checked - set(registry.OPS)
    assert not unknown, f"rows name ops that are not registered: {sorted(unknown)}"
    missing = set(registry.OPS) - registry.NOT_DIFFERENTIABLE - checked
    assert not missing, f"registered ops without a gradcheck row in OPS: {sorted(missing)}"


def test_public_ops_are_exported():
    for name, fn in registry.PUBLIC.items():
        assert getattr(nablab, name) is fn and getattr(nablab.ops, name) is fn


def _convert(value, make):
    """Arrays among an op's params (conditions, masks, indices) as tensors of the library."""
    if isinstance(value, np.ndarray):
        return make(value)
    if isinstance(value, tuple):
        return tuple(_convert(v, make) for v in value)
    return value


def _single(L, out):
    """One tensor from an op's output: several outputs are flattened and joined."""
    if isinstance(out, (tuple, list)):
        return L.cat([o.reshape(-1) for o in out])
    return out


def _call(L, make, fn, case, dtype):
    """Run `fn` on `case` in library L; returns (output, leaves)."""
    leaves = [make(a.astype(dtype), requires_grad=True) for a in case.arrays]
    params = {k: _convert(v, make) for k, v in case.params.items()}
    return _single(L, fn(L, *leaves, **params)), leaves


def _nablab(array, requires_grad=False):
    return nablab.tensor(array, requires_grad=requires_grad)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
@SETTINGS
def test_gradcheck(op, data):
    case = data.draw(op.cases)
    params = {k: _convert(v, _nablab) for k, v in case.params.items()}
    inputs = tuple(_nablab(a, requires_grad=True) for a in case.arrays)
    assert nablab.gradcheck(
        lambda *xs: _single(NB, op.fn(NB, *xs, **params)), inputs, **op.gradcheck
    )


def _compare_with_torch(torch, fn, case, dtype, rtol, atol):
    TORCH = Namespace(torch.nn.functional, torch)

    def make_torch(array, requires_grad=False):
        return torch.tensor(array, requires_grad=requires_grad)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no 0/0 inside the op
        out, leaves = _call(NB, _nablab, fn, case, dtype)
        weight = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
        out.backward(weight)
    expected, torch_leaves = _call(TORCH, make_torch, fn, case, dtype)
    expected.backward(torch.tensor(weight))
    assert str(expected.dtype) == f"torch.{out.dtype}" and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=rtol, atol=atol)
    for i, (x, tx) in enumerate(zip(leaves, torch_leaves)):
        assert x.grad is not None and x.grad.dtype == np.dtype(dtype), f"input {i}"
        want = tx.grad.numpy() if tx.grad is not None else np.zeros(tx.shape, dtype)
        np.testing.assert_allclose(
            x.grad.array, want, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}"
        )


@pytest.mark.parametrize("op", TORCH_OPS, ids=lambda op: op.name)
@given(data=st.data())
@SETTINGS
def test_matches_torch_float64(op, data, torch):
    _compare_with_torch(torch, op.fn, data.draw(op.cases), np.float64, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op", [op for op in TORCH_OPS if op.float32], ids=lambda op: op.name)
@given(data=st.data())
@SETTINGS
def test_matches_torch_float32(op, data, torch):
    _compare_with_torch(torch, op.fn, data.draw(op.cases), np.float32, rtol=1e-5, atol=1e-6)


# Points where an op is not smooth or a naive formula divides 0 by 0: the gradient
# PyTorch documents (its derivatives.yaml conventions), on fixed inputs.
EDGES = {
    "std_of_constant": (lambda L, a: a.std(dim=1), [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]),
    "pow_0_at_0": (lambda L, a: a**0, [0.0, 2.0]),
    "pow_tensor_at_0": (lambda L, a, p: a**p, [0.0, 0.0, 2.0], [0.0, 2.0, 0.0]),
    "abs_at_0": (lambda L, a: a.abs(), [0.0, -1.0, 2.0]),
    "relu_at_0": (lambda L, a: a.relu(), [0.0, -1.0, 2.0]),
    "leaky_relu_at_0": (lambda L, a: L.leaky_relu(a, 0.2), [0.0, -1.0, 2.0]),
    "elu_at_0": (lambda L, a: L.elu(a, alpha=0.5), [0.0, -1.0, 2.0]),
    "clamp_at_bounds": (lambda L, a: a.clamp(0.0, 1.0), [0.0, 0.5, 1.0, 2.0]),
    "max_ties_share": (lambda L, a: a.max(), [1.0, 3.0, 3.0]),
    "min_ties_share": (lambda L, a: a.min(), [[1.0, 1.0], [1.0, 5.0]]),
    "maximum_ties_halve": (lambda L, a, b: L.maximum(a, b), [1.0, 2.0], [1.0, 3.0]),
    "minimum_ties_halve": (lambda L, a, b: L.minimum(a, b), [1.0, 2.0], [1.0, 3.0]),
    "softplus_at_threshold": (lambda L, a: L.softplus(a, beta=2.0, threshold=3.0), [1.5]),
    "softmax_masked": (lambda L, a: a.softmax(-1), [[0.0, -np.inf, 1.0]]),
    "log_softmax_masked": (lambda L, a: a.log_softmax(-1), [[0.0, -np.inf, 1.0]]),
    "getitem_repeats": (lambda L, a: a[[0, 0, 2, 0]], [1.0, 2.0, 3.0]),
    "prod_one_zero": (lambda L, a: a.prod(), [2.0, 0.0, 3.0]),
    "prod_zeros_along_dim": (lambda L, a: a.prod(1), [[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]]),
    "norm_at_0": (lambda L, a: a.norm(), [0.0, 0.0]),
    "norm_inf_ties_share": (lambda L, a: a.norm(float("inf")), [1.0, -3.0, 3.0]),
    "sign_at_0": (lambda L, a: a.sign(), [0.0, -1.0, 2.0]),
}


@pytest.mark.parametrize("name", EDGES)
def test_edge_gradients_match_torch(name, torch):
    fn, *inputs = EDGES[name]
    case = Case(tuple(np.array(a) for a in inputs))
    _compare_with_torch(torch, fn, case, np.float64, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_with_dim_return_torch_indices(name, dim, keepdim, torch):
    x = np.random.default_rng(0).permutation(24).reshape(2, 3, 4).astype(np.float64)
    ours = getattr(nablab.tensor(x), name)(dim, keepdim)
    theirs = getattr(torch.tensor(x), name)(dim, keepdim)
    np.testing.assert_array_equal(ours.values.array, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.array, theirs.indices.numpy())
    assert ours.indices.dtype == nablab.int64
    arg = getattr(nablab.tensor(x), f"arg{name}")(dim, keepdim)
    np.testing.assert_array_equal(arg.array, theirs.indices.numpy())


@pytest.mark.parametrize("method", ["sum", "mean", "var", "std", "logsumexp", "max", "min"])
def test_numpy_style_axis_keepdims_aliases(method):
    x = nablab.tensor(np.random.default_rng(1).standard_normal((3, 4)))
    numpy_style = getattr(x, method)(axis=1, keepdims=True)
    torch_style = getattr(x, method)(dim=1, keepdim=True)
    if method in ("max", "min"):
        numpy_style, torch_style = numpy_style.values, torch_style.values
    assert numpy_style.shape == (3, 1)
    np.testing.assert_array_equal(numpy_style.array, torch_style.array)


def test_dropout_keeps_or_zeroes_and_rescales():
    """Z = A ⊙ M / (1 − p), M_i ~ Bernoulli(1 − p), δ_A = δ_Z ⊙ M / (1 − p)."""
    p = 0.3
    x = nablab.ones(100_000, dtype=nablab.float64, requires_grad=True)
    z = nablab.ops.dropout(x, p, generator=np.random.default_rng(1))
    kept = z.array != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(z.array[kept], 1 / (1 - p))
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.array, z.array)


@pytest.mark.parametrize("p, training", [(0.0, True), (0.5, False)])
def test_dropout_identity_when_off(p, training):
    x = nablab.randn(3, 4)
    assert nablab.ops.dropout(x, p, training=training) is x


def test_dropout_p1_zeroes_everything():
    x = nablab.randn(3, 4, requires_grad=True)
    z = nablab.ops.dropout(x, 1.0)
    z.sum().backward()
    assert not z.array.any() and not x.grad.array.any()


# Inputs of magnitude 1e4: a naive exp overflows. Each op must stay finite, silent
# (no RuntimeWarning) and equal to torch's, forward and backward, in both float dtypes.
STABLE = {
    "sigmoid": lambda L, a: a.sigmoid(),
    "tanh": lambda L, a: a.tanh(),
    "softplus": lambda L, a: L.softplus(a),
    "log_softmax": lambda L, a: a.log_softmax(-1),
    "logsumexp": lambda L, a: a.logsumexp(-1),
}
LARGE = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4 - 1, 1e4 - 3], [-1e4, -1e4, -1e4 + 2]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", STABLE)
def test_stable_at_large_inputs(name, dtype, torch):
    _compare_with_torch(torch, STABLE[name], Case((LARGE,)), dtype, rtol=1e-6, atol=1e-6)
    out, (x,) = _call(NB, _nablab, STABLE[name], Case((LARGE,)), dtype)
    out.sum().backward()
    assert np.isfinite(out.array).all() and np.isfinite(x.grad.array).all()


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 2)])
def test_arg_reductions_keepdim_without_dim_keep_every_dim(name, shape, torch):
    """torch: x.argmax(keepdim=True) is the flat index with shape (1, 1, ...), as sum's."""
    x = np.random.default_rng(3).permutation(int(np.prod(shape))).reshape(shape).astype(float)
    ours = getattr(nablab.tensor(x), name)(keepdim=True)
    theirs = getattr(torch.tensor(x), name)(keepdim=True)
    assert ours.shape == tuple(theirs.shape) == (1,) * len(shape)
    np.testing.assert_array_equal(ours.array, theirs.numpy())
    assert getattr(nablab.tensor(x), name)(axis=-1 if shape else None).shape == tuple(
        getattr(torch.tensor(x), name)(dim=-1 if shape else None).shape
    )


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_keepdim_without_dim_is_a_type_error_as_in_torch(name, torch):
    x = np.arange(6.0).reshape(2, 3)
    with pytest.raises(TypeError):
        getattr(torch.tensor(x), name)(keepdim=True)
    with pytest.raises(TypeError, match="keepdim=True needs a dim"):
        getattr(nablab.tensor(x), name)(keepdim=True)


@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_all_any_match_torch(name, dim, keepdim, torch):
    x = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    ours, theirs = (
        getattr(nablab.tensor(x), name)(**kwargs),
        getattr(torch.tensor(x), name)(**kwargs),
    )
    assert ours.dtype == nablab.bool
    np.testing.assert_array_equal(ours.array, theirs.numpy())


def test_isclose_allclose_have_torch_defaults(torch):
    a = np.array([1.0, 1.0, 1.0, 0.0, np.nan])
    b = a + np.array([1e-6, 2e-5, 0.0, 1e-9, 0.0])
    ours = nablab.isclose(nablab.tensor(a), nablab.tensor(b))
    np.testing.assert_array_equal(ours.array, torch.isclose(torch.tensor(a), torch.tensor(b)))
    assert nablab.tensor(a[:4]).isclose(nablab.tensor(b[:4])).array.tolist() == [
        True,
        False,
        True,
        True,
    ]
    assert nablab.allclose(nablab.tensor(a[:1]), nablab.tensor(b[:1])) is True
    assert nablab.allclose(nablab.tensor(a[:2]), nablab.tensor(b[:2])) is False


def test_remainder_takes_the_sign_of_the_divisor_as_torch(torch):
    a, b = [-7, -3, 3, 7], [2, -2, 2, -3]
    ours = nablab.tensor(a) % nablab.tensor(b)
    assert ours.dtype == nablab.int64
    np.testing.assert_array_equal(ours.array, (torch.tensor(a) % torch.tensor(b)).numpy())
    np.testing.assert_array_equal((5 % nablab.tensor([3.0, -3.0])).array, [2.0, -1.0])
    np.testing.assert_array_equal(nablab.tensor([-3.5, 3.5]).remainder(2).array, [0.5, 1.5])


def test_scatter_builds_the_one_hot_matrix(torch):
    y = [2, 0, 3]
    ours = nablab.zeros(3, 4).scatter_(1, nablab.tensor(y).view(-1, 1), 1)
    theirs = torch.zeros(3, 4).scatter_(1, torch.tensor(y).view(-1, 1), 1)
    np.testing.assert_array_equal(ours.array, theirs.numpy())
    src = np.arange(1.0, 7.0).reshape(2, 3)
    index = [[0, 1, 2], [2, 0, 1]]
    ours = nablab.zeros(3, 3).scatter_(0, nablab.tensor(index), nablab.tensor(src))
    theirs = torch.zeros(3, 3).scatter_(0, torch.tensor(index), torch.tensor(src).float())
    np.testing.assert_array_equal(ours.array, theirs.numpy())


def test_scatter_follows_the_in_place_rules_a_leaf_that_requires_grad_refuses():
    x = nablab.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
        x.scatter_(1, nablab.tensor([[0], [1]]), 1.0)
    with nablab.no_grad():
        x.scatter_(1, nablab.tensor([[0], [1]]), 1.0)
    assert x.array.sum() == 2 and x._version == 1


def test_retain_grad_keeps_a_non_leaf_gradient_as_torch(torch):
    def run(L, make):
        x = make([[1.0, -2.0], [3.0, 0.5]])
        y = x * x
        y.retain_grad()
        z = (y.exp() * 0.1).sum()
        z.retain_grad()
        z.backward()
        w = x * 2  # not retained: no .grad
        w.sum().backward()
        return y.grad, z.grad, w

    ours = run(nablab, lambda v: nablab.tensor(v, dtype=nablab.float64, requires_grad=True))
    theirs = run(torch, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    np.testing.assert_allclose(ours[0].array, theirs[0].numpy(), rtol=1e-12)
    assert ours[1].item() == theirs[1].item() == 1.0
    assert ours[2].grad is None  # torch warns on reading it, and has None too


def test_contiguous_is_the_tensor_itself():
    x = nablab.randn(2, 3)
    assert x.T.contiguous().shape == (3, 2) and x.contiguous() is x


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: nablab.mm(nablab.ones(2, 3, 4), nablab.ones(4, 2)), RuntimeError, "2-D"),
        (lambda: nablab.bmm(nablab.ones(2, 3, 4), nablab.ones(3, 4, 2)), RuntimeError, "batch"),
        (lambda: nablab.einsum("ij,jk->ik", nablab.ones(2, 3)), ValueError, "1 given"),
        (lambda: nablab.einsum("ij->i", nablab.ones(2)), ValueError, "1 dims"),
        (lambda: nablab.tensordot(nablab.ones(2), nablab.ones(3), 1), ValueError, "paired"),
        (lambda: nablab.ones(3).norm(p="nuc"), ValueError, "'nuc'"),
        (lambda: nablab.ones(3).tril(), RuntimeError, "2 or more dims"),
        (lambda: nablab.meshgrid(nablab.ones(2), indexing="yx"), ValueError, "'yx'"),
    ],
)
def test_clear_errors_of_the_new_ops(call, error, match):
    with pytest.raises(error, match=match):
        call()
