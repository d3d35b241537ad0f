"""The networks of the optimizers lab's sweeps: seeds/003's 2-2-2 sigmoid network and the
regularization lab's moons MLP, each trained with a given optimizer."""

import numpy as np

import nablab
from nablab import nn, optim
from nablab.data import moons
from nablab.labs._seeds import data_and_model_seeds

# seeds/003: inputs, targets and the initial w1…w8 as two matrices,
# h = σ(W₁x) with W₁ = [[w1, w3], [w2, w4]], o = σ(W₂h) with W₂ = [[w5, w7], [w6, w8]].
SEED003_X, SEED003_Y = (0.5, 0.3), (0.23, -0.07)
SEED003_W1, SEED003_W2 = ((0.2, 0.5), (-0.4, 0.6)), ((0.1, -0.3), (-0.5, 0.8))


def seed003_sweep(rounds, steps):
    """Loss ½Σ(o − y)² before each of `rounds` gradient steps, for each step size."""
    x = nablab.tensor(SEED003_X, dtype=nablab.float64)
    y = nablab.tensor(SEED003_Y, dtype=nablab.float64)
    histories = {}
    for step in steps:
        W1 = nablab.tensor(SEED003_W1, dtype=nablab.float64, requires_grad=True)
        W2 = nablab.tensor(SEED003_W2, dtype=nablab.float64, requires_grad=True)
        optimizer = optim.SGD([W1, W2], lr=step)
        losses = []
        for _ in range(rounds):
            o = nablab.sigmoid(W2 @ nablab.sigmoid(W1 @ x))
            loss = ((o - y) ** 2).sum() / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        histories[step] = losses
    return histories


MOONS_OPTIMIZERS = {
    "GD lr 0.2": lambda p: optim.SGD(p, lr=0.2),
    "Momentum lr 0.02, ρ 0.9": lambda p: optim.SGD(p, lr=0.02, momentum=0.9),
    "AdaGrad lr 0.1": lambda p: optim.Adagrad(p, lr=0.1),
    "RMSprop lr 0.01": lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9),
    "Adam lr 0.01": lambda p: optim.Adam(p, lr=0.01),
}
MOONS_LR_SWEEP = {f"GD lr {lr:g}": (lambda p, lr=lr: optim.SGD(p, lr=lr)) for lr in (0.01, 0.1, 10)}


def moons_mlp():
    """The regularization lab's MLP_3L: [2, 20, 3, 1], ReLU, W ~ N(0, 1), b = 0, logits out."""
    model = nn.Sequential(nn.Linear(2, 20), nn.ReLU(), nn.Linear(20, 3), nn.ReLU(), nn.Linear(3, 1))
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 1.0)
            nn.init.zeros_(layer.bias)
    return model


def train_moons(make_optimizer, seed, iterations):
    """Full-batch training on make_moons(300, noise 0.5) (first 200 train, last 100 test).

    Returns the training loss per iteration, the final train/test accuracy (logit > 0
    predicts 1) and, per hidden layer (20 and 3 units), how many ReLU units are 0 on every
    training point (dead).
    """
    data_seed, model_seed = data_and_model_seeds(seed)
    X, y = moons(300, noise=0.5, seed=data_seed)
    X_train, y_train, X_test, y_test = X[:200], y[:200], X[200:], y[200:]
    nablab.manual_seed(model_seed)
    model = moons_mlp()
    optimizer = make_optimizer(list(model.parameters()))
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(iterations):
            loss = loss_fn(model(X_train), y_train)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with nablab.no_grad():
            accuracy = [
                float(np.mean((model(Xs).data > 0) == (ys.data > 0.5)))
                for Xs, ys in ((X_train, y_train), (X_test, y_test))
            ]
            h1 = model[1](model[0](X_train))
            h2 = model[3](model[2](h1))
    dead = [int(np.sum(h.data.max(axis=0) <= 0)) for h in (h1, h2)]
    return {"loss": losses, "train_acc": accuracy[0], "test_acc": accuracy[1], "dead": dead}
