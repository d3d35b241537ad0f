"""A labelled set of small training runs for the Monitor: each problem run has the findings it
must raise (``expected``) and the ones it may raise as true consequences (``allowed``, e.g.
NaN after exploding gradients); a healthy control must raise none.

``RUNS[name].train(make_monitor)`` trains with ``make_monitor(model)`` watching (NullMonitor
for the baseline timing) and returns it. The tests at the end check every run;
benchmarks/bench_monitor.py prints recall, precision, false alarms and overhead over them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pytest

import nablab
from nablab import nn, optim
from nablab.data import circles, moons, spirals
from nablab.diagnostics import Monitor
from nablab.diagnostics.findings import SEVERITIES


@dataclass
class Run:
    name: str
    train: object  # make_monitor -> monitor
    expected: set = field(default_factory=set)
    allowed: set = field(default_factory=set)

    @property
    def healthy(self) -> bool:
        return not self.expected


class NullMonitor:
    """The Monitor's interface doing nothing: the baseline of the overhead measurement."""

    def __init__(self, model):
        pass

    def check_finite(self, loss):
        return bool(np.all(np.isfinite(loss.array)))

    def step(self):
        pass

    def record_metrics(self, train, test, higher_is_better=False):
        pass

    def findings(self):
        return []


RUNS: dict[str, Run] = {}


def run(*expected, allowed=()):
    def register(fn):
        RUNS[fn.__name__] = Run(fn.__name__, fn, set(expected), set(allowed))
        return fn

    return register


# ----- data, models and the loop ---------------------------------------------------------
def moon_data(n=400, n_train=300, noise=0.2, seed=1, scale=1.0):
    X, y = moons(n, noise=noise, seed=seed)
    X = (X.array - X.array[:n_train].mean(0)) / X.array[:n_train].std(0) * scale
    X, y = nablab.tensor(X.astype(np.float32)), nablab.tensor(y.array)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def spiral_data(seed=0):
    X, y = spirals(100, classes=3, noise=0.2, seed=seed)
    order = np.random.default_rng(seed).permutation(len(y.array))
    X, y = nablab.tensor(X.array[order]), nablab.tensor(y.array[order])
    return X[:240], y[:240], X[240:], y[240:]


def mlp(sizes, act=nn.ReLU, init="kaiming", std=None, bias=0.0, seed=0, out=None):
    gen = np.random.default_rng(seed)
    layers = OrderedDict()
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        fc = layers[f"fc{i}"] = nn.Linear(a, b)
        if std is not None:
            nn.init.normal_(fc.weight, 0.0, std, generator=gen)
        elif init == "kaiming":
            nn.init.kaiming_normal_(fc.weight, nonlinearity="relu", generator=gen)
        else:
            nn.init.xavier_uniform_(fc.weight, generator=gen)
        nn.init.constant_(fc.bias, bias)
        if i < len(sizes) - 1:
            layers[f"act{i}"] = act()
    if out is not None:
        layers["out"] = out
    return nn.Sequential(layers)


def fit(
    model, data, loss_fn, opt, mon, steps, batch=None, zero_grad=True, step_opt=True,
    epoch=None, accuracy=False, seed=0, loss_scale=1.0, clip=None,
):  # fmt: skip
    """The ordinary loop; ``epoch``: record train/test metrics every that many steps."""
    X, y, X_test, y_test = data
    gen = np.random.default_rng(seed)
    for t in range(steps):
        if batch:
            idx = gen.integers(0, len(X), batch)
            xb, yb = X[idx], y[idx]
        else:
            xb, yb = X, y
        loss = loss_fn(model(xb), yb)
        if loss_scale != 1:
            loss = loss * loss_scale
        if not mon.check_finite(loss):
            break
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        mon.step()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        if step_opt:
            opt.step()
        if epoch and (t + 1) % epoch == 0:
            with nablab.no_grad():
                mon.record_metrics(*metric(model, loss_fn, data, accuracy), accuracy)
    return mon


def metric(model, loss_fn, data, accuracy):
    X, y, X_test, y_test = data
    if not accuracy:
        return loss_fn(model(X), y).item(), loss_fn(model(X_test), y_test).item()

    def acc(a, b):
        return float(((model(a).array > 0) == (b.array > 0.5)).mean())

    return acc(X, y), acc(X_test, y_test)


