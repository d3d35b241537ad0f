"""bias-penalty: the penalty reaches the biases, and λ shows in the setting."""

import numpy as np

import nablab.labs as labs


def test_penalising_the_biases_shrinks_them(quick_run):
    m = quick_run("bias-penalty").metrics
    runs = m["runs"]
    for lam in ("0.7", "5.0"):
        weights_only, with_bias = runs[f"lambda {lam}, W only"], runs[f"lambda {lam}, W and b"]
        assert np.mean(with_bias["sum_b2"]) < np.mean(weights_only["sum_b2"])
    assert set(m["mean_effect"]) == {"train", "test", "gap"}


def test_a_larger_lambda_shrinks_the_weights_more(tmp_path):
    result = labs.run("bias-penalty", quick=True, out=tmp_path, lambdas=[0.5, 20.0], iterations=300)
    runs = result.metrics["runs"]
    assert np.mean(runs["lambda 20.0, W only"]["sum_w2"]) < np.mean(
        runs["lambda 0.5, W only"]["sum_w2"]
    )
    assert "λ ∈ {0.5, 20.0}" in result.setting and "300 iterations" in result.setting
