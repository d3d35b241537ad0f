"""Gradient clipping against PyTorch, norm penalties (weights only by default), and flat
parameter vectors."""

import math

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def _pair_with_grads(torch, scale):
    """A nablab and a torch parameter list with the same float64 gradients."""
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) * scale for s in [(3, 4), (4,), (2, 2, 2)]]
    ours = [nn.Parameter(nablab.zeros(*g.shape, dtype=nablab.float64)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad = nablab.tensor(g, dtype=nablab.float64)
        tp.grad = torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ours, theirs = _pair_with_grads(torch, 2.0)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, nablab.Tensor)
    np.testing.assert_allclose(total.item(), t_total.item(), rtol=1e-14)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.array, tp.grad.numpy(), rtol=1e-14)
    if max_norm < total.item():
        clipped = np.linalg.norm(np.concatenate([p.grad.array.ravel() for p in ours]), norm_type)
        assert clipped == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_accepts_one_tensor_skips_missing_grads_and_checks_finiteness():
    p = nn.Parameter(nablab.ones(2))
    assert clip_grad_norm_(p, 1.0).item() == 0.0
    p.grad = nablab.tensor([3.0, 4.0])
    assert clip_grad_norm_([p, nn.Parameter(nablab.ones(1))], 1.0).item() == pytest.approx(5.0)
    p.grad = nablab.tensor([np.inf, 0.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 .* is non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch(torch):
    ours, theirs = _pair_with_grads(torch, 2.0)
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.array, tp.grad.numpy())


# ----- penalties --------------------------------------------------------------------------


class TwoBiases(nn.Module):
    """Names like an RNN's: bias_ih_l0 is a bias too."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)
        self.weight_ih_l0 = nn.Parameter(nablab.ones(2, 2))
        self.bias_ih_l0 = nn.Parameter(nablab.ones(2))


def test_l2_penalty_sums_squared_weights_and_skips_biases_by_default():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    weights = [model[0].weight.array, model[1].weight.array]
    biases = [model[0].bias.array, model[1].bias.array]
    expected = sum((w.astype(np.float64) ** 2).sum() for w in weights)
    assert nn.l2_penalty(model).item() == pytest.approx(expected, rel=1e-5)
    with_bias = expected + sum((b.astype(np.float64) ** 2).sum() for b in biases)
    assert nn.l2_penalty(model, include_bias=True).item() == pytest.approx(with_bias, rel=1e-5)


def test_penalty_gradients_touch_weights_only():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    nn.l2_penalty(model).backward()
    np.testing.assert_allclose(model[0].weight.grad.array, 2 * model[0].weight.array)
    assert model[0].bias.grad is None and model[1].bias.grad is None
    model.zero_grad()
    nn.l1_penalty(model, include_bias=True).backward()
    np.testing.assert_array_equal(model[1].bias.grad.array, np.sign(model[1].bias.array))


def test_l1_penalty_and_the_bias_naming_rule():
    model = TwoBiases()
    expected = np.abs(model.fc.weight.array).sum() + 4
    assert nn.l1_penalty(model).item() == pytest.approx(expected, rel=1e-6)
    biases = np.abs(model.fc.bias.array).sum() + 2
    assert nn.l1_penalty(model, include_bias=True).item() == pytest.approx(expected + biases)


def test_penalty_of_a_model_without_parameters_is_zero():
    assert nn.l2_penalty(nn.ReLU()).item() == 0.0


# ----- flat vectors ------------------------------------------------------------------------


def test_parameters_to_vector_and_back(torch):
    model = nn.Linear(3, 2)
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.array[:6], model.weight.array.ravel())
    vec.sum().backward()
    assert (model.weight.grad.array == 1).all()
    vector_to_parameters(np.arange(8.0), model.parameters())
    assert model.bias.array.tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="vec has 9 elements, the parameters 8"):
        vector_to_parameters(np.zeros(9), model.parameters())
