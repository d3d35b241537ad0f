"""bias-penalty: the penalty reaches the biases, and λ shows in the setting."""

import json

import numpy as np

import nablab.labs as labs


def test_penalising_the_biases_shrinks_them(quick_run):
    m = quick_run("bias-penalty").metrics
    runs = m["runs"]
    assert set(runs) == {"lambda_0_w_only", "lambda_0.7_w_only", "lambda_0.7_w_and_b",
                         "lambda_5_w_only", "lambda_5_w_and_b"}  # fmt: skip
    for lam in ("0.7", "5"):
        weights_only, with_bias = runs[f"lambda_{lam}_w_only"], runs[f"lambda_{lam}_w_and_b"]
        assert np.mean(with_bias["sum_b2"]) < np.mean(weights_only["sum_b2"])
    assert set(m["mean_effect"]) == {"train", "test", "gap"}


def test_a_larger_lambda_shrinks_the_weights_more(tmp_path):
    result = labs.run("bias-penalty", quick=True, out=tmp_path, lambdas=[0.5, 20.0], iterations=300)
    runs = result.metrics["runs"]
    assert np.mean(runs["lambda_20_w_only"]["sum_w2"]) < np.mean(
        runs["lambda_0.5_w_only"]["sum_w2"]
    )
    assert "λ ∈ {0.5, 20.0}" in result.setting and "300 iterations" in result.setting


def test_runs_on_workers_give_the_same_result(tmp_path):
    options = dict(quick=True, iterations=200, lambdas=[0.7])
    labs.run("bias-penalty", out=tmp_path / "one", **options)
    labs.run("bias-penalty", out=tmp_path / "two", workers=3, **options)
    saved = [json.loads((tmp_path / d / "results.json").read_text()) for d in ("one", "two")]
    for key in ("metrics", "tables", "claims", "answer"):
        assert saved[0][key] == saved[1][key], key
