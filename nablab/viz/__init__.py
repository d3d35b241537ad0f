"""Plots for the labs, written with matplotlib's Agg renderer (no display needed).

matplotlib is imported inside each function, so ``import nablab`` stays light. Every
plotting function writes a PNG and returns its Path; ``to_dot`` returns Graphviz text.
"""

from .activations import activation_plot
from .graph import to_dot
from .plane import contour_trajectories, decision_boundary
from .series import curves, grad_norm_bars
