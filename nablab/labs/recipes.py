"""The books' recipes, in one place: the data sets, models and initialisations the labs share,
and the NNDL book's two training procedures (Qiu Xipeng, *Neural Networks and Deep
Learning*, the book that seeds/000 and seeds/002 work through).

Not a lab (nothing here is registered). Used by moons-mlp, vanishing-mlp, dead-relu,
zero-init (Moon1000, the book's MLPs, full-batch gradient descent), regularization and
bias-penalty (MLP_3L trained for many seeds at once), and the labs on moons(300).

Data
    nndl_split(X, y)       the book's split in order: 640 train / 160 dev / 200 test
    moon1000(seed)         make_moons(1000, noise=0.5), split as above
    moons300(seed)         make_moons(300, noise=0.5): first 200 train, last 100 test
    moons_per_seed(seeds)  moons300 for each seed, stacked (S, N, ·)
Models (nn.Sequential with the book's layer names fc1, act1, ...)
    mlp_l2(hidden)         Model_MLP_L2: fc1(2→h) → σ → fc2(h→1) → σ
    mlp_l5(act)            Model_MLP_L5: fc1(2→3) … fc4(3→3) with `act`, fc5(3→1) → σ
    init_linears(model, weight, bias)  the book's initialisations, in place
    mlp_3l(seeds)          MLP_3L [2, 20, 3, 1] with ReLU, one independent copy per seed
Training and scoring
    accuracy, evaluate     output > threshold against the labels; (accuracy, BCE) in eval mode
    predictor(model)       the class of each point of a grid, for viz.decision_boundary
    train_full_batch(...)  the book's RunnerV2: one gradient step on all training points
                           per epoch, optional dev evaluation and best-dev model kept
    train_mlp_3l(...)      the book's train_model (seeds/002) for every seed at once
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .. import activations, data, nn, optim
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..creation import tensor
from ..dtypes import get_default_dtype
from ..nn.functional import binary_cross_entropy_with_logits as bce_with_logits
from . import training
from .base import spread
from .runner import Context

NNDL_SPLIT = (640, 160, 200)


def mean_spread(values) -> str:
    """A cell for accuracies over seeds: mean (min–max), three decimals."""
    return spread(values, center=np.mean, fmt=".3f")


def nndl_split(X, y):
    """[(X_train, y_train), (X_dev, y_dev), (X_test, y_test)]: the first 640, next 160, last 200."""
    return data.split(X, y, NNDL_SPLIT)


def moon1000(seed=0):
    """NNDL's Moon1000: `make_moons(1000, shuffle=True, noise=0.5)` (scikit-learn, random_state
    = seed), split 640/160/200 in order; labels are a float column (N, 1)."""
    return nndl_split(*data.moons(1000, noise=0.5, seed=seed))


def moons300(seed=0, noise=0.5):
    """seeds/002's data: `make_moons(300, shuffle=True, noise)` (random_state = seed; a lab
    passes its data stream), the first 200 points to train and the last 100 to test:
    [(X_train, y_train), (X_test, y_test)]."""
    return data.split(*data.moons(300, noise=noise, seed=seed), (200, 100))


# ----- models -------------------------------------------------------------------------------


ACTIVATION_NAMES = activations.NAMES  # the catalogue's: nablab.activations


def activation(name, negative_slope=0.01):
    """The activation ``name`` as a function of a Tensor (leaky_relu with ``negative_slope``)."""
    return activations.get(name).bind(negative_slope=negative_slope)


def activation_module(name, negative_slope=0.01) -> nn.Module:
    """The activation ``name`` as an nn.Module (LeakyReLU with ``negative_slope``)."""
    entry = activations.get(name)
    return getattr(nn, entry.module)(**entry.take(negative_slope=negative_slope))


def mlp_l2(hidden=5):
    """Model_MLP_L2 (NNDL §4.2–4.3): fc1 Linear(2, hidden) → σ → fc2 Linear(hidden, 1) → σ.

    Layers come with PyTorch's default init; the labs set the book's with `init_linears`.
    """
    return nn.Sequential(
        OrderedDict(fc1=nn.Linear(2, hidden), act1=nn.Sigmoid(), fc2=nn.Linear(hidden, 1),
                    act2=nn.Sigmoid())
    )  # fmt: skip


def mlp_l5(act="sigmoid", negative_slope=0.01):
    """Model_MLP_L5 (NNDL §4.4.2): fc1(2→3), fc2…fc4(3→3) each followed by `act`
    ('sigmoid' | 'relu' | 'leaky_relu' with `negative_slope`), fc5(3→1) followed by σ."""
    layers = OrderedDict()
    sizes = [2, 3, 3, 3, 3, 1]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        layers[f"fc{i}"] = nn.Linear(n_in, n_out)
        layers[f"act{i}"] = nn.Sigmoid() if i == 5 else activation_module(act, negative_slope)
    return nn.Sequential(layers)


def init_linears(model, weight, bias=0.0, generator=None):
    """Re-initialise every nn.Linear of `model` in place, in layer order; returns the model.

    weight: ("normal", std) draws W ~ N(0, std²); ("constant", c) sets W = c;
    "kaiming" draws He's W ~ N(0, 2 / fan_in) (kaiming_normal_, ReLU gain). Every bias = `bias`.
    """
    for module in model.modules():
        if not isinstance(module, nn.Linear):
            continue
        if weight == "kaiming":
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
        elif isinstance(weight, tuple) and weight[0] == "normal":
            nn.init.normal_(module.weight, 0.0, weight[1], generator=generator)
        elif isinstance(weight, tuple) and weight[0] == "constant":
            nn.init.constant_(module.weight, weight[1])
        else:
            raise ValueError(
                f"weight must be ('normal', std), ('constant', c) or 'kaiming', got {weight!r}"
            )
        nn.init.constant_(module.bias, bias)
    return model


def linear_layers(model):
    """{name: nn.Linear} of `model`, in order (fc1, fc2, ...)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}


