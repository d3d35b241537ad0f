"""optimizers: the book's rules against nablab.optim and torch, the seed-batched moons runs
against separate runs, and the learning rates, optimizers and seeds as parameters."""

import numpy as np
import pytest

import nablab.labs as labs
from nablab.labs.optimizers import (
    KINDS,
    X0_2D,
    book_rule,
    descend,
    quadratic,
    torch_optimizer,
    train_moons,
)
from nablab.labs.params import ParameterError
from nablab.labs.recipes import moons_per_seed
from nablab.labs.runner import Context

CTX = Context(seed=0, quick=True, out=None, progress=False)


def test_book_momentum_and_gd_are_pytorchs_for_a_constant_lr():
    for kind, lr in (("GD", 0.2), ("Momentum", 0.01)):
        book = descend(quadratic, X0_2D, 50, CTX, rule=book_rule(kind, lr))
        ours = descend(quadratic, X0_2D, 50, CTX, make_optimizer=torch_optimizer(kind, lr))
        np.testing.assert_allclose(book, ours, rtol=1e-12, atol=1e-12, err_msg=kind)


def torch_rule(torch, kind, params, lr):
    return {
        "GD": lambda: torch.optim.SGD(params, lr=lr),
        "AdaGrad": lambda: torch.optim.Adagrad(params, lr=lr),
        "RMSprop": lambda: torch.optim.RMSprop(params, lr=lr, alpha=0.9),
        "Momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9),
        "Adam": lambda: torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99)),
    }[kind]()


def test_nablab_optim_paths_are_torchs(torch):
    for kind, lr in zip(KINDS, (0.2, 0.5, 0.1, 0.01, 0.2)):
        ours = descend(quadratic, X0_2D, 20, CTX, make_optimizer=torch_optimizer(kind, lr))
        x = torch.tensor(X0_2D, dtype=torch.float64, requires_grad=True)
        optimizer = torch_rule(torch, kind, [x], lr)
        path = [x.detach().numpy().copy()]
        for _ in range(20):
            optimizer.zero_grad()
            (0.2 * x[0] ** 2 + 2 * x[1] ** 2).backward()
            optimizer.step()
            path.append(x.detach().numpy().copy())
        np.testing.assert_allclose(ours, np.array(path), rtol=1e-10, atol=1e-12, err_msg=kind)


def test_seed_batched_moons_runs_are_separate_runs():
    """Training seeds 0 and 1 together gives each the losses of its own run."""
    adam = torch_optimizer("Adam", 0.01)
    together = train_moons(adam, moons_per_seed([0, 1]), 30, CTX, "together")
    for k, seed in enumerate([0, 1]):
        alone = train_moons(adam, moons_per_seed([seed]), 30, CTX, "alone")
        np.testing.assert_allclose(together["loss"][:, k], alone["loss"][:, 0], rtol=1e-4)
        assert together["train_acc"][k] == alone["train_acc"][0]
        assert (together["dead"][k] == alone["dead"][0]).all()


def test_a_smaller_momentum_lr_shows_in_the_setting_and_stops_the_divergence(tmp_path):
    result = labs.run(
        "optimizers",
        quick=True,
        out=tmp_path,
        lr_3d=[0.01, 0.5, 0.1, 0.001, 0.1],
        iterations=20,
        seeds=1,
    )
    assert "Momentum lr 0.001, ρ 0.9" in result.setting
    assert "for 20 steps, 1 seed(s)" in result.setting
    momentum = result.metrics["3d"]["Momentum_nablab"]
    assert not momentum["diverged"] and momentum["first_step_below"]["-1000"] is None
    holds = {c["text"][:40]: c["holds"] for c in result.claims}
    assert holds["3-D: Momentum does not escape to a bette"] is False


def test_choosing_optimizers_and_learning_rates(tmp_path, quick_run):
    default = quick_run("optimizers")
    result = labs.run(
        "optimizers",
        quick=True,
        out=tmp_path,
        optimizers=["GD", "Adam"],
        gd_sweep=[1.0],
        iterations=100,
        seeds=1,
    )
    assert "Momentum" not in result.setting and "GD lr 1" in result.setting
    assert list(result.metrics["moons"]) == ["GD", "Adam", "GD_lr_1"]
    assert result.metrics["moons_runs"] == ["GD lr 0.2", "Adam lr 0.01, β 0.9/0.99", "GD lr 1"]
    verdicts = [c["holds"] for c in result.claims]
    assert verdicts[3] is None and verdicts[6] is None  # no Momentum, no GD lr 10
    # fewer iterations: Adam's training loss ends higher than in the quick default
    adam = "Adam"
    assert (
        result.metrics["moons"][adam]["final_loss"][0]
        > default.metrics["moons"][adam]["final_loss"][0]
    )


def test_per_optimizer_lists_need_one_value_per_optimizer(tmp_path):
    with pytest.raises(ParameterError, match="lr_2d expects a list of 5 numbers ≥ 0, got 2 values"):
        labs.run("optimizers", quick=True, out=tmp_path, lr_2d=[0.1, 0.2])
    assert list(tmp_path.iterdir()) == []  # refused before any work


def test_the_moons_mlp_is_the_regularization_labs_baseline_draw_for_draw(tmp_path, monkeypatch):
    """The docstring of train_moons says so: the same initial weights and data per seed."""
    from nablab.labs import optimizers, regularization

    seen = {}

    def recording(module, name):
        make = module.mlp_3l

        def mlp_3l(seeds, **options):
            model = make(seeds, **options)
            if not options.get("dropout"):
                seen.setdefault(name, [p.array.copy() for p in model.parameters()])
            return model

        draw = module.moons_per_seed

        def moons_per_seed(seeds):
            batch = draw(seeds)
            seen[f"{name} data"] = batch.X_train.array.copy()
            return batch

        monkeypatch.setattr(module, "mlp_3l", mlp_3l)
        monkeypatch.setattr(module, "moons_per_seed", moons_per_seed)

    recording(optimizers, "optimizers")
    recording(regularization, "regularization")
    labs.run("optimizers", quick=True, out=tmp_path / "o", seeds=2, moons_steps=1, steps_3d=2,
             steps_2d=[2] * 5, gd_sweep=[0.1], rounds=1, sweep_steps=[0.5])  # fmt: skip
    labs.run("regularization", quick=True, out=tmp_path / "r", seeds=2, steps=1, dropout=[0.3])
    assert len(seen["optimizers"]) == len(seen["regularization"]) == 6  # 3 layers: W, b
    for ours, theirs in zip(seen["optimizers"], seen["regularization"]):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(seen["optimizers data"], seen["regularization data"])
