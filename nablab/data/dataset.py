"""Dataset: anything indexable with a length; TensorDataset: rows of aligned tensors;
Subset and random_split: a dataset cut at random into parts."""

import itertools
import math
from abc import ABC, abstractmethod

import numpy as np

from .. import random
from ..creation import as_tensor, from_numpy


class Dataset(ABC):
    """A map-style dataset: `dataset[i]` is the i-th sample, `len(dataset)` their number."""

    @abstractmethod
    def __getitem__(self, index): ...

    @abstractmethod
    def __len__(self): ...


class TensorDataset(Dataset):
    """Samples are rows: `dataset[i] == (t[i] for t in tensors)`.

    `TensorDataset(X, y)` with X of shape (N, ...) and y of shape (N, ...); arrays are
    turned into Tensors (no copy). All tensors must have the same first dimension N.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(as_tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(t.shape) for t in self.tensors)
            raise ValueError(
                f"TensorDataset: every tensor needs the same first dimension (the number of "
                f"samples); got sizes {sizes} from shapes {shapes}"
            )

    def __getitem__(self, index):
        return tuple(from_numpy(t.array[index, ...]) for t in self.tensors)  # 0-d stays an array

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: `subset[i] == dataset[indices[i]]`."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """`dataset` cut into non-overlapping random Subsets of the given `lengths`: sample
    counts summing to len(dataset), or fractions summing to 1 (each floor(f·N), the
    remaining samples one each to the first subsets, as in PyTorch). `generator`: None
    (the library's), an int seed or a numpy.random.Generator."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"fraction at index {i} is not between 0 and 1, got {fraction}")
        counts = [math.floor(n * fraction) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    for i, length in enumerate(lengths):
        if not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 0:
            raise ValueError(
                f"random_split: lengths must be non-negative integers or fractions summing to 1, "
                f"got {length!r} at index {i}"
            )
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: the lengths sum to {sum(lengths)}, but the dataset has {n} samples"
        )
    order = (random.seeded(generator) or random.default_generator()).permutation(n).tolist()
    starts = itertools.accumulate(lengths, initial=0)
    return [
        Subset(dataset, order[start : start + length]) for start, length in zip(starts, lengths)
    ]