# ----- full-batch training (the book's RunnerV2) ---------------------------------------------


def accuracy(probabilities, y, threshold=0.5):
    """Fraction of rows whose prediction (output > threshold) equals the label; a float for
    (N, 1) outputs, one per seed (an array) for (S, N, 1) outputs."""
    out = probabilities.array if isinstance(probabilities, Tensor) else probabilities
    labels = y.array if isinstance(y, Tensor) else y
    hits = (out > threshold) == (labels > 0.5)
    return hits.mean(axis=(-2, -1))


def predictor(model, threshold=0.5, seed_index=None):
    """grid (G, 2) array → class labels (output > threshold), for nablab.viz.decision_boundary.

    A seed-batched model (mlp_3l) maps the grid for every seed at once; `seed_index` picks one.
    """
    return lambda grid: _eval_output(model, grid, seed_index) > threshold


def probability(model, logits: bool, seed_index=None):
    """grid (G, 2) array → P(y = 1), for nablab.viz.decision_boundary's shading: σ(output) of
    a model that ends in logits, the output itself of one that ends in a sigmoid."""

    def predict(grid):
        out = _eval_output(model, grid, seed_index).astype(np.float64)
        return 1 / (1 + np.exp(-np.clip(out, -60, 60))) if logits else np.clip(out, 0, 1)

    return predict


def _eval_output(model, grid, seed_index):
    """The model's first output on the grid in eval mode (one seed's, for a seed-batched one)."""
    dtype = next(iter(model.parameters())).dtype
    was_training = model.training
    model.eval()
    out = model(tensor(grid, dtype=dtype)).array
    model.train(was_training)
    out = out if seed_index is None else out[seed_index]
    return out[:, 0]


def evaluate(model, X, y, loss_fn=None):
    """(accuracy, loss) of `model` on (X, y) in eval mode, without recording a graph."""
    loss_fn = loss_fn or nn.BCELoss()
    was_training = model.training
    model.eval()
    with no_grad():
        out = model(X)
        result = float(accuracy(out, y)), float(loss_fn(out, y).item())
    model.train(was_training)
    return result


@dataclass
class History:
    """What `train_full_batch` saw: the training loss of each epoch (before its step), dev
    accuracy after each step (when a dev set was given) and the epoch of the best dev score."""

    losses: list = field(default_factory=list)
    dev_accuracy: list = field(default_factory=list)
    best_epoch: int | None = None


def train_full_batch(
    model,
    train,
    epochs,
    lr,
    ctx,
    dev=None,
    keep_best=False,
    on_backward=None,
    description="training",
):
    """NNDL's RunnerV2: each epoch is one step of gradient descent (SGD lr) on the BCE loss
    of all training points. `on_backward(epoch, model)` runs after backward, before the step
    (where the book prints gradients). With `dev`, dev accuracy is measured after each step;
    `keep_best` loads the weights of the best one (strictly better than all before, as the
    book's runner saves them) back into the model at the end."""
    X, y = train
    loss_fn = nn.BCELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    history, best, best_state = History(), -1.0, None

    def step(epoch):
        nonlocal best, best_state
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        if on_backward is not None:
            on_backward(epoch, model)
        optimizer.step()
        history.losses.append(loss.item())
        if dev is not None:
            dev_acc, _ = evaluate(model, *dev)
            history.dev_accuracy.append(dev_acc)
            if keep_best and dev_acc > best:
                best, history.best_epoch = dev_acc, epoch
                best_state = copy.deepcopy(model.state_dict())
        return loss

    training.train(step, epochs, ctx, description, stop_when_not_finite=False)
    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
    return history


# ----- MLP_3L for many seeds at once (seeds/002) --------------------------------------------


