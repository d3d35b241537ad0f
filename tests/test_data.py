"""nablab.data: Dataset, TensorDataset, DataLoader (seeded shuffling) and the synthetic sets."""

import math
import subprocess
import sys

import numpy as np
import pytest

import nablab
from nablab.data import (
    DataLoader,
    Dataset,
    TensorDataset,
    circles,
    linear_high_dim,
    moons,
    polynomial,
    spirals,
    split,
    xor,
)

N = 10
FEATURES = np.arange(2 * N, dtype=np.float32).reshape(N, 2)
LABELS = np.arange(N)


def _dataset():
    return TensorDataset(nablab.tensor(FEATURES), nablab.tensor(LABELS))


def _rows(loader):
    return [int(i) for _, y in loader for i in y.array]


# ----- Dataset, TensorDataset -------------------------------------------------------------


def test_tensor_dataset_rows():
    data = _dataset()
    assert len(data) == N
    x, y = data[3]
    np.testing.assert_array_equal(x.array, FEATURES[3])
    assert y.shape == () and y.item() == 3 and isinstance(y, nablab.Tensor)


def test_tensor_dataset_accepts_arrays():
    x, y = TensorDataset(FEATURES, LABELS)[9]
    np.testing.assert_array_equal(x.array, FEATURES[9])


def test_tensor_dataset_size_mismatch_names_the_sizes():
    with pytest.raises(ValueError, match=r"same first dimension.*sizes \[10, 9\]"):
        TensorDataset(FEATURES, LABELS[:9])
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


class Squares(Dataset):
    """A dataset of Python tuples, to exercise the per-sample path and default_collate."""

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i, {"name": f"s{i}"}

    def __len__(self):
        return 5


def test_loader_on_a_custom_dataset_collates_samples():
    x, i, meta = next(iter(DataLoader(Squares(), batch_size=3)))
    np.testing.assert_array_equal(x.array, [[0, 0], [1, 1], [2, 4]])
    np.testing.assert_array_equal(i.array, [0, 1, 2])
    assert i.dtype == np.int64 and meta == {"name": ["s0", "s1", "s2"]}


def test_custom_collate_fn():
    loader = DataLoader(Squares(), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]


# ----- DataLoader ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_batch_size_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(_dataset(), batch_size=bad)


def test_generator_type_is_checked():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(_dataset(), shuffle=True, generator=np.random.RandomState(0))


