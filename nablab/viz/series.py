"""Plots of numbers per step or per layer: training curves and gradient-flow bars."""

from collections.abc import Mapping, Sequence

import numpy as np

from ._figure import new_figure, save


def curves(
    series: Mapping[str, object],
    path,
    logy: bool = False,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
):
    """One line per entry of ``series``: a sequence of y (x = 0, 1, ...) or an (xs, ys) tuple."""
    fig, ax = new_figure()
    for name, values in series.items():
        xs, ys = _xy(values)
        ax.plot(xs, ys, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize="small")
    return save(fig, path)


def grad_norm_bars(
    per_layer_norms: Mapping[str, object],
    path,
    log: bool = True,
    ylabel: str = "weight-gradient norm",
    title: str | None = None,
):
    """Bars of a value per layer: ``{layer: norm}``, or ``{label: {layer: norm}}`` grouped.

    Zero norms are drawn as absent bars on a log axis and labelled "0" above the axis.
    """
    first = next(iter(per_layer_norms.values()), None)
    groups = per_layer_norms if isinstance(first, Mapping) else {"": per_layer_norms}
    layers = list(dict.fromkeys(layer for norms in groups.values() for layer in norms))
    fig, ax = new_figure(min(16.0, max(6.4, 0.9 * len(layers) * max(len(groups), 1))), 4.8)
    width = 0.8 / len(groups)
    x = np.arange(len(layers))
    for i, (label, norms) in enumerate(groups.items()):
        values = np.array([float(norms.get(layer, np.nan)) for layer in layers])
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, np.where(values > 0, values, np.nan) if log else values, width, label=label)
        for p in pos[values == 0]:
            ax.annotate("0", (p, 0), xycoords=("data", "axes fraction"), ha="center", va="bottom")
    if log:
        ax.set_yscale("log")
    ax.set_xticks(x, layers)
    ax.set(ylabel=ylabel, title=title or "")
    ax.grid(axis="y", alpha=0.3)
    if len(groups) > 1:
        ax.legend(fontsize="small")
    return save(fig, path)


def _xy(values) -> tuple[Sequence, Sequence]:
    if isinstance(values, tuple) and len(values) == 2 and np.ndim(values[0]) == 1:
        return values
    ys = np.asarray(values, dtype=float).reshape(-1)
    return np.arange(len(ys)), ys
