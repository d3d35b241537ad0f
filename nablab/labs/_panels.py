"""Several line plots side by side in one PNG (nablab.viz.curves draws one axes per file)."""

from collections.abc import Mapping

import numpy as np


def curve_panels(
    panels: Mapping[str, Mapping[str, object]],
    path,
    logy: bool = False,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
    ncols: int = 3,
    marker: str | None = None,
):
    """One axes per entry of ``panels`` ({panel title: {line label: ys or (xs, ys)}}).

    ys alone are drawn at x = 1, 2, ...; ``marker`` (e.g. "o") marks every point.
    Non-finite values are left out of a line (a diverging run stops where it overflows).
    Returns the Path of the PNG.
    """
    ncols = min(ncols, len(panels))
    nrows = -(-len(panels) // ncols)
    from matplotlib.figure import Figure

    from ..viz._figure import save as save_figure

    fig = Figure(figsize=(4.2 * ncols, 3.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (name, series) in zip(axes.flat, panels.items()):
        for label, values in series.items():
            if isinstance(values, tuple) and len(values) == 2:
                xs, ys = (np.asarray(v, dtype=float) for v in values)
            else:
                ys = np.asarray(values, dtype=float).reshape(-1)
                xs = np.arange(1, len(ys) + 1)
            keep = np.isfinite(ys) & ((ys > 0) if logy else True)
            ax.plot(xs[keep], ys[keep], marker=marker, markersize=4, label=label)
        if logy:
            ax.set_yscale("log")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=name)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
