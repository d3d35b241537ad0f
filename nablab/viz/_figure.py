"""One way to make and save a figure: a bare matplotlib Figure (no pyplot state) that a
notebook shows inline (``_repr_png_``), written as PNG only when given a path."""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from ..atomicfile import write_atomic

DPI = 100


@cache
def _figure_class():
    from matplotlib.figure import Figure as MatplotlibFigure

    class Figure(MatplotlibFigure):
        """A matplotlib Figure that Jupyter shows as a PNG without pyplot or a backend."""

        def _repr_png_(self) -> bytes:
            png = BytesIO()
            self.savefig(png, format="png", dpi=DPI)
            return png.getvalue()

    return Figure


def new_figure(width: float = 6.4, height: float = 4.8, grid: tuple[int, int] | None = None):
    """(figure, axes) of a fresh Figure: one Axes, or a (rows, cols) array of them for ``grid``."""
    fig = _figure_class()(figsize=(width, height), layout="constrained")
    if grid is None:
        return fig, fig.subplots()
    return fig, fig.subplots(*grid, squeeze=False)


def save(fig, path) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (parent folders created); the Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    png = BytesIO()
    fig.savefig(png, format="png", dpi=DPI)
    return write_atomic(path, png.getvalue())


def finish(fig, path):
    """``fig``, written to ``path`` first when a path is given."""
    if path is not None:
        save(fig, path)
    return fig


def legend_outside(ax, **options) -> None:
    """The axes' legend to the right of the plot, where it cannot cover data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
              fontsize="small", **options)  # fmt: skip


def legend_below(fig, handles, labels, ncols: int | None = None) -> None:
    """One legend for every panel of ``fig``, below them (outside every axes)."""
    fig.legend(handles, labels, loc="outside lower center", fontsize="small",
               ncols=ncols or min(len(labels), 4))  # fmt: skip


def arm_colors(names) -> dict:
    """{name: colour}: matplotlib's tab10 in order, so one arm keeps its colour in every figure
    of a lab when each figure is given the same mapping."""
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]  # fmt: skip
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}
