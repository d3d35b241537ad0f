"""Synthetic data sets of the labs (LABS.md), as Tensors, each repeatable from its seed.

Classification (X of shape (N, 2), the default float dtype unless `dtype` is given):
    xor()        the 4 XOR points; y (4, 1) float: 0, 1, 1, 0
    moons(...)   scikit-learn's make_moons; y (N, 1) float in {0, 1} (a column, for BCE)
    circles(...) scikit-learn's make_circles; y (N, 1) float in {0, 1}
    spirals(...) CS231n's K interleaved spiral arms; y (N,) int64 class indices

Regression (d2l, seeds/004), a `Regression(X_train, y_train, X_test, y_test, true_w,
true_b)` with y of shape (n, 1):
    polynomial(...)       y = 5 + 1.2x − 3.4x² + 5.6x³ + ε (two editions of d2l)
    linear_high_dim(...)  y = 0.05 + Σᵢ 0.01·xᵢ + ε over 200 inputs

`split(X, y, sizes)` cuts a data set into consecutive parts (NNDL's 640/160/200).
scikit-learn is imported only inside `moons` and `circles`.
"""

import math
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..autograd.tensor import Tensor
from ..creation import from_numpy


class Regression(NamedTuple):
    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    y_test: Tensor
    true_w: Tensor
    true_b: float


DATA_STREAM = 0x64617461  # "data": data sets draw from their own stream of a seed


def _rng(seed):
    """A generator for data drawn from `seed` that never equals the model's stream.

    `manual_seed(s)` seeds the library generator with `s`; were the data drawn from
    `default_rng(s)` too, the same numbers would fill X and the initial weights.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DATA_STREAM,)))


def _float(array, dtype):
    return from_numpy(np.asarray(array, dtype=dtype or dtypes.get_default_dtype()))


def xor(dtype=None):
    """X = [[0,0], [0,1], [1,0], [1,1]], y = [[0], [1], [1], [0]]."""
    X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    return _float(X, dtype), _float([[0], [1], [1], [0]], dtype)


def moons(n_samples=1000, noise=0.5, seed=0, shuffle=True, dtype=None):
    """Two interleaving half circles: `sklearn.datasets.make_moons(..., random_state=seed)`.

    NNDL's Moon1000 is `moons(1000, noise=0.5)`; the regularization lab's set is
    `moons(300, noise=0.5)`.
    """
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, shuffle=shuffle, noise=noise, random_state=seed)
    return _float(X, dtype), _float(y[:, None], dtype)


def circles(n_samples=1000, noise=0.1, factor=0.5, seed=0, shuffle=True, dtype=None):
    """A small circle (label 1, radius `factor`) inside a large one (label 0, radius 1).

    `sklearn.datasets.make_circles(..., random_state=seed)`; the zero-init lab uses
    `circles(1000, noise=0.1, factor=0.5)`.
    """
    from sklearn.datasets import make_circles

    X, y = make_circles(
        n_samples=n_samples, shuffle=shuffle, noise=noise, random_state=seed, factor=factor
    )
    return _float(X, dtype), _float(y[:, None], dtype)


def spirals(n_per_class=100, classes=3, noise=0.2, seed=0, dtype=None):
    """CS231n's spiral data: arm j has radius r ∈ linspace(0, 1) and angle
    θ ∈ linspace(4j, 4(j+1)) + N(0, noise²); the point is (r·sin θ, r·cos θ).

    Points are ordered by class (arm 0 first); y holds the arm index (int64).
    """
    rng = _rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), classes)
    starts = 4.0 * np.arange(classes)[:, None]
    theta = np.linspace(starts, starts + 4.0, n_per_class, axis=1).ravel()
    theta = theta + noise * rng.standard_normal(classes * n_per_class)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    y = np.repeat(np.arange(classes, dtype=np.int64), n_per_class)
    return _float(X, dtype), from_numpy(y)


def polynomial(
    n_train=100, n_test=100, edition="classic", max_degree=20, noise=None, seed=0, dtype=None
):
    """d2l's polynomial regression data, x ~ N(0, 1), labels y of shape (n, 1).

    - edition="classic" (default; d2l 1st edition, seeds/004):
      y = 5 + 1.2x − 3.4x² + 5.6x³ + ε, ε ~ N(0, 0.01²); features (x, x², x³);
      true_w = [1.2, −3.4, 5.6], true_b = 5.
    - edition="current" (d2l 2nd edition): features xⁱ/i! for i = 0 … max_degree−1
      (column 0 is the constant 1), true_w = [5, 1.2, −3.4, 5.6, 0, …] on those
      features, y = features @ true_w + ε, ε ~ N(0, 0.1²); true_b = 0 (the bias is w₀).

    In both editions the first k feature columns are the k-feature fit (classic: k = 1
    is the "x only" under-fitting model). `noise` overrides the edition's std of ε.
    """
    if edition not in ("classic", "current"):
        raise ValueError(f"polynomial: edition must be 'classic' or 'current', got {edition!r}")
    rng = _rng(seed)
    x = rng.standard_normal((n_train + n_test, 1))
    if edition == "classic":
        true_w, true_b, default_noise = np.array([1.2, -3.4, 5.6]), 5.0, 0.01
        features = x ** np.arange(1, 4)
    else:
        true_w, true_b, default_noise = np.zeros(max_degree), 0.0, 0.1
        true_w[:4] = [5.0, 1.2, -3.4, 5.6]
        features = x ** np.arange(max_degree) / [math.factorial(i) for i in range(max_degree)]
    sigma = default_noise if noise is None else noise
    y = features @ true_w[:, None] + true_b + sigma * rng.standard_normal((n_train + n_test, 1))
    return _regression(features, y, n_train, true_w, true_b, dtype)


def linear_high_dim(n_train=20, n_test=100, num_inputs=200, noise=0.01, seed=0, dtype=None):
    """d2l's weight-decay data: x ~ N(0, I), y = 0.05 + Σᵢ 0.01·xᵢ + ε, ε ~ N(0, noise²).

    Few samples (20) and many inputs (200): a linear model over-fits without decay.
    true_w has shape (num_inputs, 1), all 0.01; true_b = 0.05.
    """
    rng = _rng(seed)
    true_w, true_b = np.full((num_inputs, 1), 0.01), 0.05
    X = rng.standard_normal((n_train + n_test, num_inputs))
    y = X @ true_w + true_b + noise * rng.standard_normal((n_train + n_test, 1))
    return _regression(X, y, n_train, true_w, true_b, dtype)


def _regression(X, y, n_train, true_w, true_b, dtype):
    return Regression(
        _float(X[:n_train], dtype),
        _float(y[:n_train], dtype),
        _float(X[n_train:], dtype),
        _float(y[n_train:], dtype),
        _float(true_w, dtype),
        true_b,
    )


def split(X, y, sizes):
    """Consecutive parts [(X₀, y₀), (X₁, y₁), ...] of sizes `sizes`, in order (no shuffle).

    `split(X, y, (640, 160, 200))` is NNDL's train/dev/test split of Moon1000. The sizes
    must add up to len(X).
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"split: X has {n} samples but y has {len(y)}")
    if any(not isinstance(s, (int, np.integer)) or s < 0 for s in sizes) or sum(sizes) != n:
        raise ValueError(f"split: sizes {tuple(sizes)} must be non-negative and add up to {n}")
    bounds = [0, *np.cumsum(sizes).tolist()]
    return [(X[a:b], y[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
