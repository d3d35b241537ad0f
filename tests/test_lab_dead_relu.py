"""dead-relu: biases at −8 kill every ReLU unit; the bias and the slopes are knobs."""

import numpy as np

import nablab.labs as labs
from nablab.labs import dead_relu
from nablab.labs.recipes import init_linears, mlp_l5, moon1000


def test_negative_units_counts_units_below_zero_on_every_input():
    X = moon1000(0)[0][0]
    for bias, expected in ((-8.0, 1.0), (8.0, 0.0)):
        model = init_linears(mlp_l5("relu"), ("normal", 0.01), bias, np.random.default_rng(0))
        assert set(dead_relu.negative_units(model, X).values()) == {expected}


def test_dead_relu_details(quick_run):
    m = quick_run("dead-relu").metrics
    assert all(v == 1.0 for v in m["negative_units"]["relu"].values())
    for arm, kinds in m["monitor_kinds"].items():  # a Leaky ReLU unit is never dead
        assert arm == "relu" or "dead-units" not in kinds
    assert set(m["grad_norms"]) == {"relu", "leaky_relu_0.01", "leaky_relu_0.1", "leaky_relu_0.2"}
    assert set(m["longer"]["relu"]) == {"lr_0.01", "lr_1"}
    for run in m["longer"]["relu"].values():
        assert max(run["hidden_weights_moved"]) == 0.0


def test_zero_biases_keep_relu_alive(tmp_path):
    result = labs.run(
        "dead-relu",
        quick=True,
        out=tmp_path,
        bias=0.0,
        seeds=5,
        epochs=5,
        slopes=[0.01],
        long_seeds=2,
    )
    assert "every bias 0." in result.setting and "slopes 0.01" in result.setting
    relu = np.array(result.metrics["grad_norms"]["relu"])
    assert (np.median(relu, axis=0) > 0).all()  # gradients reach every layer...
    assert (relu > 0).all(axis=1).mean() >= 0.6  # ...on most seeds (3 units: a layer may die)
    assert result.metrics["relu_dead_fraction_min"] < 1
    holds = [c["holds"] for c in result.claims]
    assert holds[0] is False and holds[4] is None  # not all zero; one slope: no trend to check
    assert holds[6] is False  # the ReLU net's weights get gradients when trained longer


def test_larger_slopes_pass_larger_gradients(tmp_path):
    result = labs.run("dead-relu", quick=True, out=tmp_path, slopes=[0.05, 0.5], seeds=3, epochs=5)
    assert "slopes 0.05, 0.5" in result.setting
    norms = result.metrics["grad_norms"]
    assert list(norms) == ["relu", "leaky_relu_0.05", "leaky_relu_0.5"]
    small, large = (np.array(norms[k])[:, 0] for k in ("leaky_relu_0.05", "leaky_relu_0.5"))
    assert (large > small).all()
    assert result.claims[5]["holds"] is None  # slope 0.01 was not run: no published figure
