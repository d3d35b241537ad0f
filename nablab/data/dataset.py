"""Dataset: anything indexable with a length; TensorDataset: rows of aligned tensors."""

from abc import ABC, abstractmethod

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
        return tuple(from_numpy(t.data[index, ...]) for t in self.tensors)  # 0-d stays an array

    def __len__(self):
        return self.tensors[0].shape[0]
