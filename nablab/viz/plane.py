"""Plots over a 2-D plane: a classifier's decision regions, an optimizer's path on contours."""

from collections.abc import Callable, Mapping

import numpy as np

from ..autograd.grad_mode import no_grad
from ._figure import new_figure, save

_REGION_COLORS = ["#f19ec2", "#f5f5f5", "#b3d9ff", "#ffe0a3", "#c8f0c8"]
_POINT_COLORS = ["#e4007f", "#000000", "#1f77b4", "#ff7f0e", "#2ca02c"]


def decision_boundary(
    predict_fn: Callable,
    X,
    y,
    path,
    xlim=(-2, 3),
    ylim=(-3, 3),
    resolution: int = 200,
    title: str | None = None,
):
    """The class each point of a ``resolution``² grid over ``xlim`` × ``ylim`` gets, with the data.

    The seeds' ``show_class_boundary`` (seeds/002): a 200×200 grid over x1 ∈ [−2, 3],
    x2 ∈ [−3, 3]. ``predict_fn`` maps an (N, 2) float array to N class labels (bools or
    integers), e.g. ``lambda G: model(nablab.tensor(G)).data[:, 0] > 0``; it runs under
    ``no_grad``. ``X`` is (n, 2) and ``y`` its n labels (arrays or Tensors).
    """
    from matplotlib.colors import ListedColormap

    X, y = np.asarray(X, dtype=float), np.asarray(y).reshape(-1).astype(int)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary: X must have shape (n, 2), got {X.shape}")
    x1, x2 = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    grid = np.stack([x1.ravel(), x2.ravel()], axis=1)
    with no_grad():
        labels = np.asarray(predict_fn(grid)).reshape(-1)
    if labels.size != grid.shape[0]:
        raise ValueError(
            f"decision_boundary: predict_fn returned {labels.size} labels "
            f"for {grid.shape[0]} grid points; expected one label per point"
        )
    regions = labels.astype(int).reshape(x1.shape)
    n_classes = max(int(regions.max()), int(y.max()), 1) + 1
    fig, ax = new_figure(5.5, 5)
    ax.pcolormesh(
        x1,
        x2,
        regions,
        cmap=ListedColormap(_REGION_COLORS[:n_classes]),
        vmin=-0.5,
        vmax=n_classes - 0.5,
        shading="auto",
    )
    for c in range(n_classes):
        mask = y == c
        ax.scatter(X[mask, 0], X[mask, 1], marker="*", s=25, c=_POINT_COLORS[c], label=f"y = {c}")
    ax.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2", title=title or "")
    ax.legend(loc="upper right", fontsize="small")
    return save(fig, path)


def contour_trajectories(
    f: Callable,
    trajectories: Mapping[str, object],
    path,
    xlim=None,
    ylim=None,
    levels: int = 30,
    title: str | None = None,
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
    fig, ax = new_figure(6.4, 5)
    with np.errstate(all="ignore"):
        ax.contour(a, b, f(a, b), levels=levels, cmap="viridis", linewidths=0.8)
    for name, p in paths.items():
        ax.plot(p[:, 0], p[:, 1], marker="o", markersize=2.5, linewidth=1.2, label=name)
    ax.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2", title=title or "")
    ax.legend(fontsize="small")
    return save(fig, path)


def _padded(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(values.min()), float(values.max())
    pad = 0.15 * (hi - lo) or 1.0
    return lo - pad, hi + pad
