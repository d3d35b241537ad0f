"""vanishing-chain: the batched tensor chain is the seed's scalar chain, and its knobs move
the gradients the way the chain rule says."""

import numpy as np

import nablab.labs as labs
from nablab import scalar
from nablab.labs import vanishing_chain
from nablab.labs.recipes import activation

SCALAR = {
    "sigmoid": scalar.sigmoid,
    "relu": scalar.relu,
    "leaky_relu": lambda v: scalar.leaky_relu(v, 0.01),
}


def scalar_chain(weights, act, x=1.0, target=3.0):
    w = [scalar.Value(v) for v in weights]
    y = scalar.Value(x)
    for w_i in w:
        y = act(w_i * y)
    grads = scalar.gradients((target - y) * (target - y))
    return np.array([grads.get(w_i, 0.0) for w_i in w]), y.data


def test_batched_tensor_chain_is_the_scalar_chain():
    draws = np.random.default_rng(3).standard_normal((4, 10))
    draws[0] = np.abs(draws[0])  # one all-positive draw, where ReLU does not die
    for name, scalar_act in SCALAR.items():
        grads, outputs = vanishing_chain.chain_gradients(draws, activation(name), 1.0, 3.0)
        for s, weights in enumerate(draws):
            expected, y = scalar_chain(weights, scalar_act)
            np.testing.assert_allclose(grads[s], expected, rtol=1e-12, atol=1e-300, err_msg=name)
            np.testing.assert_allclose(outputs[s], y, rtol=1e-12)


def test_more_layers_shrink_the_first_sigmoid_gradient(tmp_path, quick_run):
    deep = labs.run("vanishing-chain", quick=True, out=tmp_path, layers=20)
    assert "i = 0…19" in deep.setting and "y_20" in deep.setting
    first = deep.metrics["median_abs_gradient"]["sigmoid"][0]
    default = quick_run("vanishing-chain").metrics["median_abs_gradient"]["sigmoid"][0]
    assert first < default * 1e-3


def test_larger_leaky_slope_gives_larger_gradients(tmp_path, quick_run):
    result = labs.run("vanishing-chain", quick=True, out=tmp_path, slope=0.2)
    assert "Leaky ReLU (0.2)" in result.setting
    default = quick_run("vanishing-chain").metrics["median_abs_gradient"]["leaky_relu"]
    wider = result.metrics["median_abs_gradient"]["leaky_relu"]
    assert np.all(np.array(wider) > np.array(default))
    assert all(c["holds"] for c in result.claims)


def test_claims_of_activations_not_run_do_not_apply(tmp_path):
    result = labs.run("vanishing-chain", quick=True, out=tmp_path, activations=["sigmoid"], x=2.0)
    assert "y₀ = x = 2" in result.setting
    assert [c["holds"] for c in result.claims] == [True, None, None]
