"""Bad input gets an error that says what was expected and what came: the op's name and
the shapes involved, or the way out (retain_graph=True, pass a grad, detach)."""

import re

import numpy as np
import pytest

import nablab
from nablab.ops import dropout, where


def shapes_in(*shapes):
    """A pattern matching the shapes in order, anywhere in the message."""
    return ".*".join(re.escape(str(s)) for s in shapes)


def leaf(*shape):
    return nablab.zeros(*shape, requires_grad=True)


@pytest.mark.parametrize(
    "name, op",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
        ("pow", lambda a, b: a**b),
        ("maximum", nablab.ops.maximum),
        ("minimum", nablab.ops.minimum),
    ],
)
def test_broadcast_mismatch_names_op_and_shapes(name, op):
    with pytest.raises(ValueError, match=f"{name}.*{shapes_in((2, 3), (4,))}.*broadcast"):
        op(nablab.ones(2, 3), nablab.ones(4))


def test_where_mismatch_names_all_shapes():
    with pytest.raises(ValueError, match=f"where.*{shapes_in((2,), (3,), (4,))}"):
        where(nablab.ones(2) > 0, nablab.ones(3), nablab.ones(4))


@pytest.mark.parametrize(
    "a, b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 2, 3), (2, 2)), ((5, 2), (3,))]
)
def test_matmul_mismatch_names_both_shapes(a, b):
    with pytest.raises(ValueError, match=f"matmul.*{shapes_in(a, b)}"):
        nablab.ones(*a) @ nablab.ones(*b)


def test_matmul_of_a_scalar_is_refused():
    with pytest.raises(ValueError, match=r"matmul.*at least 1 dim.*\(\).*\(2,\)"):
        nablab.tensor(2.0) @ nablab.ones(2)


def test_linear_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=f"linear.*{shapes_in((4, 3), (2, 5))}"):
        nablab.linear(nablab.ones(4, 3), nablab.ones(2, 5))


@pytest.mark.parametrize("method", ["reshape", "view"])
def test_reshape_to_another_size_names_both_shapes(method):
    with pytest.raises(ValueError, match=f"reshape.*{shapes_in((2, 3), (4, 2))}"):
        getattr(nablab.ones(2, 3), method)(4, 2)


def test_cat_of_mismatched_shapes():
    with pytest.raises(ValueError, match=f"cat.*{shapes_in((2, 3), (2, 4))}"):
        nablab.cat([nablab.ones(2, 3), nablab.ones(2, 4)], dim=0)


def test_stack_of_mismatched_shapes():
    with pytest.raises(ValueError, match=f"stack.*{shapes_in((2, 3), (3, 2))}"):
        nablab.stack([nablab.ones(2, 3), nablab.ones(3, 2)])


def test_cat_of_nothing():
    with pytest.raises(ValueError, match="cat: expected a non-empty sequence"):
        nablab.cat([])


def test_expand_to_incompatible_sizes():
    with pytest.raises(ValueError, match=f"expand.*{shapes_in((2, 3), (2, 4))}"):
        nablab.ones(2, 3).expand(2, 4)


def test_gather_index_rank_mismatch():
    index = nablab.tensor([0, 1])
    with pytest.raises(
        ValueError, match=r"gather: index must have as many dims as the input \(2\), got 1"
    ):
        nablab.ones(2, 3).gather(1, index)


@pytest.mark.parametrize("index", [5, -4, (0, 3), [0, 3], (slice(None), 7)])
def test_indexing_out_of_range_raises_index_error(index):
    with pytest.raises(IndexError, match=re.escape("(3,") + r"|\(2, 3\)"):
        x = nablab.ones(3) if not isinstance(index, tuple) else nablab.ones(2, 3)
        x[index]


def test_dim_out_of_range():
    with pytest.raises(IndexError, match=r"dimension out of range.*\[-2, 1\].*got 2"):
        nablab.ones(2, 3).sum(dim=2)


def test_split_sections_must_add_up():
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] do not add up to 3"):
        nablab.ones(3).split([1, 1])


def test_permute_needs_a_permutation():
    with pytest.raises(ValueError, match="permute.*not a permutation"):
        nablab.ones(2, 3).permute(0, 0)


# ----- autograd ------------------------------------------------------------------------


def test_backward_of_non_scalar_without_grad():
    y = leaf(2, 3) * 2
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2, 3\).*backward\(grad\)"):
        y.backward()


def test_backward_with_a_grad_of_the_wrong_shape():
    y = leaf(2, 3) * 2
    with pytest.raises(RuntimeError, match=f"grad has shape {shapes_in((3, 2), (2, 3))}"):
        y.backward(np.ones((3, 2)))


def test_second_backward_through_a_freed_graph():
    y = (leaf(3) * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_backward_of_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nablab.ones(2).sum().backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda: nablab.tensor([1, 2], requires_grad=True),
        lambda: nablab.tensor([1, 2]).requires_grad_(),
        lambda: nablab.arange(3, requires_grad=True),
        lambda: nablab.tensor([True], requires_grad=True),
    ],
)
def test_requires_grad_on_integer_tensors_is_refused(make):
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        make()


def test_in_place_write_to_a_tensor_that_requires_grad():
    x = leaf(3)
    with pytest.raises(
        RuntimeError,
        match="a leaf Variable that requires grad is being used in an in-place operation",
    ):
        x[0] = 1.0
    with nablab.no_grad():
        x[0] = 1.0
    assert x.array[0] == 1.0


def test_numpy_of_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        leaf(2).numpy()


def test_item_of_many_elements():
    with pytest.raises(ValueError, match="3 elements cannot be converted to a scalar"):
        nablab.ones(3).item()


def test_function_backward_with_a_gradient_of_the_wrong_shape():
    class Squash(nablab.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad  # should be broadcast to x's shape

    y = Squash.apply(leaf(3))
    with pytest.raises(RuntimeError, match=r"gradient of shape \(\) for an input of shape \(3,\)"):
        y.backward()


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        nablab.gradcheck(lambda x: x * 2, nablab.ones(2))


# ----- arguments ---------------------------------------------------------------------


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="at least one of min and max"):
        nablab.ones(2).clamp()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_range(p):
    with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
        dropout(nablab.ones(2), p)


def test_factory_sizes_must_be_non_negative_integers():
    with pytest.raises(ValueError, match=r"non-negative integers, got \(2, -1\)"):
        nablab.zeros(2, -1)


def test_default_dtype_must_be_floating():
    with pytest.raises(TypeError, match="floating dtype, got int64"):
        nablab.set_default_dtype(nablab.int64)


def test_manual_seed_needs_a_non_negative_integer():
    with pytest.raises(ValueError, match="non-negative integer, got -1"):
        nablab.manual_seed(-1)
