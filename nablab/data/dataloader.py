"""DataLoader: one pass over a dataset in mini-batches, in order or shuffled, seeded.

Each iteration over the loader is one epoch. With `shuffle=True` every epoch draws a
new permutation from `generator`: a `numpy.random.Generator`, an int seed (a Generator
made once, at construction), or by default the library's generator
(`nablab.random.default_generator()`, looked up at the start of each epoch, so
`nablab.manual_seed(n)` before training makes the batch order repeatable).

A batch of a `TensorDataset` (without `collate_fn`) is gathered in one fancy-indexing
operation per tensor, `(X[idx], y[idx])`: fresh Tensors, no per-sample Python loop.
Any other dataset is read sample by sample and the samples are merged by `collate_fn`
(default: `default_collate`).
"""

import numpy as np

from .. import random
from ..autograd.tensor import Tensor
from ..creation import from_numpy, tensor
from .dataset import TensorDataset


class DataLoader:
    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=False,
        drop_last=False,
        generator=None,
        collate_fn=None,
    ):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = random.seeded(generator)
        self.collate_fn = collate_fn

    def __len__(self):
        """The number of batches in an epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = (self.generator or random.default_generator()).permutation(n)
        else:
            order = np.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._batch(order[start : start + self.batch_size])

    def _batch(self, indices):
        if self.collate_fn is None and isinstance(self.dataset, TensorDataset):
            return self.dataset[indices]
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)


def default_collate(samples):
    """Merge a list of samples into a batch along a new first dimension.

    Tuples and lists of fields give a tuple of batched fields, dicts a dict; Tensors and
    arrays are stacked into a Tensor; Python numbers become a Tensor (default float
    dtype or int64); strings stay a list.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(default_collate(list(field)) for field in zip(*samples))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, Tensor):
        return _stack([s.array for s in samples])
    if isinstance(first, (np.ndarray, np.generic)):
        return _stack(samples)
    if isinstance(first, (bool, int, float)):
        return tensor(samples)
    if isinstance(first, str):
        return list(samples)
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")


def _stack(arrays):
    """One Tensor of the samples' arrays along a new first dimension; ValueError naming the
    first two samples of different shapes."""
    shapes = [np.shape(a) for a in arrays]
    other = next((i for i, shape in enumerate(shapes) if shape != shapes[0]), None)
    if other is not None:
        raise ValueError(
            f"default_collate: samples of different shapes cannot be stacked into a batch: "
            f"sample 0 has shape {shapes[0]}, sample {other} has shape {shapes[other]}; "
            "pad them to one shape or pass a collate_fn"
        )
    return from_numpy(np.stack(arrays))
