"""Every plot writes a PNG; to_dot shows the graph's ops; derivatives come from autograd."""

import numpy as np
import pytest

import nablab
from nablab import viz
from nablab.viz.activations import activation_curve

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    return path.exists() and path.read_bytes()[:8] == PNG


def test_decision_boundary_writes_png_and_uses_the_seed_grid(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    seen = []

    def predict(grid):
        seen.append(grid)
        return nablab.tensor(grid[:, 0] + grid[:, 1]).data > 0

    path = viz.decision_boundary(predict, X, y, tmp_path / "sub" / "db.png", title="t")
    assert _is_png(path)
    (grid,) = seen
    assert grid.shape == (200 * 200, 2)
    assert grid[:, 0].min() == -2 and grid[:, 0].max() == 3
    assert grid[:, 1].min() == -3 and grid[:, 1].max() == 3


def test_decision_boundary_errors_name_the_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\), got \(4, 3\)"):
        viz.decision_boundary(lambda g: g[:, 0] > 0, np.zeros((4, 3)), np.zeros(4), tmp_path / "a")
    with pytest.raises(ValueError, match="returned 1 labels for 100 grid points"):
        viz.decision_boundary(lambda g: [1], np.zeros((4, 2)), np.zeros(4), tmp_path / "a",
                              resolution=10)  # fmt: skip


def test_curves_bars_contours_write_png(tmp_path):
    assert _is_png(viz.curves({"a": [3, 2, 1], "b": ([0, 5, 10], [1, 0.5, 0.2])},
                              tmp_path / "c.png", logy=True))  # fmt: skip
    grouped = {"sigmoid": {"fc1": 6.9e-11, "fc2": 0.0}, "relu": {"fc1": 4.7e-8, "fc2": 0.4}}
    assert _is_png(viz.grad_norm_bars(grouped, tmp_path / "g.png"))
    assert _is_png(viz.grad_norm_bars({"fc1": 1.0, "fc2": 2.0}, tmp_path / "g1.png", log=False))
    paths = {"gd": [[3, 4], [2, 1], [1, 0.2]], "diverged": [[3, 4], [np.nan, np.inf]]}
    f = lambda a, b: 0.2 * a**2 + 2 * b**2  # noqa: E731
    assert _is_png(viz.contour_trajectories(f, paths, tmp_path / "ct.png"))


def test_activation_plot_writes_png(tmp_path):
    assert _is_png(viz.activation_plot(path=tmp_path / "act.png"))
    assert _is_png(viz.activation_plot({"tanh": nablab.tanh}, tmp_path / "tanh.png"))


def test_activation_derivative_is_autograds():
    xs = np.linspace(-4, 4, 9)
    value, slope = activation_curve(nablab.sigmoid, xs)
    s = 1 / (1 + np.exp(-xs))
    np.testing.assert_allclose(value, s, rtol=1e-6)
    np.testing.assert_allclose(slope, s * (1 - s), rtol=1e-5, atol=1e-7)
    _, relu_slope = activation_curve(nablab.relu, xs)
    np.testing.assert_array_equal(relu_slope, (xs > 0).astype(relu_slope.dtype))


def test_to_dot_names_ops_shapes_and_parameters():
    x = nablab.randn(4, 2)
    w = nablab.randn(3, 2, requires_grad=True)
    loss = (x @ w.T).relu().sum()
    dot = viz.to_dot(loss, names={"fc.weight": w})
    for text in ("digraph", "relu", "sum", "fc.weight", "(4, 3)", "(3, 2)", "->"):
        assert text in dot
    assert dot.count("->") == dot.count("[label=") - 1  # a chain: one edge per non-root node


def test_to_dot_refuses_a_tensor_without_graph():
    with pytest.raises(ValueError, match="does not require grad"):
        viz.to_dot(nablab.ones(2))
