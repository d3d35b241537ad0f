"""Plots over a 2-D plane: a classifier's decision regions, an optimizer's path on contours.

Every function returns the matplotlib Figure and writes a PNG only when given ``path``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..autograd.grad_mode import no_grad
from ._figure import finish, legend_below, legend_outside, new_figure

_REGION_COLORS = ["#b3d9ff", "#f19ec2", "#ffe0a3", "#c8f0c8", "#e0d0f0"]
_POINT_COLORS = ["#1f4e9c", "#c2185b", "#e67e00", "#2ca02c", "#7b3fa0"]


def decision_boundary(
    predict_fn: Callable,
    X,
    y,
    path=None,
    xlim=(-2, 3),
    ylim=(-3, 3),
    resolution: int = 200,
    title: str | None = None,
    X_test=None,
    y_test=None,
    shade_label: str = "P(y = 1)",
):
    """What a classifier predicts over a ``resolution``² grid of ``xlim`` × ``ylim``, with the
    training points (filled circles) and, when given, the test points (hollow squares).

    The seeds' ``show_class_boundary`` (seeds/002): a 200×200 grid over x1 ∈ [−2, 3],
    x2 ∈ [−3, 3]. ``predict_fn`` maps an (N, 2) float array to N class labels (bools or
    integers: hard regions) or to N probabilities P(y = 1) as floats in [0, 1] (shaded by
    confidence, the 0.5 contour drawn), e.g. ``lambda G: model(nablab.tensor(G)).array[:, 0] > 0``
    or ``lambda G: nablab.sigmoid(model(nablab.tensor(G))).array[:, 0]``; it runs under
    ``no_grad``. ``X`` is (n, 2) and ``y`` its n labels (arrays or Tensors). ``shade_label``
    names the shaded value on its colour bar.
    """
    fig, ax = new_figure(6.8, 5)
    points = _points(X, y, X_test, y_test)
    mesh = _draw_boundary(ax, predict_fn, points, xlim, ylim, resolution)
    if mesh is not None:
        fig.colorbar(mesh, ax=ax, label=shade_label, shrink=0.7, location="bottom")
    ax.set(title=title or "")
    legend_outside(ax)
    return finish(fig, path)


def decision_boundaries(
    predict_fns: Mapping[str, Callable],
    X,
    y,
    path=None,
    xlim=(-2, 3),
    ylim=(-3, 3),
    resolution: int = 150,
    title: str | None = None,
    X_test=None,
    y_test=None,
    ncols: int = 3,
    shade_label: str = "P(y = 1)",
):
    """``decision_boundary`` for several classifiers on the same points, side by side in one
    figure ({panel title: predict_fn}), one legend below: runs compared at a glance."""
    points = _points(X, y, X_test, y_test)
    ncols = min(ncols, len(predict_fns))
    nrows = -(-len(predict_fns) // ncols)
    fig, axes = new_figure(4.2 * ncols, 4.0 * nrows + 0.5, grid=(nrows, ncols))
    for ax in axes.flat[len(predict_fns) :]:
        ax.set_visible(False)
    meshes = [_draw_boundary(ax, fn, points, xlim, ylim, resolution) for ax, fn in
              zip(axes.flat, predict_fns.values())]  # fmt: skip
    for ax, name in zip(axes.flat, predict_fns):
        ax.set_title(name, fontsize="medium")
    if meshes[0] is not None:
        fig.colorbar(meshes[0], ax=axes, label=shade_label, shrink=0.6)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    legend_below(fig, handles, labels)
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def _points(X, y, X_test, y_test) -> list[tuple[np.ndarray, np.ndarray, str]]:
    sets = [(X, y, "train")] + ([(X_test, y_test, "test")] if X_test is not None else [])
    points = []
    for data, labels, kind in sets:
        data = np.asarray(data, dtype=float)
        labels = np.asarray(labels).reshape(-1).astype(int)
        if data.ndim != 2 or data.shape[1] != 2:
            raise ValueError(f"decision_boundary: X must have shape (n, 2), got {data.shape}")
        if labels.shape[0] != data.shape[0]:
            raise ValueError(
                f"decision_boundary: {data.shape[0]} {kind} points but {labels.shape[0]} labels"
            )
        points.append((data, labels, kind))
    return points


def _predict_grid(predict_fn, xlim, ylim, resolution):
    x1, x2 = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    grid = np.stack([x1.ravel(), x2.ravel()], axis=1)
    with no_grad():
        values = np.asarray(predict_fn(grid)).reshape(-1)
    if values.size != grid.shape[0]:
        raise ValueError(
            f"decision_boundary: predict_fn returned {values.size} labels "
            f"for {grid.shape[0]} grid points; expected one label per point"
        )
    return x1, x2, values


def _draw_boundary(ax, predict_fn, points, xlim, ylim, resolution):
    """Draw one classifier's regions and the points on ``ax``; the probability shading's mesh
    (for a colour bar) or None for hard regions."""
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap

    x1, x2, values = _predict_grid(predict_fn, xlim, ylim, resolution)
    if np.issubdtype(values.dtype, np.floating):
        if not (np.all(values >= 0) and np.all(values <= 1)):
            raise ValueError(
                "decision_boundary: predict_fn returned floats outside [0, 1]; return "
                "probabilities P(y = 1), or class labels as bools or integers"
            )
        shade = LinearSegmentedColormap.from_list(
            "p", [_REGION_COLORS[0], "#ffffff", _REGION_COLORS[1]]
        )
        proba = values.reshape(x1.shape)
        mesh = ax.pcolormesh(x1, x2, proba, cmap=shade, vmin=0, vmax=1, shading="auto")
        mesh.set_rasterized(True)
        ax.contour(x1, x2, proba, levels=[0.5], colors="#333333", linewidths=1.0)
        n_classes = 2
    else:
        regions = values.astype(int).reshape(x1.shape)
        n_classes = max(int(regions.max()), *(int(lab.max()) for _, lab, _ in points), 1) + 1
        mesh = None
        ax.pcolormesh(x1, x2, regions, cmap=ListedColormap(_REGION_COLORS[:n_classes]),
                      vmin=-0.5, vmax=n_classes - 0.5, shading="auto")  # fmt: skip
    for data, labels, kind in points:
        for c in range(n_classes):
            mask = labels == c
            color = _POINT_COLORS[c % len(_POINT_COLORS)]
            if kind == "train":
                ax.scatter(data[mask, 0], data[mask, 1], marker="o", s=22, c=color,
                           edgecolors="white", linewidths=0.5, label=f"train, y = {c}")  # fmt: skip
            else:
                ax.scatter(data[mask, 0], data[mask, 1], marker="s", s=26, facecolors="none",
                           edgecolors=color, linewidths=1.3, label=f"test, y = {c}")  # fmt: skip
    ax.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2")
    return mesh


def contour_trajectories(
    f: Callable,
    trajectories: Mapping[str, object],
    path=None,
    xlim=None,
    ylim=None,
    levels: int = 30,
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
):
    """Contours of f(x1, x2) with each optimizer's path of iterates drawn on them.

    ``f`` takes two NumPy grids and returns the grid of values (write it with NumPy
    operators, e.g. ``lambda a, b: 0.2 * a**2 + 2 * b**2``). ``trajectories`` maps a name to
    a (steps, 2) sequence of points. Limits default to the paths' extent plus a margin;
    pass them to keep a diverging path from flattening the picture (points outside are
    clipped from view).
    """
    paths = {name: np.asarray(p, dtype=float).reshape(-1, 2) for name, p in trajectories.items()}
    finite = np.concatenate([p[np.isfinite(p).all(axis=1)] for p in paths.values()])
    if finite.size == 0 and (xlim is None or ylim is None):
        raise ValueError("contour_trajectories: no finite point to set the limits from")
    xlim = xlim or _padded(finite[:, 0])
    ylim = ylim or _padded(finite[:, 1])
    a, b = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    fig, ax = new_figure(8.2, 5)
    with np.errstate(all="ignore"):
        ax.contour(a, b, f(a, b), levels=levels, cmap="viridis", linewidths=0.8)
    for name, p in paths.items():
        ax.plot(p[:, 0], p[:, 1], marker="o", markersize=2.5, linewidth=1.2, label=name,
                color=(colors or {}).get(name))  # fmt: skip
    ax.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2", title=title or "")
    legend_outside(ax)
    return finish(fig, path)


def _padded(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(values.min()), float(values.max())
    pad = 0.15 * (hi - lo) or 1.0
    return lo - pad, hi + pad
