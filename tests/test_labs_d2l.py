"""The d2l / NNDL labs (poly-fit, weight-decay, gradient-explosion, optimizers, init-schemes):
each quick variant runs and shows its qualitative claim; figures are written."""

import math

import numpy as np
import pytest

from nablab.labs import LabConfig, get_lab


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The labs' small matrix products run many times slower with several BLAS threads
    on a busy machine (measured: 45× for the RNN); one thread per test process."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


def run_quick(name, tmp_path):
    result = get_lab(name).run(LabConfig(quick=True, out=tmp_path, progress=False))
    assert result.figures, f"{name} wrote no figure"
    for figure in result.figures:
        assert figure.exists() and figure.stat().st_size > 0, figure
    assert result.tables and result.answer and result.notes
    for table in result.tables:
        for row in table.rows:
            assert all(c is None or isinstance(c, (str, int, float)) for c in row), table.title
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
    pairs = zip(two["train_loss"], two["test_loss"], seeds["cubic"]["test_loss"])
    finite = [(tr, te, cubic) for tr, te, cubic in pairs if math.isfinite(te)]
    assert finite, "the 2-sample fit diverged on every seed"
    for train_loss, test_loss, cubic_test in finite:
        # over-fitting: far worse on new points than on its own two, and than the full fit
        assert test_loss > 5 * train_loss
        assert test_loss > 1000 * cubic_test
    for stability, test_loss in zip(two["stability"], two["test_loss"]):
        if not math.isfinite(test_loss):
            assert stability > 2, "a fit diverged below SGD's stability limit"
    few = m["current"]["20 features, 10 samples"]  # where the current edition over-fits
    assert few["test_loss"] > 10 * few["train_loss"]


def test_weight_decay_shrinks_weights_and_test_loss(tmp_path):
    m = run_quick("weight-decay", tmp_path)
    norms = m["norm"]["scratch, batch 5"]
    for without, with_decay in zip(norms["0.0"], norms["3.0"]):
        assert with_decay < without / 10
    for without, with_decay in zip(m["test_loss"]["0.0"], m["test_loss"]["3.0"]):
        assert with_decay < without / 10
    assert np.median(norms["0.0"]) == pytest.approx(14, rel=0.3)
    assert m["scratch_vs_optimizer_norm_rel_diff"] < 1e-4


def test_weight_decay_trains_for_the_given_iterations(tmp_path):
    config = LabConfig(quick=True, iterations=3, out=tmp_path, progress=False)
    result = get_lab("weight-decay").run(config)
    assert result.metrics["epochs"] == 3  # the length of the per-epoch ‖w‖ history
    assert "3 epochs" in result.setting and "after 3 epochs" in result.tables[0].title
    assert any(note.startswith("iterations overridden: 3 epochs") for note in result.notes)


def test_gradient_explosion_products_and_clipping(tmp_path, time_machine_dir):
    m = run_quick("gradient-explosion", tmp_path)
    assert m["scalars"]["0.2^30"] < 1e-20 and m["scalars"]["5^30"] > 1e20
    assert min(m["matrix_product"]["log10_norm"]) > 15  # ‖product of 101 matrices‖ > 1e15
    assert np.median(m["matrix_product"]["growth_log10"]) == pytest.approx(
        m["matrix_product"]["theory_growth_log10"], abs=0.05
    )
    assert m["sigmoid_grad"]["0"] == pytest.approx(0.25)
    assert m["sigmoid_grad"]["8"] < 1e-3
    relu = m["deep_mlp"]
    assert relu["relu g=1"]["rms"][-1] < 1e-3 < 1e3 < relu["relu g=2"]["rms"][-1]
    assert 0.3 < relu["relu g=√2 (He)"]["rms"][-1] < 3
    theta = m["rnn_theta"]
    clipped = m["rnn"]["clip θ = 1, lr 1"]
    assert clipped["max_clipped_norm"] <= theta * (1 + 1e-5)
    assert clipped["max_norm"] > theta  # clipping did act
    assert clipped["perplexity"][-1] < clipped["perplexity"][0]


def test_optimizers_saddle_momentum_and_paths(tmp_path):
    m = run_quick("optimizers", tmp_path)
    assert m["hessian_eigenvalues"]["(0, 0)"] == pytest.approx([1.0, 3.0], abs=1e-4)
    low, high = m["hessian_eigenvalues"]["(0.25, −0.5)"]
    assert low < 0 < high
    for name, outcome in m["3d"].items():
        if name.startswith("Momentum"):
            assert outcome["diverged"]
            assert outcome["first_step_below"]["-1000"] is not None
        else:
            assert not outcome["diverged"]
            assert np.linalg.norm(outcome["x"]) < 0.3, name
    for name, result in m["2d"].items():
        assert result["f"] < 0.02 * m["2d_f0"], name
    moons = m["moons"]
    assert np.median(moons["GD lr 10"]["train_acc"]) < 0.6  # too large a step: no learning
    assert np.median(moons["Adam lr 0.01"]["train_acc"]) > 0.8


def test_init_schemes_variance_and_convergence(tmp_path):
    m = run_quick("init-schemes", tmp_path)
    variance = m["variance"]
    for init in ("Xavier normal", "Xavier uniform"):
        v = np.asarray(variance[init])
        assert np.all(v[1:] < 4 * v[0]) and np.all(v[1:] > v[0] / 4), init
    small = variance["N(0, 0.01²)"]
    assert small[-1] < 1e-6 * small[0]
    assert variance["N(0, 1)"][-1] > 0.5 and m["saturated"]["N(0, 1)"][-1] > 0.5
    training = m["training"]
    assert np.median(training["Xavier normal"]["train_loss"]) < np.median(
        training["N(0, 1)"]["train_loss"]
    )
