"""One way to make and save a figure: a bare matplotlib Figure (no pyplot state), PNG out."""

from pathlib import Path


def new_figure(width: float = 6.4, height: float = 4.8, ncols: int = 1, nrows: int = 1):
    """(figure, axes) of a fresh Figure; axes is one Axes or an array of them."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=nrows * ncols == 1)


def save(fig, path) -> Path:
    """Write ``fig`` as PNG to ``path`` (parent folders created) and return the Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path
