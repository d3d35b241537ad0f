"""The playground's data: seven generated sets and an uploaded CSV, the train/test split and
the input features.

Each function here is self-contained (numpy and nablab.data only) because the exported
script copies its source (``inspect.getsource``): the page and the script draw the same
points from the same seed. A generator returns X (n, 2) float64 and y (n,): class indices
(int) for classification, values (float) for regression.
"""

from __future__ import annotations

import numpy as np

from nablab import data

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION = ("plane", "bumps")
MULTI_CLASS = ("gauss", "spiral")  # the sets that can have more than 2 classes
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")


def circle(n, noise, classes, seed):
    """scikit-learn's make_circles: class 1 inside (radius 0.5), class 0 outside (radius 1)."""
    X, y = data.circles(n, noise=noise, factor=0.5, seed=seed)
    return X.numpy().astype(np.float64), y.numpy().ravel().astype(np.int64)


def moons(n, noise, classes, seed):
    """scikit-learn's make_moons: two interleaving half circles."""
    X, y = data.moons(n, noise=noise, seed=seed)
    return X.numpy().astype(np.float64), y.numpy().ravel().astype(np.int64)


def spiral(n, noise, classes, seed):
    """CS231n's spiral: `classes` interleaved arms of n // classes points each."""
    X, y = data.spirals(n // classes, classes=classes, noise=noise, seed=seed)
    return X.numpy().astype(np.float64), y.numpy().astype(np.int64)


def xor(n, noise, classes, seed):
    """Points uniform in [−1, 1]², class 1 where x₁·x₂ > 0, then N(0, noise²) added."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * rng.standard_normal((n, 2)), y


def gauss(n, noise, classes, seed):
    """`classes` Gaussian blobs (std 0.15 + noise) centred on a circle of radius 0.6."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    angle = 2 * np.pi * y / classes + np.pi / 4
    centres = 0.6 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centres + (0.15 + noise) * rng.standard_normal((n, 2)), y.astype(np.int64)


def plane(n, noise, classes, seed):
    """Regression: y = (x₁ + x₂) / 2 + N(0, noise²), x uniform in [−1, 1]²."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    return X, (X[:, 0] + X[:, 1]) / 2 + noise * rng.standard_normal(n)


def bumps(n, noise, classes, seed):
    """Regression: a positive and a negative Gaussian bump, + N(0, noise²)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    up = np.exp(-((X - [0.4, 0.4]) ** 2).sum(axis=1) / 0.1)
    down = np.exp(-((X + [0.4, 0.4]) ** 2).sum(axis=1) / 0.1)
    return X, up - down + noise * rng.standard_normal(n)


GENERATORS = {f.__name__: f for f in (circle, xor, gauss, spiral, moons, plane, bumps)}


def split(X, y, train_percent, seed):
    """A seeded shuffle, then the first train_percent % of the points to train, the rest to test."""
    order = np.random.default_rng(seed).permutation(len(X))
    n_train = max(1, min(len(X) - 1, round(len(X) * train_percent / 100)))
    train, test = order[:n_train], order[n_train:]
    return (X[train], y[train]), (X[test], y[test])


def features(X, names):
    """The input columns named in `names`, computed from the points X = (x₁, x₂)."""
    x1, x2 = X[:, 0], X[:, 1]
    columns = {"x1": x1, "x2": x2, "x1sq": x1 * x1, "x2sq": x2 * x2, "x1x2": x1 * x2,
               "sinx1": np.sin(x1), "sinx2": np.sin(x2)}  # fmt: skip
    return np.stack([columns[name] for name in names], axis=1).astype(np.float32)


class UploadError(ValueError):
    """A CSV that cannot be used: the message names the row and what was expected."""


def parse_csv(text: str, max_rows: int, max_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``x1,x2,label`` (an optional header line, which is skipped when its fields are not
    numbers); label a class index 0 … max_classes − 1. Returns X (n, 2) and y (n,) int."""
    lines = [line.strip() for line in text.splitlines()]
    rows = [(i + 1, line) for i, line in enumerate(lines) if line]
    if rows and not _is_number(rows[0][1].split(",")[0]):
        rows = rows[1:]
    if len(rows) < 4:
        raise UploadError(f"the CSV needs at least 4 rows of x1,x2,label; it has {len(rows)}")
    if len(rows) > max_rows:
        raise UploadError(f"the CSV has {len(rows)} rows; the limit is {max_rows}")
    X, y = np.empty((len(rows), 2)), np.empty(len(rows), dtype=np.int64)
    for k, (number, line) in enumerate(rows):
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 3:
            raise UploadError(f"row {number}: expected 3 fields x1,x2,label, got {len(fields)}")
        try:
            X[k] = float(fields[0]), float(fields[1])
        except ValueError:
            raise UploadError(f"row {number}: x1 and x2 must be numbers, got {line!r}") from None
        if not np.all(np.isfinite(X[k])) or np.abs(X[k]).max() > 1e6:
            raise UploadError(f"row {number}: x1 and x2 must be finite and within ±1e6")
        label = fields[2]
        if not label.isdigit() or int(label) >= max_classes:
            raise UploadError(
                f"row {number}: the label must be a class index 0 to {max_classes - 1}, "
                f"got {label!r}"
            )
        y[k] = int(label)
    if len(np.unique(y)) < 2:
        raise UploadError("the CSV has one class only; a classifier needs at least 2")
    return X, y


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
