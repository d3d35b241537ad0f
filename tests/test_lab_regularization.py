"""regularization: seed-batched training is separate training, λ = 0 is the baseline, and the
full run (NABLAB_SLOW=1) has every claim hold."""

import json
import os

import numpy as np
import pytest

import nablab.labs as labs
from nablab.labs import recipes
from nablab.labs.runner import Context


def test_seed_batched_training_equals_separate_runs():
    """Seed 1 trained in a batch of three equals seed 1 trained alone (the same math)."""
    ctx = Context(seed=0, quick=True, out=None, progress=False)
    together, alone = recipes.mlp_3l([0, 1, 2]), recipes.mlp_3l([1])
    for model, seeds in ((together, [0, 1, 2]), (alone, [1])):
        batch = recipes.moons_per_seed(seeds)
        recipes.train_mlp_3l(model, batch, 50, ctx, l2=0.7, weight_decay=0.001)
    for (name, a), (_, b) in zip(together.named_parameters(), alone.named_parameters()):
        np.testing.assert_allclose(a.array[1], b.array[0], rtol=1e-4, atol=1e-5, err_msg=name)


def test_quick_runs_every_regularizer(quick_run):
    result = quick_run("regularization")
    m = result.metrics
    assert set(m["train_accuracy"]) == {
        "baseline",
        "l2",
        "weight_decay",
        "dropout_0.3",
        "dropout_0.5",
    }
    assert [row[0] for row in result.tables[0].rows] == [
        "baseline",
        "ℓ2, λ = 0.7",
        "weight decay 0.001",
        "dropout 0.3",
        "dropout 0.5",
    ]  # identifiers in the metrics, labels in the tables
    assert all(0.5 < a <= 1 for accs in m["train_accuracy"].values() for a in accs)
    assert result.tables[0].rows[0][1:3] == [0.91, 0.71]  # the published row beside ours


def test_l2_zero_is_the_baseline(tmp_path):
    result = labs.run("regularization", quick=True, out=tmp_path, l2=0.0, iterations=300)
    m = result.metrics
    for split in ("train_accuracy", "test_accuracy"):
        np.testing.assert_array_equal(m[split]["l2"], m[split]["baseline"])
    assert result.tables[0].rows[1][0] == "ℓ2, λ = 0"
    assert "λ = 0;" in result.setting and "300 iterations" in result.setting
    assert result.claims[0]["holds"] is None  # no ℓ2 run to judge


@pytest.mark.skipif(
    not os.environ.get("NABLAB_SLOW"), reason="full regularization run (minutes): NABLAB_SLOW=1"
)
def test_full_run_every_claim_holds(tmp_path):
    result = labs.run("regularization", out=tmp_path)
    assert [c["holds"] for c in result.claims] == [True] * len(result.claims), result.claims


def test_runs_on_workers_give_the_same_result_and_figures(tmp_path):
    one = labs.run("regularization", quick=True, out=tmp_path / "one", iterations=300)
    two = labs.run("regularization", quick=True, out=tmp_path / "two", iterations=300, workers=2)
    saved = [json.loads((tmp_path / d / "results.json").read_text()) for d in ("one", "two")]
    for key in ("metrics", "tables", "claims", "answer"):
        assert saved[0][key] == saved[1][key], key
    for a, b in zip(one.figures, two.figures):  # the boundaries come from the rebuilt models
        assert a.read_bytes() == b.read_bytes(), a.name