def circle_data(seed=2):
    X, y = circles(400, noise=0.1, seed=seed)
    X, y = nablab.tensor(X.array), nablab.tensor(y.array)
    return X[:300], y[:300], X[300:], y[300:]


def sine_sequences(n=64, length=20, seed=0):
    """Next-value prediction on noisy sines: inputs (length, n, 1), targets the next value."""
    gen = np.random.default_rng(seed)
    phase = gen.uniform(0, 2 * np.pi, (1, n, 1))
    t = np.arange(length + 1)[:, None, None] * 0.3
    s = (np.sin(t + phase) + 0.05 * gen.standard_normal((length + 1, n, 1))).astype(np.float32)
    return nablab.tensor(s[:-1]), nablab.tensor(s[1:])


class SeqModel(nn.Module):
    def __init__(self, cell, hidden=16, seed=0, **kw):
        super().__init__()
        gen = np.random.default_rng(seed)
        self.rnn = cell(1, hidden, generator=gen, **kw)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out)


def fit_sequences(model, mon, steps, lr, opt="adam", clip=None, length=20):
    X, Y = sine_sequences(length=length)
    loss_fn = nn.MSELoss()
    o = (
        optim.Adam(model.parameters(), lr=lr)
        if opt == "adam"
        else optim.SGD(model.parameters(), lr=lr)
    )
    for _ in range(steps):
        loss = loss_fn(model(X), Y)
        if not mon.check_finite(loss):
            break
        o.zero_grad()
        loss.backward()
        mon.step()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        o.step()
    return mon


bce = nn.BCEWithLogitsLoss()


# ----- problem runs ------------------------------------------------------------------------
@run("dead-units", "zero-gradients")
def dead_relu_bias_minus_8(make):
    model = mlp([2, 16, 16, 16, 1], std=0.01, bias=-8.0)
    return fit(model, moon_data(), bce, optim.SGD(model.parameters(), lr=0.1), make(model), 150)


@run("dead-units", allowed={"zero-gradients", "vanishing-gradients"})
def dead_relu_most_units_negative_bias(make):
    model = mlp([2, 32, 32, 1], bias=-1.5, seed=2)
    return fit(model, moon_data(), bce, optim.SGD(model.parameters(), lr=0.1), make(model), 150)


@run("vanishing-gradients")
def vanishing_sigmoid_l5(make):
    model = mlp([2, 3, 3, 3, 3, 1], act=nn.Sigmoid, std=0.01, bias=1.0)
    return fit(model, moon_data(), bce, optim.SGD(model.parameters(), lr=0.1), make(model), 150)


@run("vanishing-gradients", allowed={"saturated-units"})
def vanishing_deep_tanh_small_init(make):
    model = mlp([2, *[32] * 8, 1], act=nn.Tanh, std=0.05)
    return fit(model, moon_data(), bce, optim.SGD(model.parameters(), lr=0.1), make(model), 150)


@run("vanishing-gradients")
def vanishing_everywhere_loss_scaled_down(make):
    model = mlp([2, 16, 16, 1])
    opt = optim.SGD(model.parameters(), lr=0.1)
    return fit(model, moon_data(), bce, opt, make(model), 150, loss_scale=1e-9)


@run("exploding-gradients", allowed={"non-finite", "loss-diverging"})
def exploding_relu_rnn_recurrent_weight(make):
    model = SeqModel(nn.RNN, nonlinearity="relu")
    with nablab.no_grad():
        model.rnn.weight_hh_l0.array[...] = 1.6 * np.eye(16, dtype=np.float32)
    return fit_sequences(model, make(model), 150, lr=0.01, opt="sgd", length=30)


@run("exploding-gradients", allowed={"non-finite", "loss-diverging"})
def exploding_lr_too_large_regression(make):
    gen = np.random.default_rng(0)
    X = nablab.tensor(gen.normal(0, 3, (200, 4)).astype(np.float32))
    y = nablab.tensor((X.array @ np.array([[1.0], [-2.0], [0.5], [3.0]])).astype(np.float32))
    model = mlp([4, 16, 1], seed=1)
    opt = optim.SGD(model.parameters(), lr=0.05)
    return fit(model, (X, y, X, y), nn.MSELoss(), opt, make(model), 150)


