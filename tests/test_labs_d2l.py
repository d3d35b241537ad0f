"""The d2l / NNDL labs (poly-fit, weight-decay, gradient-explosion, optimizers, init-schemes):
each quick variant runs and shows its qualitative claim; figures are written."""

import math

import numpy as np
import pytest

from nablab.labs import LabConfig, get_lab


def run_quick(name, tmp_path):
    result = get_lab(name).run(LabConfig(quick=True, out=tmp_path, progress=False))
    assert result.figures, f"{name} wrote no figure"
    for figure in result.figures:
        assert figure.exists() and figure.stat().st_size > 0, figure
    assert result.tables and result.answer and result.notes
    return result.metrics


def test_poly_fit_under_and_over_fitting(tmp_path):
    m = run_quick("poly-fit", tmp_path)
    cubic = m["classic"]["cubic"]
    assert cubic["w"] == pytest.approx([1.2, -3.4, 5.6], abs=0.1)
    assert cubic["b"] == pytest.approx(5.0, abs=0.1)
    seeds = m["classic_over_seeds"]
    for cubic_test, linear_test in zip(seeds["cubic"]["test_loss"], seeds["linear"]["test_loss"]):
        assert cubic_test < linear_test / 100
    two = seeds["2 samples"]
    finite = [(tr, te) for tr, te in zip(two["train_loss"], two["test_loss"]) if math.isfinite(te)]
    assert finite, "the 2-sample fit diverged on every seed"
    for train_loss, test_loss in finite:
        assert test_loss > 10 * train_loss
    for stability, test_loss in zip(two["stability"], two["test_loss"]):
        if not math.isfinite(test_loss):
            assert stability > 2, "a fit diverged below SGD's stability limit"
    least = m["current"]["20 features, least squares"]
    assert least["test_loss"] > 10 * least["train_loss"]


def test_weight_decay_shrinks_weights_and_test_loss(tmp_path):
    m = run_quick("weight-decay", tmp_path)
    norms = m["norm"]["scratch, batch 5"]
    for without, with_decay in zip(norms["0.0"], norms["3.0"]):
        assert with_decay < without / 10
    for without, with_decay in zip(m["test_loss"]["0.0"], m["test_loss"]["3.0"]):
        assert with_decay < without / 10
    assert np.median(norms["0.0"]) == pytest.approx(14, rel=0.3)
    assert m["scratch_vs_optimizer_norm_rel_diff"] < 1e-4
