"""nn.init: each initialiser's bounds/std follow PyTorch's formula (checked on large draws,
and against torch's own draws), in place, repeatable with a seed or a generator."""

import math

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn import init

SHAPE = (300, 200, 2)  # fan_in = 400, fan_out = 600


def _param(shape=SHAPE):
    return nn.Parameter(nablab.zeros(*shape, dtype=nablab.float64))


# (name, kwargs, kind, expected std or bound)
CASES = [
    ("uniform_", dict(a=-0.5, b=1.5), "uniform", (-0.5, 1.5)),
    ("normal_", dict(mean=0.3, std=2.0), "normal", (0.3, 2.0)),
    ("xavier_uniform_", dict(gain=2.0), "uniform", 2.0 * math.sqrt(6 / 1000)),
    ("xavier_normal_", dict(gain=0.5), "normal", 0.5 * math.sqrt(2 / 1000)),
    ("kaiming_uniform_", dict(), "uniform", math.sqrt(6 / 400)),  # a = 0: gain √2
    ("kaiming_uniform_", dict(a=math.sqrt(5)), "uniform", 1 / 20),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), "uniform", math.sqrt(6 / 600)),
    ("kaiming_normal_", dict(nonlinearity="relu"), "normal", math.sqrt(2 / 400)),
    ("kaiming_normal_", dict(a=0.2, mode="fan_out"), "normal", math.sqrt(2 / 1.04 / 600)),
    ("kaiming_normal_", dict(nonlinearity="tanh"), "normal", 5 / 3 / 20),
]


def _check(values, kind, expected):
    if kind == "uniform":
        lo, hi = expected if isinstance(expected, tuple) else (-expected, expected)
        width = hi - lo
        assert values.min() >= lo and values.max() <= hi
        assert values.min() < lo + 0.01 * width and values.max() > hi - 0.01 * width
        assert abs(values.std() - width / math.sqrt(12)) < 0.01 * width
    else:
        mean, std = expected if isinstance(expected, tuple) else (0.0, expected)
        assert abs(values.mean() - mean) < 0.02 * std
        assert abs(values.std() - std) < 0.01 * std


@pytest.mark.parametrize(("name", "kwargs", "kind", "expected"), CASES)
def test_init_statistics_follow_the_formula(name, kwargs, kind, expected):
    nablab.manual_seed(0)
    p = _param()
    assert getattr(init, name)(p, **kwargs) is p
    _check(p.array, kind, expected)
    assert p.is_leaf and p.requires_grad


@pytest.mark.parametrize(("name", "kwargs", "kind", "expected"), CASES)
def test_torch_draws_fit_the_same_formula(torch, name, kwargs, kind, expected):
    torch.manual_seed(0)
    t = torch.zeros(SHAPE, dtype=torch.float64)
    getattr(torch.nn.init, name)(t, **kwargs)
    _check(t.numpy(), kind, expected)


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None),
     ("leaky_relu", None), ("leaky_relu", 0.2), ("conv2d", None)],
)  # fmt: skip
def test_calculate_gain_matches_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15
    )


def test_constant_zeros_ones():
    p = _param((3, 2))
    assert (init.constant_(p, 2.5).array == 2.5).all()
    assert not init.zeros_(p).array.any()
    assert (init.ones_(p).array == 1).all()


def test_seed_and_generator_make_draws_repeatable():
    a, b = _param((4, 4)), _param((4, 4))
    nablab.manual_seed(7)
    init.kaiming_normal_(a)
    nablab.manual_seed(7)
    init.kaiming_normal_(b)
    np.testing.assert_array_equal(a.array, b.array)
    init.xavier_uniform_(a, generator=np.random.default_rng(1))
    init.xavier_uniform_(b, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(a.array, b.array)


def test_init_keeps_dtype_and_records_no_graph():
    p = nn.Parameter(nablab.zeros(5, 5))
    init.normal_(p)
    assert p.dtype == nablab.float32 and p.is_leaf and p.grad_fn is None


def test_init_errors():
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(got shape \(5,\)\)"):
        init.xavier_uniform_(_param((5,)))
    with pytest.raises(ValueError, match="Mode 'fan' not supported"):
        init.kaiming_uniform_(_param((2, 2)), mode="fan")
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "steep")


def test_kaiming_on_an_empty_tensor_warns_and_does_nothing():
    p = _param((0, 3))
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_uniform_(p) is p