@run("loss-diverging", allowed={"exploding-gradients", "non-finite"})
def diverging_linear_regression_lr_just_too_large(make):
    gen = np.random.default_rng(1)
    X = nablab.tensor(gen.normal(0, 1, (256, 3)).astype(np.float32))
    y = nablab.tensor((X.array @ np.array([[2.0], [-1.0], [0.5]]) + 1).astype(np.float32))
    model = nn.Linear(3, 1)
    lam = 2 * np.linalg.eigvalsh(X.array.T @ X.array / len(X.array)).max()
    opt = optim.SGD(model.parameters(), lr=float(2.1 / lam))
    return fit(model, (X, y, X, y), nn.MSELoss(), opt, make(model), 60)


@run("loss-oscillating")
def oscillating_l1_regression_lr_too_large(make):
    gen = np.random.default_rng(1)
    X = nablab.tensor(gen.normal(0, 1, (256, 3)).astype(np.float32))
    y = nablab.tensor((X.array @ np.array([[2.0], [-1.0], [0.5]]) + 1).astype(np.float32))
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=2.0)
    return fit(model, (X, y, X, y), nn.L1Loss(), opt, make(model), 200)


@run()
def healthy_logistic_regression_converging_early(make):
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=5.0)
    return fit(model, moon_data(), bce, opt, make(model), 200)


@run("loss-not-decreasing")
def not_decreasing_lr_far_too_small(make):
    model = mlp([2, 16, 16, 1])
    opt = optim.SGD(model.parameters(), lr=1e-6)
    return fit(model, moon_data(), bce, opt, make(model), 150)


@run("weights-unchanged")
def unchanged_optimizer_step_never_called(make):
    model = mlp([2, 16, 16, 1])
    opt = optim.SGD(model.parameters(), lr=0.1)
    return fit(model, moon_data(), bce, opt, make(model), 100, step_opt=False)


@run("weights-unchanged")
def unchanged_layer_missing_from_optimizer(make):
    model = mlp([2, 16, 16, 1])
    opt = optim.SGD([*model.fc2.parameters(), *model.fc3.parameters()], lr=0.1)
    return fit(model, moon_data(), bce, opt, make(model), 100)


@run("weights-unchanged")
def unchanged_everything_frozen_but_last_bias(make):
    model = mlp([2, 16, 16, 1])
    nn.init.zeros_(model.fc3.weight)  # the output cannot depend on the input
    for name, p in model.named_parameters():
        p.requires_grad_(name == "fc3.bias")
    opt = optim.SGD([model.fc3.bias], lr=0.1)
    return fit(model, moon_data(seed=4), bce, opt, make(model), 100)


@run("zero-grad-forgotten")
def zero_grad_forgotten_sgd(make):
    model = mlp([2, 16, 16, 1])
    opt = optim.SGD(model.parameters(), lr=0.05)
    return fit(model, moon_data(), bce, opt, make(model), 100, zero_grad=False)


@run("zero-grad-forgotten")
def zero_grad_forgotten_adam_minibatch(make):
    model = mlp([2, 32, 1])
    opt = optim.Adam(model.parameters(), lr=0.01)
    return fit(model, moon_data(), bce, opt, make(model), 150, batch=32, zero_grad=False)


@run("probability-into-logits-loss")
def sigmoid_into_bce_with_logits(make):
    model = mlp([2, 16, 1], out=nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.3)
    return fit(model, moon_data(), bce, opt, make(model), 100)


