"""Plots of numbers per step or per layer: training curves, panels of them, gradient-flow bars.

Every function returns the matplotlib Figure (shown inline in a notebook) and writes it as PNG
only when given ``path``. ``colors`` ({line label: colour}, e.g. ``arm_colors(labels)``) keeps
one run's colour across a lab's figures; ``references`` ({label: y}) draws dashed horizontal
lines such as a chance level or a published value. Legends sit outside the axes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._figure import arm_colors, finish, legend_below, legend_outside, new_figure

_REFERENCE_STYLES = [("#555555", "--"), ("#555555", ":"), ("#555555", "-.")]


def curves(
    series: Mapping[str, object],
    path=None,
    logy: bool = False,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
    references: Mapping[str, float] | None = None,
):
    """One line per entry of ``series``: a sequence of y (x = 0, 1, ...) or an (xs, ys) tuple."""
    fig, ax = new_figure(7.4 if len(series) > 1 or references else 6.4, 4.8)
    _draw_lines(ax, series, logy, colors, references, start=0)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if len(series) > 1 or references:
        legend_outside(ax)
        if title:
            fig.suptitle(title)  # centred on the figure: the legend beside the axes leaves room
    else:
        ax.set_title(title or "")
    return finish(fig, path)


def curve_panels(
    panels: Mapping[str, Mapping[str, object]],
    path=None,
    logy: bool = False,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
    ncols: int = 3,
    marker: str | None = None,
    colors: Mapping[str, str] | None = None,
    references: Mapping[str, float] | None = None,
):
    """One axes per entry of ``panels`` ({panel title: {line label: ys or (xs, ys)}}), side by
    side, with one legend below them all (a label keeps its colour in every panel).

    ys alone are drawn at x = 1, 2, ...; ``marker`` (e.g. "o") marks every point.
    Non-finite values are left out of a line (a diverging run stops where it overflows).
    """
    labels = list(dict.fromkeys(label for series in panels.values() for label in series))
    colors = {**arm_colors(labels), **(colors or {})}
    ncols = min(ncols, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = new_figure(4.2 * ncols, 3.4 * nrows + 0.6, grid=(nrows, ncols))
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (name, series) in zip(axes.flat, panels.items()):
        _draw_lines(ax, series, logy, colors, references, start=1, marker=marker)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=name)
    handles, names = _unique_handles(axes.flat[: len(panels)])
    if len(names) > 1:
        legend_below(fig, handles, names)
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def grad_norm_bars(
    per_layer_norms: Mapping[str, object],
    path=None,
    log: bool = True,
    ylabel: str = "weight-gradient norm",
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
):
    """Bars of a value per layer: ``{layer: norm}``, or ``{label: {layer: norm}}`` grouped.

    Zero norms are drawn as absent bars on a log axis and labelled "0" above the axis.
    """
    first = next(iter(per_layer_norms.values()), None)
    groups = per_layer_norms if isinstance(first, Mapping) else {"": per_layer_norms}
    layers = list(dict.fromkeys(layer for norms in groups.values() for layer in norms))
    width_in = min(12.0, max(6.4, 0.5 * len(layers) * max(len(groups), 1)))
    fig, ax = new_figure(width_in + (1.8 if len(groups) > 1 else 0), 4.8)
    width = 0.8 / len(groups)
    x = np.arange(len(layers))
    for i, (label, norms) in enumerate(groups.items()):
        values = np.array([float(norms.get(layer, np.nan)) for layer in layers])
        pos = x - 0.4 + width * (i + 0.5)
        color = (colors or {}).get(label)
        heights = np.where(values > 0, values, np.nan) if log else values
        ax.bar(pos, heights, width, label=label, color=color)
        for p in pos[values == 0]:
            ax.annotate("0", (p, 0), xycoords=("data", "axes fraction"), ha="center", va="bottom")
    if log:
        ax.set_yscale("log")
    ax.set_xticks(x, layers)
    ax.set(ylabel=ylabel, title=title or "")
    ax.grid(axis="y", alpha=0.3)
    if len(groups) > 1:
        legend_outside(ax)
    return finish(fig, path)


def _draw_lines(ax, series, logy, colors, references, start, marker=None) -> None:
    for label, values in series.items():
        xs, ys = _xy(values, start)
        keep = np.isfinite(ys) & ((ys > 0) if logy else True)
        color = (colors or {}).get(label)
        ax.plot(xs[keep], ys[keep], marker=marker, markersize=4, label=label, color=color)
    for (label, value), (color, style) in zip((references or {}).items(), _REFERENCE_STYLES):
        ax.axhline(value, color=color, linestyle=style, linewidth=1.2, label=label)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)


def _unique_handles(axes) -> tuple[list, list]:
    by_label = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            by_label.setdefault(label, handle)
    return list(by_label.values()), list(by_label)


def _xy(values, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(values, tuple) and len(values) == 2 and np.ndim(values[0]) == 1:
        return np.asarray(values[0], dtype=float), np.asarray(values[1], dtype=float)
    ys = np.asarray(values, dtype=float).reshape(-1)
    return np.arange(start, start + len(ys)), ys
