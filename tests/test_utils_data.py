"""nablab.utils.data as torch.utils.data (the names of nablab.data), random_split and
Subset beside torch's, and nablab.__version__."""

import importlib.metadata
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import nablab
import nablab.data
from nablab.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def test_utils_data_reexports_nablab_data():
    for name in ("DataLoader", "Dataset", "Subset", "TensorDataset", "random_split"):
        assert getattr(nablab.utils.data, name) is getattr(nablab.data, name)


def test_course_imports_work_from_the_package_attribute():
    loader = nablab.utils.data.DataLoader(nablab.utils.data.TensorDataset(nablab.arange(4)), 2)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]


LENGTHS = [
    (10, [3, 7]),
    (10, [0.3, 0.7]),
    (10, [0.33, 0.33, 0.34]),
    (10, [0.25] * 4),
    (10, [0.1] * 10),
    (7, [0.5, 0.5]),
    (100, [0.8, 0.1, 0.1]),
    (5, [5, 0]),
    (4, [0.9, 0.1]),
    (1, [1.0]),
]


def torch_sizes(n, lengths):
    torch = pytest.importorskip("torch")
    dataset = torch.utils.data.TensorDataset(torch.arange(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns of an empty split of fractions
        return [len(s) for s in torch.utils.data.random_split(dataset, lengths)]


@pytest.mark.parametrize(("n", "lengths"), LENGTHS)
def test_random_split_sizes_as_torch_and_a_partition(n, lengths):
    parts = random_split(TensorDataset(nablab.arange(n)), lengths, generator=0)
    assert [len(p) for p in parts] == torch_sizes(n, lengths)
    indices = [i for part in parts for i in part.indices]
    assert sorted(indices) == list(range(n))
    assert all(isinstance(p, Subset) for p in parts)


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [1.5, -0.5]])
def test_random_split_refuses_what_torch_refuses(lengths):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.utils.data.random_split(torch.utils.data.TensorDataset(torch.arange(10)), lengths)
    with pytest.raises(ValueError, match="random_split|fraction at index 0"):
        random_split(TensorDataset(nablab.arange(10)), lengths)


def test_random_split_error_messages():
    dataset = TensorDataset(nablab.arange(10))
    with pytest.raises(ValueError, match="lengths sum to 6, but the dataset has 10 samples"):
        random_split(dataset, [3, 3])
    with pytest.raises(ValueError, match="fraction at index 0 is not between 0 and 1, got 1.5"):
        random_split(dataset, [1.5, -0.5])
    with pytest.raises(ValueError, match="non-negative integers or fractions .* got -1 at index 0"):
        random_split(dataset, [-1, 11])  # torch accepts this one and gives sizes [9, 1]
    with pytest.raises(ValueError, match=r"got 2\.5 at index 0"):
        random_split(dataset, [2.5, 7.5])
    with pytest.raises(TypeError, match="generator must be None, an int seed"):
        random_split(dataset, [5, 5], generator="seed")


def test_random_split_is_seeded():
    dataset = TensorDataset(nablab.arange(20))

    def split(generator):
        return [p.indices for p in random_split(dataset, [0.5, 0.5], generator=generator)]

    assert split(3) == split(3) == split(np.random.default_rng(3))
    assert split(3) != split(4)
    nablab.manual_seed(5)
    first = split(None)
    nablab.manual_seed(5)
    assert split(None) == first


def test_subset_indexes_into_its_dataset():
    dataset = TensorDataset(nablab.arange(10) * 10)
    subset = Subset(dataset, [4, 1, 7])
    assert len(subset) == 3
    assert subset[0][0].item() == 40 and subset[-1][0].item() == 70
    assert subset[[0, 2]][0].tolist() == [40, 70]


class Squares(Dataset):
    def __len__(self):
        return 9

    def __getitem__(self, i):
        return float(i), i * i


def test_dataloader_over_a_split_matches_torch_on_the_same_indices():
    torch = pytest.importorskip("torch")
    x = np.arange(24, dtype=np.float32).reshape(12, 2)
    y = np.arange(12)
    train, test = random_split(TensorDataset(nablab.tensor(x), nablab.tensor(y)), [0.75, 0.25], 1)
    theirs = torch.utils.data.Subset(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), train.indices
    )
    ours = [(a.numpy(), b.numpy()) for a, b in DataLoader(train, batch_size=4)]
    expected = [(a.numpy(), b.numpy()) for a, b in torch.utils.data.DataLoader(theirs, 4)]
    assert len(ours) == len(expected) == 3
    for (a, b), (ta, tb) in zip(ours, expected):
        np.testing.assert_array_equal(a, ta)
        np.testing.assert_array_equal(b, tb)
    assert len(test) == 3


def test_dataloader_over_a_split_of_a_custom_dataset():
    parts = random_split(Squares(), [6, 3], generator=2)
    seen = []
    for xs, ys in DataLoader(parts[0], batch_size=4, shuffle=True, generator=0):
        np.testing.assert_array_equal(ys.numpy(), xs.numpy() ** 2)
        seen += ys.tolist()
    assert sorted(seen) == sorted(i * i for i in parts[0].indices)


def test_version_is_the_package_metadata_and_pyproject_version():
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    expected = re.search(r'^version = "(.+)"', pyproject, re.MULTILINE).group(1)
    assert nablab.__version__ == expected == importlib.metadata.version("nablab")


def test_version_falls_back_to_pyproject_without_metadata(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    monkeypatch.delitem(vars(nablab), "__version__", raising=False)
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert nablab.__version__ == re.search(r'^version = "(.+)"', pyproject, re.M).group(1)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        getattr(nablab, "nope")  # noqa: B009 -- the attribute lookup is the test