def test_batches_in_order_with_a_short_last_batch():
    loader = DataLoader(_dataset(), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert _rows(loader) == list(range(N))
    np.testing.assert_array_equal(batches[2][0].array, FEATURES[8:])


def test_drop_last():
    loader = DataLoader(_dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2 and _rows(loader) == list(range(8))
    assert len(DataLoader(_dataset(), batch_size=5, drop_last=True)) == 2


def test_batches_are_fresh_tensors():
    data = _dataset()
    x, _ = next(iter(DataLoader(data, batch_size=4)))
    x.array[...] = -1
    np.testing.assert_array_equal(data.tensors[0].array, FEATURES)


def test_tensor_dataset_batches_are_gathered_in_one_indexing_per_batch():
    calls = []

    class Counting(TensorDataset):
        def __getitem__(self, index):
            calls.append(np.shape(index))
            return super().__getitem__(index)

    loader = DataLoader(Counting(FEATURES, LABELS), batch_size=4, shuffle=True, generator=0)
    assert _rows(loader) != list(range(N))
    assert calls == [(4,), (4,), (2,)]


def test_shuffle_visits_every_row_once_per_epoch_in_a_new_order():
    loader = DataLoader(_dataset(), batch_size=3, shuffle=True, generator=0)
    epochs = [_rows(loader) for _ in range(3)]
    assert all(sorted(e) == list(range(N)) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3


def test_same_seed_same_batch_order():
    def orders(**kwargs):
        loader = DataLoader(_dataset(), batch_size=3, shuffle=True, **kwargs)
        return [_rows(loader) for _ in range(2)]

    assert orders(generator=4) == orders(generator=4)
    assert orders(generator=np.random.default_rng(4)) == orders(generator=4)
    assert orders(generator=4) != orders(generator=5)
    nablab.manual_seed(4)
    first = orders()
    nablab.manual_seed(4)
    assert orders() == first
    assert orders() != first  # the library stream moved on


def test_manual_seed_after_building_the_loader_counts():
    loader = DataLoader(_dataset(), batch_size=N, shuffle=True)
    nablab.manual_seed(1)
    first = _rows(loader)
    nablab.manual_seed(1)
    assert _rows(loader) == first


# ----- synthetic sets -----------------------------------------------------------------------


def test_xor():
    X, y = xor()
    np.testing.assert_array_equal(X.array, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y.array, [[0], [1], [1], [0]])
    assert X.dtype == y.dtype == np.float32


def test_moons_equal_sklearn():
    from sklearn.datasets import make_moons

    X, y = moons(1000, noise=0.5, seed=3, dtype=nablab.float64)
    ref_X, ref_y = make_moons(n_samples=1000, shuffle=True, noise=0.5, random_state=3)
    np.testing.assert_array_equal(X.array, ref_X)
    np.testing.assert_array_equal(y.array, ref_y[:, None])
    X32, y32 = moons(1000, noise=0.5, seed=3)
    assert X32.dtype == y32.dtype == np.float32 and y32.shape == (1000, 1)
    np.testing.assert_array_equal(X32.array, ref_X.astype(np.float32))
    assert not np.array_equal(moons(1000, seed=4)[0].array, X32.array)


def test_circles_equal_sklearn():
    from sklearn.datasets import make_circles

    X, y = circles(300, noise=0.1, factor=0.5, seed=2, dtype=nablab.float64)
    ref_X, ref_y = make_circles(n_samples=300, noise=0.1, factor=0.5, random_state=2)
    np.testing.assert_array_equal(X.array, ref_X)
    np.testing.assert_array_equal(y.array, ref_y[:, None])


def test_spirals():
    X, y = spirals(n_per_class=50, classes=4, noise=0.0, seed=0)
    assert X.shape == (200, 2) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y.array, np.repeat(np.arange(4), 50))
    radius = np.hypot(X.array[:, 0], X.array[:, 1])
    np.testing.assert_allclose(radius, np.tile(np.linspace(0, 1, 50), 4), atol=1e-6)
    t = 4 * 2 + 4 * 10 / 49  # class 2, 11th point, no noise: angle 8 + 4·10/49
    np.testing.assert_allclose(X.array[110], [10 / 49 * math.sin(t), 10 / 49 * math.cos(t)], 1e-5)
    noisy = spirals(seed=1)[0].array
    np.testing.assert_array_equal(noisy, spirals(seed=1)[0].array)
    assert not np.array_equal(noisy, spirals(seed=2)[0].array)


def test_polynomial_classic():
    data = polynomial(seed=0, dtype=nablab.float64)
    assert data.X_train.shape == (100, 3) and data.y_test.shape == (100, 1)
    x = data.X_train.array[:, 0]
    np.testing.assert_allclose(data.X_train.array, np.stack([x, x**2, x**3], 1))
    np.testing.assert_array_equal(data.true_w.array, [1.2, -3.4, 5.6])
    assert data.true_b == 5.0
    X = np.concatenate([data.X_train.array, data.X_test.array])
    y = np.concatenate([data.y_train.array, data.y_test.array])[:, 0]
    residual = y - (5 + 1.2 * X[:, 0] - 3.4 * X[:, 1] + 5.6 * X[:, 2])
    assert 0.007 < residual.std() < 0.013  # ε ~ N(0, 0.01²)
    assert polynomial(seed=0).X_train.dtype == np.float32


def test_polynomial_current_edition():
    data = polynomial(n_train=50, n_test=60, edition="current", seed=1, dtype=nablab.float64)
    assert data.X_train.shape == (50, 20) and data.X_test.shape == (60, 20)
    x = data.X_train.array[:, 1]
    np.testing.assert_array_equal(data.X_train.array[:, 0], np.ones(50))
    np.testing.assert_allclose(data.X_train.array[:, 3], x**3 / 6)
    residual = data.y_train.array - data.X_train.array @ data.true_w.array[:, None]
    assert 0.05 < residual.std() < 0.15  # ε ~ N(0, 0.1²)
    with pytest.raises(ValueError, match="edition must be 'classic' or 'current'"):
        polynomial(edition="third")


def test_linear_high_dim():
    data = linear_high_dim(seed=0, dtype=nablab.float64)
    assert data.X_train.shape == (20, 200) and data.X_test.shape == (100, 200)
    assert data.y_train.shape == (20, 1) and data.true_w.shape == (200, 1)
    np.testing.assert_array_equal(data.true_w.array, np.full((200, 1), 0.01))
    residual = data.y_test.array - (data.X_test.array @ data.true_w.array + 0.05)
    assert 0.007 < residual.std() < 0.013


def test_split_in_order():
    X, y = moons(1000, seed=0)
    parts = split(X, y, (640, 160, 200))
    assert [len(a) for a, _ in parts] == [640, 160, 200]
    np.testing.assert_array_equal(np.concatenate([a.array for a, _ in parts]), X.array)
    np.testing.assert_array_equal(parts[2][1].array, y.array[800:])
    with pytest.raises(ValueError, match=r"sizes \(600, 100\) must be non-negative and add up"):
        split(X, y, (600, 100))
    with pytest.raises(ValueError, match="X has 1000 samples but y has 999"):
        split(X, y[:999], (1000,))


def test_the_core_does_not_import_sklearn():
    code = (
        "import sys, nablab, nablab.data, nablab.optim, nablab.io; "
        "nablab.data.xor(); nablab.data.spirals(); nablab.data.polynomial(); "
        "sys.exit('sklearn' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("wrap", [nablab.tensor, np.asarray], ids=["tensor", "ndarray"])
def test_ragged_samples_name_their_shapes(wrap):
    samples = [(wrap(np.zeros((2, 3))), 0), (wrap(np.zeros((2, 3))), 1), (wrap(np.zeros(4)), 2)]
    with pytest.raises(ValueError) as error:
        list(DataLoader(samples, batch_size=3))
    assert str(error.value) == (
        "default_collate: samples of different shapes cannot be stacked into a batch: "
        "sample 0 has shape (2, 3), sample 2 has shape (4,); pad them to one shape or pass a "
        "collate_fn"
    )
