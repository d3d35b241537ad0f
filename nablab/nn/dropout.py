"""Dropout (seeds/002): in training, zero each unit with probability p and scale the
kept ones by 1/(1 − p), so the expected activation is unchanged; identity in eval mode."""

from . import functional as F
from .module import Module


class Dropout(Module):
    """Z = X ⊙ M / (1 − p), M ~ Bernoulli(1 − p) drawn afresh on each forward and reused by
    the backward (δ_X = δ_Z ⊙ M / (1 − p)). `generator` replaces the library's stream."""

    def __init__(self, p=0.5, inplace=False, generator=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, input):
        return F.dropout(input, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
