"""Every plot returns a Figure (a PNG in a notebook) and writes a PNG only when given a path;
to_dot shows the graph's ops; derivatives come from autograd."""

import numpy as np
import pytest

import nablab
from nablab import viz
from nablab.viz.activations import activation_curve

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(fig, path):
    """The Figure's notebook PNG is a PNG, and the file at ``path`` is one too."""
    return fig._repr_png_()[:8] == PNG and path.exists() and path.read_bytes()[:8] == PNG


def test_decision_boundary_writes_png_and_uses_the_seed_grid(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    seen = []

    def predict(grid):
        seen.append(grid)
        return nablab.tensor(grid[:, 0] + grid[:, 1]).array > 0

    path = tmp_path / "sub" / "db.png"
    assert _is_png(viz.decision_boundary(predict, X, y, path, title="t"), path)
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
    series = {"a": [3, 2, 1], "b": ([0, 5, 10], [1, 0.5, 0.2])}
    assert _is_png(viz.curves(series, tmp_path / "c.png", logy=True), tmp_path / "c.png")
    grouped = {"sigmoid": {"fc1": 6.9e-11, "fc2": 0.0}, "relu": {"fc1": 4.7e-8, "fc2": 0.4}}
    assert _is_png(viz.grad_norm_bars(grouped, tmp_path / "g.png"), tmp_path / "g.png")
    bars = viz.grad_norm_bars({"fc1": 1.0, "fc2": 2.0}, tmp_path / "g1.png", log=False)
    assert _is_png(bars, tmp_path / "g1.png")
    paths = {"gd": [[3, 4], [2, 1], [1, 0.2]], "diverged": [[3, 4], [np.nan, np.inf]]}
    f = lambda a, b: 0.2 * a**2 + 2 * b**2  # noqa: E731
    assert _is_png(viz.contour_trajectories(f, paths, tmp_path / "ct.png"), tmp_path / "ct.png")
    panels = {"left": {"a": [1, 2]}, "right": {"a": [2, 1], "b": [1, 1]}}
    assert _is_png(viz.curve_panels(panels, tmp_path / "p.png"), tmp_path / "p.png")


def test_activation_plot_writes_png(tmp_path):
    assert _is_png(viz.activation_plot(path=tmp_path / "act.png"), tmp_path / "act.png")
    tanh = viz.activation_plot({"tanh": nablab.tanh}, tmp_path / "tanh.png")
    assert _is_png(tanh, tmp_path / "tanh.png")


def test_a_plot_without_a_path_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = viz.curves({"a": [3, 2, 1]})
    assert fig.axes[0].get_lines()[0].get_ydata().tolist() == [3, 2, 1]
    assert list(tmp_path.iterdir()) == []
    assert viz.save(fig, tmp_path / "later.png") == tmp_path / "later.png"
    assert (tmp_path / "later.png").read_bytes()[:8] == PNG


def test_probability_shading_train_and_test_points_and_side_by_side_panels():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1])
    proba = lambda g: 1 / (1 + np.exp(-(g[:, 0] + g[:, 1] - 1)))  # noqa: E731
    fig = viz.decision_boundary(proba, X, y, X_test=X + 0.5, y_test=y, resolution=20)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["train, y = 0", "train, y = 1", "test, y = 0", "test, y = 1"]
    assert ax.get_legend() is not None and len(fig.axes) == 2  # the plot and its colour bar
    assert fig.axes[1].get_xlabel() == "P(y = 1)"
    both = viz.decision_boundaries({"a": proba, "b": lambda g: g[:, 0] > 0.5}, X, y,
                                   X_test=X, y_test=y, resolution=10)  # fmt: skip
    assert [a.get_title() for a in both.axes[:2]] == ["a", "b"]
    with pytest.raises(ValueError, match=r"floats outside \[0, 1\]"):
        viz.decision_boundary(lambda g: g[:, 0] * 5.0, X, y, resolution=10)
    with pytest.raises(ValueError, match="2 test points but 1 labels"):
        viz.decision_boundary(proba, X, y, X_test=X, y_test=[1], resolution=10)


def test_legends_sit_outside_the_axes_and_colors_follow_the_arm():
    colors = viz.arm_colors(["baseline", "l2"])
    fig = viz.curves({"l2": [3, 2, 1], "baseline": [3, 3, 3]}, colors=colors,
                     references={"chance level": 2.0})  # fmt: skip
    fig.canvas.draw()
    ax = fig.axes[0]
    legend_box = ax.get_legend().get_window_extent()
    assert legend_box.x0 >= ax.get_window_extent().x1  # to the right of the plot area
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert (
        lines["l2"].get_color() == colors["l2"]
        and lines["baseline"].get_color() == colors["baseline"]
    )
    assert lines["chance level"].get_ydata()[0] == 2.0


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
