"""xor-relu: the batched training is the seed's training, and widening the layer solves XOR."""

import numpy as np

import nablab.labs as labs
from nablab import nn, optim
from nablab.data import xor
from nablab.labs import xor_relu
from nablab.labs.runner import Context


def test_batched_runs_are_separate_runs():
    """Training all seeds at once gives each seed the trajectory of its own nn.Linear run."""
    hidden, seeds, epochs, lr = 3, [7, 8, 9, 10], 300, 0.1
    ctx = Context(seed=7, quick=True, out=None, progress=False)
    params, _ = xor_relu.train(hidden, seeds, epochs, lr, ctx)
    X, y = xor()
    for k, seed in enumerate(seeds):
        generator = np.random.default_rng(Context.streams(seed)[1])
        model = nn.Sequential(
            nn.Linear(2, hidden, generator=generator),
            nn.ReLU(),
            nn.Linear(hidden, 1, generator=generator),
        )
        optimizer = optim.SGD(model.parameters(), lr=lr)
        for _ in range(epochs):
            loss = nn.MSELoss()(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        np.testing.assert_allclose(params[0].array[k], model[0].weight.array, atol=1e-5)
        np.testing.assert_allclose(params[3].array[k, 0], model[2].bias.array, atol=1e-5)


def test_twenty_hidden_units_solve_xor_on_every_seed(tmp_path):
    result = labs.run("xor-relu", quick=True, out=tmp_path, hidden=[20], seeds=8)
    assert result.metrics["fraction_100"] == {"20": 1.0}
    assert "H = 20, each from 8 seeds" in result.setting
    assert [c["holds"] for c in result.claims] == [True, True, None, True]
    assert result.to_dict()["changed"] == {"hidden": [20], "seeds": 8}


def test_learning_rate_shows_in_the_setting_and_changes_training(tmp_path, quick_run):
    slow = labs.run("xor-relu", quick=True, out=tmp_path, hidden=[3], lr=0.001, epochs=500)
    assert "SGD lr 0.001, 500 full-batch epochs" in slow.setting
    assert slow.metrics["fraction_100"]["3"] < quick_run("xor-relu").metrics["fraction_100"]["3"]
