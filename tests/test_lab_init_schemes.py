"""init-schemes: the inits are the formulas, and the init scales, the depth and the epochs
are parameters that move the variances and the training."""

import numpy as np

import nablab.labs as labs
from nablab import nn
from nablab.labs.init_schemes import inits, layer_variances, tanh_mlp


def test_inits_draw_the_variances_of_their_formulas():
    generator = np.random.default_rng(0)
    n_in, n_out = 400, 300
    expected = {
        "normal_large": 1.0,
        "normal_small": 1e-4,
        "xavier_normal": 2 / (n_in + n_out),
        "xavier_uniform": 2 / (n_in + n_out),
        "he_normal": 2 / n_in,
    }
    for name, init in inits().items():
        layer = nn.Linear(n_in, n_out, generator=generator)
        init(layer.weight, generator)
        assert np.isclose(np.var(layer.weight.array), expected[name], rtol=0.03), name


def test_tanh_mlp_has_tanh_between_layers_and_zero_biases():
    model = tanh_mlp([2, 5, 3, 1], inits()["xavier_normal"], np.random.default_rng(0))
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert all(np.all(m.bias.array == 0) for m in model if isinstance(m, nn.Linear))


def test_variances_use_the_same_input_for_every_init():
    a, _ = layer_variances([100, 50], inits()["xavier_normal"], 200, 0.1, seed=3)
    b, _ = layer_variances([100, 50], inits()["he_normal"], 200, 0.1, seed=3)
    assert a[0] == b[0] and a[1] != b[1]


def test_a_smaller_large_init_shows_in_the_setting_and_stops_saturating(tmp_path, quick_run):
    default = quick_run("init-schemes")
    changed = labs.run(
        "init-schemes", quick=True, out=tmp_path, std_large=0.1, epochs=2, widths=[100, 100, 100]
    )
    assert "inits N(0, 0.1²), N(0, 0.01²)" in changed.setting
    assert "Xavier normal vs N(0, 0.1²)" in changed.setting and "2 epochs" in changed.setting
    assert "MLP [100, 100, 100]" in changed.setting
    saturated = changed.metrics["saturated"]["normal_large"][-1]
    assert saturated < 0.01 < default.metrics["saturated"]["normal_large"][-1]
    assert len(changed.metrics["variance"]["xavier_normal"]) == 3  # input + 2 layers
    saturation = [c for c in changed.claims if "saturates tanh" in c["text"]]
    assert [(c["text"][:10], c["holds"]) for c in saturation] == [("N(0, 0.1²)", False)]
    assert changed.to_dict()["changed"] == {
        "std_large": 0.1,
        "widths": [100, 100, 100],
        "epochs": 2,
    }


def test_more_epochs_lower_xaviers_training_loss(tmp_path, quick_run):
    short = labs.run("init-schemes", quick=True, out=tmp_path, iterations=2)
    long = quick_run("init-schemes")
    assert "2 epochs" in short.setting and "10 epochs" in long.setting
    loss = lambda r: np.median(r.metrics["training"]["xavier_normal"]["train_loss"])  # noqa: E731
    assert loss(long) < loss(short)
