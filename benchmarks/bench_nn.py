"""nn + optim speed: nablab's modules, losses and optimizers against torch's, same process.

    python benchmarks/bench_nn.py

(a) the regularization lab's iteration: [2, 20, 3, 1] ReLU MLP of nn.Linear, 200 moons
    points, full batch, BCEWithLogitsLoss, optim.SGD (zero_grad, forward, backward, step);
(b) a 784-512-512-10 ReLU MLP training step at batch 256, CrossEntropyLoss, SGD:
    BLAS-bound, so nablab should sit within a small factor of torch.
One thread, peers interleaved, medians; a hand-written NumPy step is the floor.
"""

import numpy as np
import torch
from harness import interleaved, one_thread, report
from sklearn.datasets import make_moons

import nablab as nl

LR = 0.2


def build(lib, sizes, seed=0):
    """The same MLP in nablab or torch (lib is the module: nablab.nn or torch.nn)."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(lib.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(lib.ReLU())
    model = lib.Sequential(*layers)
    rng = np.random.default_rng(seed)
    state = {
        k: rng.standard_normal(v.shape).astype(np.float32) * 0.1
        for k, v in model.state_dict().items()
    }
    if lib is torch.nn:
        state = {k: torch.from_numpy(v) for k, v in state.items()}
    model.load_state_dict(state)
    return model


def step_fn(lib, optim, sizes, X, Y, loss):
    model = build(lib, sizes)
    opt = optim.SGD(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss(model(X), Y).backward()
        opt.step()

    return step


def numpy_step(sizes, X, y, loss_grad):
    """Forward/backward of the ReLU MLP written by hand with NumPy: the floor."""
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((o, i)).astype(np.float32) * 0.1 for i, o in zip(sizes, sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]

    def step():
        acts = [X]
        for k, (W, b) in enumerate(zip(Ws, bs)):
            z = acts[-1] @ W.T + b
            acts.append(np.maximum(z, 0) if k < len(Ws) - 1 else z)
        g = loss_grad(acts[-1], y)
        for k in range(len(Ws) - 1, -1, -1):
            gW, gb = g.T @ acts[k], g.sum(axis=0)
            if k > 0:
                g = (g @ Ws[k]) * (acts[k] > 0)
            Ws[k] -= LR * gW
            bs[k] -= LR * gb

    return step


def bce_logits_grad(z, y):
    return (1 / (1 + np.exp(-z)) - y) / z.size


def cross_entropy_grad(z, y):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def regularization_iteration():
    X, y = make_moons(n_samples=300, shuffle=True, noise=0.5, random_state=0)
    X, Y = X[:200].astype(np.float32), y[:200, None].astype(np.float32)
    sizes = [2, 20, 3, 1]
    cases = {
        "nablab": step_fn(
            nl.nn, nl.optim, sizes, nl.tensor(X), nl.tensor(Y), nl.nn.BCEWithLogitsLoss()
        ),
        "torch": step_fn(
            torch.nn,
            torch.optim,
            sizes,
            torch.tensor(X),
            torch.tensor(Y),
            torch.nn.BCEWithLogitsLoss(),
        ),
        "numpy": numpy_step(sizes, X, Y, bce_logits_grad),
    }
    report(
        "(a) [2,20,3,1] MLP, nn.Linear + BCEWithLogitsLoss + SGD, 200 points, one step",
        interleaved(cases),
        "torch",
    )


def large_mlp():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    sizes = [784, 512, 512, 10]
    cases = {
        "nablab": step_fn(
            nl.nn, nl.optim, sizes, nl.tensor(X), nl.tensor(y), nl.nn.CrossEntropyLoss()
        ),
        "torch": step_fn(
            torch.nn,
            torch.optim,
            sizes,
            torch.tensor(X),
            torch.tensor(y),
            torch.nn.CrossEntropyLoss(),
        ),
        "numpy": numpy_step(sizes, X, y, cross_entropy_grad),
    }
    report(
        "(b) 784-512-512-10 ReLU MLP, batch 256, CrossEntropyLoss + SGD, one step",
        interleaved(cases, rounds=9),
        "torch",
    )


if __name__ == "__main__":
    with one_thread():
        regularization_iteration()
        large_mlp()
