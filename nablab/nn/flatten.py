"""Flatten: merge dims start_dim..end_dim (by default every dim but the batch dim)."""

from ..ops.shape import flatten
from .module import Module


class Flatten(Module):
    """Z = X reshaped to (N, d1·d2·...) with the defaults; δ_X = δ_Z reshaped back."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