class SeedBatchedLinear(nn.Module):
    """S independent affine layers in one: Z_s = X_s W_s + b_s for s = 1…S.

    weight (S, in, out) and bias (S, 1, out); X (S, N, in) → Z (S, N, out) by one batched
    matmul. Copy s draws W ~ N(0, 1) from its own generator (b = 0), so it does not depend on
    which other seeds share the batch. The parameter names end in
    `weight` and `bias`, so nn.l2_penalty tells them apart.
    """

    def __init__(self, in_features, out_features, generators):
        super().__init__()
        dtype = get_default_dtype()
        draws = [g.standard_normal((in_features, out_features)) for g in generators]
        self.weight = nn.Parameter(np.stack(draws).astype(dtype))
        self.bias = nn.Parameter(np.zeros((len(generators), 1, out_features), dtype))

    def forward(self, input):
        return input @ self.weight + self.bias


def mlp_3l(seeds, sizes=(2, 20, 3, 1), dropout=0.0):
    """MLP_3L (seeds/002): fc1 → ReLU → fc2 → ReLU → fc3 (logits), weights N(0, 1), biases 0,
    one copy per seed (SeedBatchedLinear; copy s draws from its model stream, the runner's
    convention `Context.streams(s)[1]`); with
    `dropout` > 0, inverted dropout of that probability after each ReLU (a fresh mask every
    forward, none in eval mode), its masks drawn from a generator seeded with the seeds."""
    model_seeds = [Context.streams(s)[1] for s in seeds]
    generators = [np.random.default_rng(s) for s in model_seeds]
    layers = OrderedDict()
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        layers[f"fc{i}"] = SeedBatchedLinear(n_in, n_out, generators)
        if i < len(sizes) - 1:
            layers[f"act{i}"] = nn.ReLU()
            if dropout > 0:
                layers[f"drop{i}"] = nn.Dropout(
                    dropout, generator=np.random.default_rng([*model_seeds, i])
                )
    return nn.Sequential(layers)


@dataclass
class SeedBatch:
    """One data set per seed, stacked: X_train (S, n_train, 2), y_train (S, n_train, 1), ..."""

    seeds: list
    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    y_test: Tensor


def moons_per_seed(seeds, n_samples=300, n_train=200, noise=0.5):
    """seeds/002's data for each seed: make_moons(n_samples, noise) with random_state = the
    seed's data stream (`Context.streams(s)[0]`), the first n_train points to train, the rest
    to test."""
    sets = [data.moons(n_samples, noise=noise, seed=Context.streams(s)[0]) for s in seeds]
    X = np.stack([X.array for X, _ in sets])
    y = np.stack([y.array for _, y in sets])
    return SeedBatch(
        list(seeds),
        tensor(X[:, :n_train]),
        tensor(y[:, :n_train]),
        tensor(X[:, n_train:]),
        tensor(y[:, n_train:]),
    )


@dataclass
class SeedRun:
    """Per seed: train and test accuracy of the final model, BCE curve (every `record_every`)."""

    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    losses: np.ndarray
    record_every: int

    @property
    def gap(self):
        return self.train_accuracy - self.test_accuracy


def train_mlp_3l(
    model,
    batch: SeedBatch,
    iterations,
    ctx,
    lr=0.2,
    l2=0.0,
    include_bias=False,
    weight_decay=0.0,
    record_every=100,
    description="training",
):
    """seeds/002's train_model for every seed at once: full-batch gradient descent on
    R_s = BCEWithLogits_s + λ/(2N)·Ω_s for each seed s (N = n_train, Ω = nn.l2_penalty: Σ W²,
    plus Σ b² with `include_bias`), with the book's BatchGD weight decay
    θ ← (1 − β)θ − lr·g (SGD decoupled=True, on weights and biases).

    The seeds' objectives are summed (Σ_s BCE_s = Σ_{s,n} ℓ_sn / N, one fused op): each copy's
    parameters get exactly its own gradient.
    Accuracy: logits > 0, in eval mode (no dropout). `losses` has shape (T, S): the BCE of
    each seed at iterations 0, record_every, 2·record_every, ...
    """
    n = batch.X_train.shape[1]
    optimizer = optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay, decoupled=True)
    model.train()
    last = {}

    def step(it):
        logits = last["logits"] = model(batch.X_train)
        loss = bce_with_logits(logits, batch.y_train, reduction="sum") / n
        if l2:
            loss = loss + l2 / (2 * n) * nn.l2_penalty(model, include_bias=include_bias)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    def per_seed_bce(it, loss):
        with no_grad():
            per_seed = bce_with_logits(last["logits"].detach(), batch.y_train, reduction="none")
        return per_seed.array.mean(axis=(1, 2))

    history = training.train(
        step, iterations, ctx, description, every=record_every, record=per_seed_bce
    )
    model.eval()
    with no_grad():
        train_acc = accuracy(model(batch.X_train), batch.y_train, threshold=0.0)
        test_acc = accuracy(model(batch.X_test), batch.y_test, threshold=0.0)
    return SeedRun(train_acc, test_acc, history.array(), record_every)