@run("probability-into-logits-loss")
def softmax_into_cross_entropy(make):
    model = mlp([2, 32, 3], out=nn.Softmax(dim=1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    return fit(model, spiral_data(), nn.CrossEntropyLoss(), opt, make(model), 100)


@run("symmetric-units")
def symmetric_zero_init_sigmoid(make):
    model = mlp([2, 8, 1], act=nn.Sigmoid)
    for p in model.parameters():
        nn.init.zeros_(p)
    opt = optim.SGD(model.parameters(), lr=0.5)
    return fit(model, moon_data(), bce, opt, make(model), 100)


@run("symmetric-units")
def symmetric_constant_init_tanh(make):
    model = mlp([2, 8, 8, 1], act=nn.Tanh)
    for p in model.parameters():
        nn.init.constant_(p, 0.3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    return fit(model, moon_data(), bce, opt, make(model), 100)


@run("saturated-units", allowed={"vanishing-gradients"})
def saturated_tanh_raw_inputs(make):
    model = mlp([2, 16, 16, 1], act=nn.Tanh, init="xavier")
    opt = optim.SGD(model.parameters(), lr=0.05)
    return fit(model, moon_data(scale=100.0), bce, opt, make(model), 100)


@run("saturated-units", allowed={"vanishing-gradients"})
def saturated_sigmoid_large_init(make):
    model = mlp([2, 32, 32, 1], act=nn.Sigmoid, std=16.0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    return fit(model, moon_data(), bce, opt, make(model), 100)


@run("non-finite")
def non_finite_log_of_a_saturated_probability(make):
    model = mlp([2, 16, 1], seed=0, out=nn.Sigmoid())

    def hand_bce(p, y):
        return -(y * nablab.log(p) + (1 - y) * nablab.log(1 - p)).mean()

    opt = optim.SGD(model.parameters(), lr=1.0)
    return fit(model, moon_data(scale=10.0), hand_bce, opt, make(model), 150)


@run("over-fitting")
def overfitting_by_loss_small_train_set(make):
    X, y, X_test, y_test = moon_data(n=1000, n_train=30, noise=0.35, seed=5)
    model = mlp([2, 128, 128, 1], seed=1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    return fit(model, (X, y, X_test, y_test), bce, opt, make(model), 400, epoch=10)


@run("over-fitting")
def overfitting_by_accuracy_small_train_set(make):
    X, y, X_test, y_test = moon_data(n=1000, n_train=30, noise=0.45, seed=6)
    model = mlp([2, 128, 128, 1], seed=2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    data = (X, y, X_test, y_test)
    return fit(model, data, bce, opt, make(model), 400, epoch=10, accuracy=True)


# ----- healthy controls --------------------------------------------------------------------
@run()
def healthy_deep_relu_kaiming(make):
    model = mlp([2, 32, 32, 32, 32, 32, 1])
    opt = optim.SGD(model.parameters(), lr=0.05)
    return fit(model, moon_data(), bce, opt, make(model), 200, epoch=20)


@run()
def healthy_minibatch_sgd(make):
    model = mlp([2, 32, 32, 1], seed=1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return fit(model, moon_data(), bce, opt, make(model), 300, batch=32, epoch=30)


@run()
def healthy_dropout(make):
    model = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 64), nn.ReLU(),
        nn.Dropout(0.3), nn.Linear(64, 1),
    )  # fmt: skip
    opt = optim.Adam(model.parameters(), lr=0.01)
    return fit(model, moon_data(), bce, opt, make(model), 200, batch=64, epoch=20)


@run()
def healthy_weight_decay(make):
    model = mlp([2, 32, 32, 1], seed=2)
    opt = optim.SGD(model.parameters(), lr=0.2, weight_decay=1e-3)
    return fit(model, moon_data(), bce, opt, make(model), 200, epoch=20)


@run()
def healthy_rnn(make):
    model = SeqModel(nn.RNN)
    return fit_sequences(model, make(model), 150, lr=0.01)


@run()
def healthy_lstm(make):
    model = SeqModel(nn.LSTM)
    return fit_sequences(model, make(model), 150, lr=0.01)


@run()
def healthy_adam(make):
    model = mlp([2, 64, 64, 1], seed=3)
    opt = optim.Adam(model.parameters(), lr=0.005)
    return fit(model, moon_data(), bce, opt, make(model), 200, epoch=20)


@run()
def healthy_softmax_classifier(make):
    model = mlp([2, 64, 3])
    opt = optim.Adam(model.parameters(), lr=0.01)
    return fit(model, spiral_data(), nn.CrossEntropyLoss(), opt, make(model), 300, epoch=30)


@run()
def healthy_regression_raw_targets(make):
    gen = np.random.default_rng(2)
    X = nablab.tensor(gen.normal(0, 1, (300, 3)).astype(np.float32))
    target = 500 + 120 * X.array[:, :1] - 80 * np.tanh(X.array[:, 1:2]) + gen.normal(0, 5, (300, 1))
    y = nablab.tensor(target.astype(np.float32))
    model = mlp([3, 32, 1], seed=4)
    opt = optim.Adam(model.parameters(), lr=0.5)
    return fit(model, (X[:240], y[:240], X[240:], y[240:]), nn.MSELoss(), opt, make(model), 300)


@run()
def healthy_large_batch_sum_reduction(make):
    data = moon_data(n=3000, n_train=2048)
    model = mlp([2, 32, 32, 1], seed=5)
    opt = optim.SGD(model.parameters(), lr=0.1 / 2048)
    loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    return fit(model, data, loss_fn, opt, make(model), 150)


@run()
def healthy_tanh_xavier(make):
    model = mlp([2, 32, 32, 1], act=nn.Tanh, init="xavier", seed=6)
    opt = optim.SGD(model.parameters(), lr=0.2)
    return fit(model, moon_data(), bce, opt, make(model), 200, epoch=20)


@run()
def healthy_sigmoid_output_with_bce(make):
    model = mlp([2, 32, 1], seed=7, out=nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.5)
    return fit(model, moon_data(), nn.BCELoss(), opt, make(model), 200)


@run()
def healthy_first_layer_frozen(make):
    model = mlp([2, 64, 1], seed=8)
    model.fc1.requires_grad_(False)
    opt = optim.SGD(model.fc2.parameters(), lr=0.3)
    return fit(model, moon_data(), bce, opt, make(model), 200)


@run()
def healthy_gradient_accumulation_on_purpose(make):
    model = mlp([2, 32, 1], seed=9)
    opt = optim.SGD(model.parameters(), lr=0.1)
    mon = make(model)
    X, y, _, _ = moon_data()
    for t in range(200):
        loss = bce(model(X[(t % 4) * 75 : (t % 4 + 1) * 75]), y[(t % 4) * 75 : (t % 4 + 1) * 75])
        mon.check_finite(loss)
        (loss / 4).backward()
        mon.step()
        if t % 4 == 3:
            opt.step()
            opt.zero_grad()
    return mon


@run()
def healthy_zero_grad_in_place(make):
    model = mlp([2, 32, 1], seed=10)
    opt = optim.SGD(model.parameters(), lr=0.3)
    mon = make(model)
    X, y, _, _ = moon_data()
    for _ in range(150):
        loss = bce(model(X), y)
        mon.check_finite(loss)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        mon.step()
        opt.step()
    return mon


@run()
def healthy_converged_linear_regression(make):
    gen = np.random.default_rng(3)
    X = nablab.tensor(gen.normal(0, 1, (200, 3)).astype(np.float32))
    y = nablab.tensor((X.array @ np.array([[1.0], [2.0], [-1.0]]) + 0.5).astype(np.float32))
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.3)
    return fit(model, (X, y, X, y), nn.MSELoss(), opt, make(model), 300)


@run()
def healthy_gru_clipped_sgd(make):
    model = SeqModel(nn.GRU)
    return fit_sequences(model, make(model), 150, lr=0.5, opt="sgd", clip=1.0)


# ----- written after the rules were set and first run unseen (benchmarks/README.md) ------------
@run()
def healthy_tanh_circles(make):
    m = mlp([2, 16, 16, 1], act=nn.Tanh, init="xavier", seed=11)
    return fit(m, circle_data(), bce, optim.SGD(m.parameters(), lr=0.5), make(m), 300, epoch=30)


@run()
def healthy_leaky_spirals_adam(make):
    m = mlp([2, 64, 64, 3], act=nn.LeakyReLU, seed=12)
    return fit(
        m,
        spiral_data(1),
        nn.CrossEntropyLoss(),
        optim.Adam(m.parameters(), lr=0.01),
        make(m),
        300,
        batch=64,
        epoch=30,
    )


@run()
def healthy_lstm_long(make):
    m = SeqModel(nn.LSTM, hidden=24, seed=3)
    return fit_sequences(m, make(m), 120, lr=0.05, length=40)


@run()
def healthy_wide_relu_adam_long(make):
    m = mlp([2, 256, 1], seed=13)
    return fit(
        m, moon_data(seed=7), bce, optim.Adam(m.parameters(), lr=1e-3), make(m), 600, epoch=60
    )


@run()
def healthy_rmsprop_regression(make):
    gen = np.random.default_rng(5)
    X = nablab.tensor(gen.normal(0, 2, (300, 5)).astype(np.float32))
    y = nablab.tensor((np.sin(X.array[:, :1]) * 3 + X.array[:, 1:2]).astype(np.float32))
    m = mlp([5, 32, 32, 1], seed=14)
    return fit(m, (X, y, X, y), nn.MSELoss(), optim.RMSprop(m.parameters(), lr=1e-3), make(m), 300)


@run("dead-units", allowed={"zero-gradients"})
def dead_bias_adam(make):
    m = mlp([2, 32, 32, 1], bias=-5.0, seed=16)
    return fit(m, moon_data(), bce, optim.Adam(m.parameters(), lr=0.01), make(m), 200)


@run("zero-grad-forgotten")
def forgot_zero_grad_momentum(make):
    m = mlp([2, 32, 32, 1], seed=17)
    return fit(
        m,
        moon_data(),
        bce,
        optim.SGD(m.parameters(), lr=0.01, momentum=0.9),
        make(m),
        200,
        batch=32,
        zero_grad=False,
    )


@run("probability-into-logits-loss")
def softmax_ce_two_class(make):
    X, y, Xt, yt = moon_data()
    y2 = nablab.tensor(y.array[:, 0].astype(np.int64))
    yt2 = nablab.tensor(yt.array[:, 0].astype(np.int64))
    m = mlp([2, 32, 2], seed=18, out=nn.Softmax(dim=1))
    return fit(
        m, (X, y2, Xt, yt2), nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.5), make(m), 200
    )


@run("loss-not-decreasing")
def adam_lr_tiny(make):
    m = mlp([2, 32, 1], seed=19)
    return fit(m, moon_data(), bce, optim.Adam(m.parameters(), lr=1e-7), make(m), 200)


@run("vanishing-gradients")
def deep_sigmoid_default_init(make):
    layers = []
    for i in range(10):
        layers += [nn.Linear(2 if i == 0 else 32, 32), nn.Sigmoid()]
    m = nn.Sequential(*layers, nn.Linear(32, 1))
    return fit(m, moon_data(), bce, optim.SGD(m.parameters(), lr=0.1), make(m), 200)


@run("non-finite")
def sqrt_negative(make):
    m = mlp([2, 16, 1], seed=20)
    return fit(
        m,
        moon_data(),
        lambda out, y: nablab.sqrt(out - 3.0).mean(),
        optim.SGD(m.parameters(), lr=0.1),
        make(m),
        50,
    )


@run("weights-unchanged")
def head_replaced_after_optimizer(make):
    m = mlp([2, 16, 16, 1], seed=21)
    opt = optim.SGD(m.parameters(), lr=0.1)
    m.fc3 = nn.Linear(16, 1)
    return fit(m, moon_data(), bce, opt, make(m), 150)


@run("symmetric-units")
def ones_init_relu(make):
    m = mlp([2, 16, 16, 1], seed=22)
    for n, p in m.named_parameters():
        nn.init.constant_(p, 0.5 if n.endswith("weight") else 0.0)
    return fit(m, moon_data(), bce, optim.SGD(m.parameters(), lr=0.05), make(m), 150)


# ----- the tests ---------------------------------------------------------------------------
def test_the_set_covers_every_finding_and_ten_healthy_controls():
    kinds = set().union(*(r.expected for r in RUNS.values()))
    assert kinds == {
        "dead-units", "zero-gradients", "vanishing-gradients", "exploding-gradients",
        "saturated-units", "symmetric-units", "non-finite", "loss-not-decreasing",
        "loss-oscillating", "loss-diverging", "weights-unchanged", "zero-grad-forgotten",
        "probability-into-logits-loss", "over-fitting",
    }  # fmt: skip
    assert sum(r.healthy for r in RUNS.values()) >= 10


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaN runs overflow on purpose
@pytest.mark.parametrize("name", list(RUNS))
def test_labelled_run(name):
    """A problem run raises what it must, and nothing but its true consequences; a healthy
    control raises nothing. Every finding names a cause and a fix."""
    run = RUNS[name]
    nablab.manual_seed(0)
    with np.errstate(all="ignore"):
        mon = run.train(Monitor)
    found = mon.findings()
    kinds = {f.kind for f in found}
    assert run.expected <= kinds <= run.expected | run.allowed, mon.report()
    for f in found:
        assert f.cause and f.fix and f.severity in SEVERITIES and f.evidence, f
