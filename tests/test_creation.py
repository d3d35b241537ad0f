"""Tensor factories: shapes, dtypes and values as PyTorch's same call gives them,
`requires_grad`, and the default float dtype. Each call is written once, `fn(L)`, and
run with L = nablab and L = torch."""

import numpy as np
import pytest

import nablab

DETERMINISTIC = {
    "zeros": lambda L: L.zeros(2, 3),
    "zeros_tuple": lambda L: L.zeros((2, 3)),
    "zeros_list": lambda L: L.zeros([4]),
    "zeros_0d": lambda L: L.zeros(()),
    "ones_float64": lambda L: L.ones(4, dtype=L.float64),
    "full_float": lambda L: L.full((2, 3), 1.5),
    "full_int": lambda L: L.full((2,), 7),
    "full_bool": lambda L: L.full((2,), True),
    "full_dtype": lambda L: L.full((2,), 7, dtype=L.float64),
    "empty": lambda L: L.empty(2, 3),
    "eye": lambda L: L.eye(3),
    "eye_rectangular": lambda L: L.eye(2, 4),
    "arange_int": lambda L: L.arange(5),
    "arange_start_step": lambda L: L.arange(2, 9, 3),
    "arange_negative_step": lambda L: L.arange(5, 0, -2),
    "arange_float_step": lambda L: L.arange(0, 1, 0.25),
    "arange_float_end": lambda L: L.arange(1, 2.5),
    "arange_tenths": lambda L: L.arange(0, 0.3, 0.1),
    "arange_dtype": lambda L: L.arange(4, dtype=L.float64),
    "linspace": lambda L: L.linspace(0, 1, 5),
    "linspace_one_step": lambda L: L.linspace(3, 3, 1),
    "linspace_float64": lambda L: L.linspace(-1, 1, 7, dtype=L.float64),
    "tensor_nested_ints": lambda L: L.tensor([[1, 2], [3, 4]]),
    "tensor_mixed": lambda L: L.tensor([1, 2.5]),
    "tensor_bool": lambda L: L.tensor([True, False]),
    "tensor_scalar_int": lambda L: L.tensor(3),
    "tensor_scalar_float": lambda L: L.tensor(3.0),
    "tensor_numpy_int32": lambda L: L.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor_numpy_float64": lambda L: L.tensor(np.array([1.0, 2.0])),
    "tensor_dtype": lambda L: L.tensor([[1, 2]], dtype=L.float64),
    "zeros_like": lambda L: L.zeros_like(L.tensor([1, 2])),
    "ones_like_dtype": lambda L: L.ones_like(L.tensor([1, 2]), dtype=L.float64),
}

RANDOM = {
    "rand": lambda L: L.rand(2, 3),
    "rand_tuple_float64": lambda L: L.rand((2, 3), dtype=L.float64),
    "randn": lambda L: L.randn(4, 5),
    "randn_like": lambda L: L.randn_like(L.zeros(2, 3, dtype=L.float64)),
    "randint": lambda L: L.randint(3, 10, (3, 4)),
    "randint_high_size": lambda L: L.randint(5, (6,)),
}


def _same_kind(ours, theirs):
    assert str(theirs.dtype) == f"torch.{ours.dtype}"
    assert ours.shape == tuple(theirs.shape)
    assert isinstance(ours, nablab.Tensor) and not ours.requires_grad


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_factory_matches_torch(name, torch):
    ours, theirs = DETERMINISTIC[name](nablab), DETERMINISTIC[name](torch)
    _same_kind(ours, theirs)
    if name != "empty":
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", RANDOM)
def test_random_factory_matches_torch_shape_and_dtype(name, torch):
    _same_kind(RANDOM[name](nablab), RANDOM[name](torch))


def test_random_draws_lie_in_their_ranges():
    nablab.manual_seed(0)
    u = nablab.rand(10_000).array
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = nablab.randn(10_000).array
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    k = nablab.randint(3, 10, (10_000,)).array
    assert set(np.unique(k)) == set(range(3, 10))


@pytest.mark.parametrize(
    "make",
    [
        lambda: nablab.zeros(2, 3, requires_grad=True),
        lambda: nablab.ones(2, requires_grad=True),
        lambda: nablab.full((2,), 1.5, requires_grad=True),
        lambda: nablab.eye(2, requires_grad=True),
        lambda: nablab.arange(0.0, 1.0, 0.5, requires_grad=True),
        lambda: nablab.linspace(0, 1, 3, requires_grad=True),
        lambda: nablab.rand(2, requires_grad=True),
        lambda: nablab.randn(2, requires_grad=True),
        lambda: nablab.tensor([1.0, 2.0], requires_grad=True),
        lambda: nablab.zeros_like(nablab.ones(2), requires_grad=True),
        lambda: nablab.ones_like(nablab.ones(2), requires_grad=True),
        lambda: nablab.randn_like(nablab.ones(2), requires_grad=True),
    ],
)
def test_factories_make_leaves_that_require_grad(make):
    t = make()
    assert t.requires_grad and t.is_leaf and t.grad is None
    (t * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.array, np.full(t.shape, 2.0))


def test_float_factories_follow_the_default_dtype(torch):
    nablab.set_default_dtype(nablab.float64)
    for make in (
        lambda L: L.zeros(2),
        lambda L: L.rand(2),
        lambda L: L.arange(0.0, 1.0),
        lambda L: L.tensor([1.5]),
        lambda L: L.full((1,), 0.5),
    ):
        assert make(nablab).dtype == nablab.float64
    assert nablab.arange(3).dtype == nablab.int64


def test_tensor_copies_its_data():
    source = np.array([1.0, 2.0])
    t = nablab.tensor(source)
    source[0] = 9.0
    assert t.array[0] == 1.0
    u = nablab.tensor(t)
    u.array[1] = 7.0
    assert t.array[1] == 2.0


@pytest.mark.parametrize(
    "args, shape",
    [((0.0, 1.0, (2, 3)), (2, 3)), ((1.0, 2.0, (4,)), (4,))],
)
def test_normal_with_numbers_and_a_size_matches_torch_shape_and_dtype(args, shape, torch):
    ours, theirs = nablab.normal(*args), torch.normal(*args)
    assert ours.shape == tuple(theirs.shape) == shape and str(theirs.dtype) == f"torch.{ours.dtype}"


def test_normal_draws_from_the_library_generator():
    nablab.manual_seed(7)
    drawn = nablab.normal(2.0, 3.0, (5,))
    nablab.manual_seed(7)
    np.testing.assert_allclose(drawn.array, 2.0 + 3.0 * nablab.randn(5).array, rtol=1e-6)


def test_normal_with_tensors_draws_one_per_element():
    mean = nablab.tensor([0.0, 100.0, -100.0], dtype=nablab.float64)
    z = nablab.normal(mean, 1e-3)
    assert z.dtype == nablab.float64 and not z.requires_grad
    np.testing.assert_allclose(z.array, mean.array, atol=0.01)
    z = nablab.normal(0.0, nablab.tensor([[0.0], [1.0]]))
    assert z.shape == (2, 1) and z.array[0, 0] == 0.0
    big = nablab.normal(nablab.zeros(200_000), nablab.full((200_000,), 2.0))
    assert abs(big.array.std() - 2.0) < 0.02 and abs(big.array.mean()) < 0.02


def test_normal_errors_say_what_is_missing():
    with pytest.raises(TypeError, match="need a size"):
        nablab.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="size is only for numbers"):
        nablab.normal(nablab.zeros(2), 1.0, (2,))
