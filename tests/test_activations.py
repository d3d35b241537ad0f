"""The activation catalogue: each entry's op matches its closed forms, and nn, functional,
viz and the labs all offer every entry (one entry is all a new activation needs)."""

import numpy as np
import pytest

import nablab
import nablab.nn.functional as F
from nablab import activations, nn, viz
from nablab.labs import recipes

POINTS = np.array([-30.0, -3.0, -0.7, -0.1, 0.1, 0.7, 3.0, 30.0])  # away from the kink at 0
ENTRIES = list(activations.CATALOGUE.values())


def value_and_slope(fn, xs):
    x = nablab.tensor(xs, dtype=nablab.float64, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.array, x.grad.array


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_op_matches_the_closed_forms(entry):
    value, slope = value_and_slope(entry.op, POINTS)
    np.testing.assert_allclose(value, entry.value(POINTS), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(slope, entry.slope(POINTS), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_part_of_the_library_offers_the_entry(entry):
    layer = getattr(nn, entry.module)
    assert layer.activation is entry and layer.__doc__ == entry.formula
    x = nablab.tensor(POINTS)
    np.testing.assert_array_equal(layer()(x).array, entry.op(x).array)
    np.testing.assert_array_equal(getattr(F, entry.name)(x).array, entry.op(x).array)
    assert getattr(nablab, entry.name) is entry.op
    assert entry.title(negative_slope=0.1) in viz.activations.DEFAULT_ACTIVATIONS
    assert entry.name in recipes.ACTIVATION_NAMES
    assert type(recipes.activation_module(entry.name)) is layer


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_gradient_facts_hold(entry):
    xs = np.linspace(-40, 40, 8001)
    slope = entry.slope(xs)
    negative = slope[xs < 0]
    assert entry.dies == bool(np.all(negative == 0))
    negative_end, positive_end = slope[0] < 1e-6 and not entry.dies, slope[-1] < 1e-6
    side = "both" if negative_end and positive_end else "negative" if negative_end else ""
    assert entry.saturates == side
    if entry.saturated is not None:
        flat = entry.saturated(entry.value(xs))
        assert flat.any() and np.all(slope[flat] < 0.04 * slope.max())


def test_layer_parameters_and_repr_follow_pytorch(torch):
    for ours, theirs in [
        (nn.LeakyReLU(0.2, inplace=True), torch.nn.LeakyReLU(0.2, inplace=True)),
        (nn.ELU(alpha=0.5), torch.nn.ELU(alpha=0.5)),
        (nn.Softplus(2.0, 10.0), torch.nn.Softplus(2.0, 10.0)),
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
    ]:
        assert repr(ours) == repr(theirs)
        x = np.linspace(-3, 3, 13)
        np.testing.assert_allclose(
            ours(nablab.tensor(x)).array, theirs(torch.tensor(x)).numpy(), rtol=1e-6
        )


def test_a_layer_finds_its_entry_and_parameters():
    elu = nn.ELU(alpha=0.5)
    entry = activations.of(elu)
    assert entry is activations.CATALOGUE["elu"] and entry.take(**vars(elu)) == {"alpha": 0.5}
    assert entry.saturated(np.array([-0.499, -0.49]), **entry.take(**vars(elu))).tolist() == [
        True,
        False,
    ]
    assert activations.of(nn.Linear(2, 2)) is None and activations.of(nn.Softmax(dim=0)) is None


def test_bad_arguments_and_names_are_refused():
    with pytest.raises(TypeError, match="too many positional arguments"):
        nn.ReLU(True, 1)
    with pytest.raises(ValueError, match="unknown activation 'swish'; expected one of sigmoid"):
        activations.get("swish")
