"""Activation functions and their derivatives, both from the library: ops and autograd."""

from collections.abc import Callable, Mapping

import numpy as np

from ..activations import CATALOGUE
from ..creation import linspace
from ._figure import finish, legend_below, new_figure

# Every entry of the catalogue; Leaky ReLU's slope 0.1 makes the slope visible.
DEFAULT_ACTIVATIONS: dict[str, Callable] = {
    entry.title(negative_slope=0.1): entry.bind(negative_slope=0.1) for entry in CATALOGUE.values()
}


def activation_curve(fn: Callable, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), f'(x)) at the points ``xs``: f'(x) is d(Σ f(x))/dx from one backward pass.

    An elementwise f makes each output depend on its own input only, so the gradient
    of the sum is the derivative at every point.
    """
    x = linspace(float(xs[0]), float(xs[-1]), len(xs), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.array.copy(), x.grad.array.copy()


def activation_plot(
    functions: Mapping[str, Callable] | None = None,
    path=None,
    xlim=(-5.0, 5.0),
    points: int = 401,
    title: str | None = None,
):
    """One panel per activation with the function and its derivative (autograd's, not by hand);
    the Figure, written as PNG when given ``path``.

    ``functions`` maps a name to a callable on Tensors; default: every activation of the
    catalogue (nablab.activations), Leaky ReLU with slope 0.1 to make the slope visible.
    """
    functions = DEFAULT_ACTIVATIONS if functions is None else functions
    xs = np.linspace(*xlim, points)
    ncols = min(3, len(functions))
    nrows = -(-len(functions) // ncols)
    fig, axes = new_figure(4 * ncols, 3.2 * nrows + 0.4, grid=(nrows, ncols))
    for ax in axes.flat[len(functions) :]:
        ax.set_visible(False)
    for ax, (name, fn) in zip(axes.flat, functions.items()):
        value, slope = activation_curve(fn, xs)
        ax.plot(xs, value, label="f(x)")
        ax.plot(xs, slope, linestyle="--", label="f'(x)")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set_title(name)
        ax.grid(alpha=0.3)
    legend_below(fig, *axes.flat[0].get_legend_handles_labels())
    if title:
        fig.suptitle(title)
    return finish(fig, path)
