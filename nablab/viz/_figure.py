"""One way to make and save a figure: a bare matplotlib Figure (no pyplot state), PNG out."""

from io import BytesIO
from pathlib import Path

from ..atomicfile import write_atomic


def new_figure(width: float = 6.4, height: float = 4.8, grid: tuple[int, int] | None = None):
    """(figure, axes) of a fresh Figure: one Axes, or a (rows, cols) array of them for ``grid``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    if grid is None:
        return fig, fig.subplots()
    return fig, fig.subplots(*grid, squeeze=False)


def save(fig, path) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (parent folders created); the Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    png = BytesIO()
    fig.savefig(png, format="png", dpi=100)
    return write_atomic(path, png.getvalue())
