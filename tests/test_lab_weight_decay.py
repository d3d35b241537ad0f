"""weight-decay: the epochs and λ parameters reach the runs and the texts."""

import numpy as np
import pytest

import nablab.labs as labs


def test_quick_norms_and_losses(quick_run):
    m = quick_run("weight-decay").metrics
    assert set(m["norm"]) == {"scratch_batch_5", "optimizer_batch_5", "d2l_concise_batch_5",
                              "scratch_batch_1"}  # fmt: skip
    norms = m["norm"]["scratch_batch_5"]
    assert np.median(norms["0.0"]) == pytest.approx(14, rel=0.3)
    for without, with_decay in zip(m["test_loss"]["0.0"], m["test_loss"]["3.0"]):
        assert with_decay < without / 10


def test_weight_decay_trains_for_the_given_iterations(tmp_path):
    result = labs.run("weight-decay", quick=True, out=tmp_path, iterations=3, seeds=1)
    assert result.metrics["epochs"] == 3  # the length of the per-epoch ‖w‖ history
    assert "3 epochs" in result.setting and "after 3 epochs" in result.tables[0].title


def test_a_smaller_lambda_shrinks_less(tmp_path):
    result = labs.run("weight-decay", quick=True, out=tmp_path, lambdas=[0.0, 0.3], seeds=1)
    m = result.metrics
    assert "λ = 0.0, 0.3" in result.setting
    assert 0.4 < np.median(m["norm_scratch"]["0.3"]) < np.median(m["norm_scratch"]["0.0"])
    assert result.claims[2]["holds"] is None  # d2l's ranges are for λ = 3
