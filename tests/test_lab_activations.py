"""activations: the library's ops and autograd give the closed forms, and PyTorch's
derivatives at the kinks; the Leaky ReLU slope and the ELU α are parameters."""

import numpy as np

import nablab.labs as labs
from nablab.activations import get
from nablab.labs.activations import POINTS, op, value_and_slope
from nablab.labs.recipes import ACTIVATION_NAMES


def test_derivatives_are_the_closed_forms(quick_run):
    metrics = quick_run("activations").metrics
    assert metrics["worst_error"] < 1e-12
    assert metrics["sigmoid_max_derivative"] == 0.25
    assert metrics["tanh_max_derivative"] == 1.0
    assert metrics["tanh_vs_2sigmoid_2x_minus_1"] < 1e-12


def test_derivatives_at_kinks_match_torch(torch):
    points = [*POINTS, -1e-300, 1e-300]
    for name in ACTIVATION_NAMES:
        given = get(name).take(negative_slope=0.2, alpha=1.5)  # PyTorch's parameter names
        x = torch.tensor(points, dtype=torch.float64, requires_grad=True)
        value = getattr(torch.nn.functional, name)(x, **given)
        value.sum().backward()
        ours = value_and_slope(op(name, slope=0.2, alpha=1.5), points)
        np.testing.assert_allclose(ours[0], value.detach().numpy(), atol=1e-15, err_msg=name)
        np.testing.assert_allclose(ours[1], x.grad.numpy(), atol=1e-15, err_msg=name)


def test_slope_and_alpha_show_in_the_setting_and_move_the_derivatives(tmp_path, quick_run):
    default = quick_run("activations")
    changed = labs.run(
        "activations", quick=True, out=tmp_path, slope=0.2, alpha=2.0, points=[-1.0, 0.0]
    )
    assert "Leaky ReLU (slope 0.2;" in changed.setting and "ELU (α = 2)" in changed.setting
    assert "table at x = -1, 0." in changed.setting
    assert all(c["holds"] for c in changed.claims), changed.claims
    leaky = changed.metrics["derivative_range"]["leaky_relu"]
    assert leaky[0] == 0.2 > default.metrics["derivative_range"]["leaky_relu"][0]
    elu_left = changed.metrics["derivative_range"]["elu"][0]
    assert elu_left == 2 * default.metrics["derivative_range"]["elu"][0]
    assert changed.metrics["at_zero"] == {"relu": 0.0, "leaky_relu": 0.2, "elu": 2.0}
    assert len(changed.tables[0].rows) == 2 * len(ACTIVATION_NAMES)


def test_the_range_sets_how_far_tanh_saturates(tmp_path):
    narrow = labs.run("activations", quick=True, out=tmp_path, xmax=1.0, grid=21)
    assert "21 points of [−1, 1]" in narrow.setting
    assert narrow.metrics["tanh_tail_derivative"] > 0.4
    tail = [c for c in narrow.claims if "vanishes in the tails" in c["text"]]
    assert [c["holds"] for c in tail] == [False]
