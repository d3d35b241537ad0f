"""distribution-shift: BBSE and the weighted loss are their formulas, and the shift size, the
priors and the drift show in the setting and move the outcome (no shift, no drop)."""

import numpy as np

import nablab.labs as labs
from nablab.labs import distribution_shift as ds
from nablab.labs.params import resolve
from nablab.labs.runner import Context

CTX = Context(seed=0, quick=True, out=None, progress=False)
FAST = dict(seeds=1, epochs=100)


def mean(rows, key):
    return float(np.mean([r[key] for r in rows]))


def test_bbse_solves_the_exact_system_for_the_ratio_and_the_priors():
    conditional = np.array([[0.8, 0.3], [0.2, 0.7]])  # P(ŷ = i | y = j)
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    C, mu = conditional * p, conditional @ q
    w, estimated = ds.black_box_shift(C, mu)
    np.testing.assert_allclose(w, q / p)
    np.testing.assert_allclose(estimated, q)


def test_confusion_is_the_joint_matrix():
    predicted, y = np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1.0])
    np.testing.assert_allclose(ds.confusion(predicted, y), [[0.25, 0.0], [0.25, 0.5]])


def test_labelling_functions():
    X = np.array([[0.0, -0.5], [2.0, 0.5], [2.0, 1.5]])
    np.testing.assert_array_equal(ds.parabola(X), [1, 0, 1])  # x₂ > x₁²/2 − 1
    np.testing.assert_array_equal(ds.rotating(X, 90.0), ds.rotating(X[:, ::-1], 0.0))


def test_a_weight_of_two_is_a_point_counted_twice():
    p = resolve(labs.get_lab("distribution-shift").params, True, {"epochs": 30})
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(float)
    weights = np.ones(20)
    weights[:5] = 2.0
    weighted = ds.fit_logistic(X, y, p, CTX, np.random.default_rng(1), weights=weights)
    twice = ds.fit_logistic(
        np.concatenate([X, X[:5]]), np.concatenate([y, y[:5]]), p, CTX, np.random.default_rng(1)
    )
    np.testing.assert_allclose(ds.line(weighted), ds.line(twice), rtol=1e-4, atol=1e-5)


def test_the_domain_classifier_finds_the_log_density_ratio(quick_run):
    result = quick_run("distribution-shift")
    for row in result.metrics["covariate"]:
        assert abs(row["domain_slope"] - 3.0) < 0.5  # true log ratio: s·x₁, s = 3
    assert "shift s = 3" in result.setting
    assert len(result.figures) == 3


def test_no_shift_no_drop_and_a_bigger_shift_a_bigger_drop(tmp_path):
    drops = {}
    for shift in (0.0, 1.5, 3.0):
        result = labs.run("distribution-shift", quick=True, out=tmp_path, shift=shift, **FAST)
        rows = result.metrics["covariate"]
        drops[shift] = mean(rows, "same_accuracy") - mean(rows, "plain_accuracy")
        assert f"shift s = {shift:g};" in result.setting
        if shift == 0.0:
            assert result.claims[0]["holds"] is False
    assert abs(drops[0.0]) < 0.03 < drops[1.5] < drops[3.0]


def test_equal_priors_give_unit_weights_and_nothing_to_correct(tmp_path):
    result = labs.run("distribution-shift", quick=True, out=tmp_path, test_prior=0.5, **FAST)
    (row,) = result.metrics["label"]
    assert "0.5 in 4000 test points" in result.setting
    np.testing.assert_allclose(row["weights"], [1.0, 1.0], atol=0.1)
    assert abs(row["estimated_prior"] - 0.5) < 0.05
    assert abs(row["reweighted_accuracy"] - row["plain_accuracy"]) < 0.02


def test_no_drift_no_decay_and_a_faster_drift_a_lower_last_step(tmp_path):
    last = {}
    for drift in (0.0, 5.0, 10.0):
        result = labs.run(
            "distribution-shift", quick=True, out=tmp_path, drift=drift, steps=8, **FAST
        )
        (row,) = result.metrics["concept"]
        last[drift] = row["frozen_accuracy"][-1]
        assert f"turning {drift:g}° a step over 8 steps" in result.setting
        assert len(row["frozen_accuracy"]) == 9
        if drift == 0.0:
            assert result.claims[4]["holds"] is False
    assert last[0.0] > 0.95 and last[0.0] > last[5.0] > last[10.0]


def test_a_longer_window_lags_behind_the_drift(tmp_path):
    lag = {}
    for window in (1, 4):
        result = labs.run("distribution-shift", quick=True, out=tmp_path, window=window, **FAST)
        (row,) = result.metrics["concept"]
        lag[window] = float(np.mean(row["updated_accuracy"][4:]))
        assert f"last {window} step(s)" in result.setting
    assert lag[4] < lag[1]
