"""Embedding: a lookup table of learned vectors, Z = W[indices]."""

import numpy as np

from .. import devices, dtypes
from ..autograd.tensor import Tensor
from ..ops.elementwise import where
from ..ops.shape import getitem
from . import init
from .module import Module
from .parameter import Parameter


def embedding(input, weight, padding_idx=None):
    """Z = W[indices] (rows of W picked by an integer tensor of any shape).

    δ_W = scatter-add of δ_Z into the picked rows (the getitem op's backward); rows at
    `padding_idx` receive no gradient.
    """
    idx = input.array if isinstance(input, Tensor) else np.asarray(input)
    n = weight.shape[0]
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(
            f"embedding: index {bad} is out of range; valid indices are 0..{n - 1} "
            f"(num_embeddings={n})"
        )
    out = getitem(weight, idx)
    if padding_idx is None:
        return out
    keep = (idx != padding_idx % n)[..., None]
    return where(keep, out, out.detach())


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_dim`, initialised N(0, 1)
    (PyTorch's default), the `padding_idx` row zeroed and frozen."""

    def __init__(
        self, num_embeddings, embedding_dim, padding_idx=None, dtype=None, generator=None,
        device=None,
    ):  # fmt: skip
        devices.cpu(device)
        super().__init__()
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(
                f"padding_idx must be within [-{num_embeddings}, {num_embeddings - 1}], "
                f"got {padding_idx}"
            )
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype))
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"
