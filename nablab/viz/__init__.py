"""Plots for the labs and for a notebook: each function returns a matplotlib Figure (shown
inline in Jupyter) and writes it as PNG only when given a path; ``save(fig, path)`` writes one
later. matplotlib is imported inside each function, so ``import nablab`` stays light.
``to_dot`` returns Graphviz text.
"""

from ._figure import arm_colors, save
from .activations import activation_plot
from .graph import to_dot
from .plane import contour_trajectories, decision_boundaries, decision_boundary
from .series import curve_panels, curves, grad_norm_bars
