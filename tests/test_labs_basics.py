"""The feed-forward basics labs (LABS.md): each quick variant runs and shows its claim."""

import importlib.util

import numpy as np

from nablab import nn, optim
from nablab.data import xor
from nablab.labs import LabConfig, get_lab


def run_quick(name, tmp_path):
    result = get_lab(name).run(LabConfig(quick=True, out=tmp_path, progress=False))
    assert result.figures, f"{name} made no figure"
    for figure in result.figures:
        assert figure.exists() and figure.stat().st_size > 0, figure
    assert result.answer and result.tables
    return result


def test_xor_relu_linear_model_fails_and_two_units_can_be_exact(tmp_path):
    metrics = run_quick("xor-relu", tmp_path).metrics
    assert metrics["logistic_regression_accuracy"] == 0.5
    assert metrics["hand_set_exact"] and metrics["hand_set_mse"] == 0.0
    assert metrics["fraction_100"]["20"] == 1.0


def test_xor_relu_batched_runs_are_separate_runs():
    """Training all seeds at once gives each seed the trajectory of its own nn.Linear run."""
    from nablab.labs import xor_relu

    hidden, runs, epochs = 3, 4, 300
    params, _ = xor_relu.train(hidden, runs, epochs, LabConfig(seed=7, progress=False))
    X, y = xor()
    for run in range(runs):
        generator = np.random.default_rng([7, run])
        model = nn.Sequential(
            nn.Linear(2, hidden, generator=generator),
            nn.ReLU(),
            nn.Linear(hidden, 1, generator=generator),
        )
        optimizer = optim.SGD(model.parameters(), lr=xor_relu.LEARNING_RATE)
        for _ in range(epochs):
            loss = nn.MSELoss()(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        np.testing.assert_allclose(params[0].data[run], model[0].weight.data, atol=1e-5)
        np.testing.assert_allclose(params[3].data[run, 0], model[2].bias.data, atol=1e-5)


def test_autodiff_xor_engines_agree_and_cost_falls(tmp_path):
    metrics = run_quick("autodiff-xor", tmp_path).metrics
    assert metrics["engines_agree"]
    assert metrics["max_cost_difference"] < 1e-9
    assert metrics["final_cost"] < metrics["initial_cost"]
    measured = [r for r in metrics["gradient_costs"] if r["paths_s"] is not None]
    assert len(measured) >= 3 and all(r["paths_agree"] for r in measured)
    assert [r["path_steps"] for r in measured] == [2 * (3 ** r["d"] - 1) for r in measured]


def test_vanishing_chain_sigmoid_shrinks_toward_input_relu_dies(tmp_path):
    metrics = run_quick("vanishing-chain", tmp_path).metrics
    sigmoid = np.array(metrics["median_abs_gradient"]["sigmoid"])
    assert np.all(np.diff(sigmoid) > 0), sigmoid
    assert sigmoid[0] * 1e3 < sigmoid[-1]
    assert metrics["relu_all_zero_seeds"] == metrics["seeds_with_a_negative_weight"] > 0
    assert sum(metrics["zero_gradient_seeds"]["Leaky ReLU (0.01)"]) == 0
    assert metrics["leaky_relu_closed_form_gap"] < 1e-12


def test_backprop_by_hand_three_ways_agree_and_zero_init_is_symmetric(tmp_path):
    metrics = run_quick("backprop-by-hand", tmp_path).metrics
    assert metrics["three_way_max_difference"] < 1e-10
    np.testing.assert_allclose(metrics["grad_hand"], metrics["grad_nablab"], rtol=0, atol=1e-10)
    if importlib.util.find_spec("torch") is not None:
        np.testing.assert_allclose(metrics["grad_hand"], metrics["grad_torch"], rtol=0, atol=1e-10)
    assert metrics["seed_formula_max_error"] > 1e-3  # the seed's w1..w4 formula is wrong
    # all-zero init: w1..w4 get exactly 0 in the first round; the hidden units stay twins
    assert metrics["zero_init_first_round_w1_w4_max_abs_grad"] == 0.0
    assert metrics["zero_init_hidden_units_equal"]
    assert metrics["zero_init_relu_all_gradients_zero"]
    assert metrics["seed_mse_sum_step1_vs_half_sse_step2_max_weight_difference"] < 1e-12
    assert metrics["cross_entropy_min"] < 0


def test_iterations_sets_backprop_by_hand_rounds(tmp_path):
    config = LabConfig(quick=True, out=tmp_path, progress=False, iterations=7)
    result = get_lab("backprop-by-hand").run(config)
    assert result.metrics["rounds"] == 7
    assert "After 7 rounds" in result.answer
    assert "iterations overridden: 7 rounds instead of the seed's 1,000." in result.notes


def test_activations_derivatives_are_the_closed_forms(tmp_path):
    metrics = run_quick("activations", tmp_path).metrics
    for name, gap in metrics["max_derivative_error"].items():
        assert gap < 1e-12, name
    for name, gap in metrics["max_value_error"].items():
        assert gap < 1e-12, name
    assert metrics["sigmoid_max_derivative"] == 0.25
    assert metrics["tanh_max_derivative"] == 1.0
    assert metrics["tanh_vs_2sigmoid_2x_minus_1"] < 1e-12


def test_activations_derivatives_at_kinks_match_torch(torch):
    from nablab.labs.activations import ACTIVATIONS, POINTS, value_and_slope

    oracles = [
        torch.sigmoid,
        torch.tanh,
        torch.relu,
        lambda t: torch.nn.functional.leaky_relu(t, 0.01),
        torch.nn.functional.elu,
        torch.nn.functional.softplus,
    ]
    for (name, (fn, _, _)), oracle in zip(ACTIVATIONS.items(), oracles):
        x = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
        oracle(x).sum().backward()
        ours = value_and_slope(fn, POINTS)[1]
        np.testing.assert_allclose(ours, x.grad.numpy(), atol=1e-15, err_msg=name)
