"""backprop-by-hand: the hand formulas are the autodiff gradients, and the knobs (rounds, steps,
initial weights, activation) show in the setting and move the training."""

import numpy as np
import pytest

import nablab.labs as labs
from nablab.labs import ParameterError
from nablab.labs import backprop_by_hand as bbh
from nablab.labs.runner import Context

CTX = Context(seed=0, quick=True, out=None, progress=False)
FAST = {"rounds": 30, "random_inits": 0}


def test_hand_formulas_are_nablab_and_torch_gradients(torch):
    for w in (np.array(bbh.W0), np.random.default_rng(1).normal(size=8)):
        by_hand = bbh.hand_gradients(w)
        np.testing.assert_allclose(bbh.train(w, 0.0, 1, CTX).grads[0], by_hand, atol=1e-10)
        np.testing.assert_allclose(bbh.torch_gradients(w), by_hand, rtol=0, atol=1e-10)


def test_the_seeds_formula_differs_only_on_the_hidden_weights():
    error = np.abs(bbh.seed_numpy_gradients(np.array(bbh.W0)) - bbh.hand_gradients(bbh.W0))
    assert error[:4].min() > 1e-4 and error[4:].max() == 0


def test_iterations_sets_the_rounds(tmp_path):
    result = labs.run("backprop-by-hand", quick=True, out=tmp_path, iterations=7, random_inits=0)
    assert result.params["rounds"] == 7
    assert "After 7 rounds" in result.answer and "for 7 rounds" in result.setting
    assert "Training runs (7 rounds" in result.tables[2].title
    assert result.claims[4]["holds"] is None  # rounds 50 and 200 were not run


def test_steps_show_in_the_setting_and_the_larger_step_trains_faster(tmp_path):
    result = labs.run(
        "backprop-by-hand", quick=True, out=tmp_path, steps=[0.5, 5.0], step=2.0, **FAST
    )
    assert "steps 0.5, 5" in result.setting and "the variants use step 2" in result.setting
    final = result.metrics["final_loss"]
    assert final["step_5"] < final["step_0.5"]
    by_text = {c["text"]: c["holds"] for c in result.claims}
    assert by_text["The larger the step, the lower the loss after 30 rounds"] is True
    # step 4 (2 × the variants' step) was not run: the doubled-MSELoss claim does not apply
    assert [c["holds"] for c in result.claims if "double" in c["text"]] == [None]


def test_initial_weights_and_activation_are_parameters(tmp_path):
    w = [0.3, 0.1, -0.2, 0.4, 0.5, 0.2, -0.1, 0.6]
    result = labs.run(
        "backprop-by-hand", quick=True, out=tmp_path, weights=w, activation="tanh", **FAST
    )
    assert "w₁…w₈ = 0.3, 0.1, -0.2, 0.4" in result.setting and "variant tanh" in result.setting
    np.testing.assert_allclose(result.metrics["grad_nablab"], bbh.hand_gradients(np.array(w)))
    assert result.metrics["forward"]["L"] == pytest.approx(bbh.hand_forward(np.array(w))["L"])
    holds = {c["text"]: c["holds"] for c in result.claims}
    assert holds[next(t for t in holds if t.startswith("With ReLU"))] is None
    assert holds[next(t for t in holds if t.startswith("With tanh"))] is True  # tanh(0) = 0


def test_wrong_number_of_weights_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="weights expects a list of 8 numbers, got 2 values"):
        labs.run("backprop-by-hand", quick=True, out=tmp_path, weights=[0.1, 0.2])
