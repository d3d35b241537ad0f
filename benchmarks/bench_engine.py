"""Engine speed on the seeds' tiny networks: nablab vs PyTorch eager vs hand-written NumPy.

    python benchmarks/bench_engine.py

(a) XOR 2-2-1, ReLU, MSE, full-batch SGD (seeds/000): one epoch (= one step);
(b) one full-batch step of the [2, 20, 3, 1] ReLU MLP on 200 moons points with
    BCE-with-logits (seeds/002);
(c) the overhead of one recorded op: a 20×3 add, a (20×3)@(3×5) matmul, and
    (a*b).sum().backward().
All at one thread, peers interleaved in this process; medians over rounds.
"""

import numpy as np
import torch
import torch.nn.functional as tF
from harness import interleaved, one_thread, report
from sklearn.datasets import make_moons

import nablab as nl
from nablab.ops import loss as F

LR = 0.1


def xor_data():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    Y = np.array([[0], [1], [1], [0]], np.float32)
    return X, Y


def mlp_params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((o, i)).astype(np.float32), np.zeros(o, np.float32))
        for i, o in zip(sizes[:-1], sizes[1:])
    ]


def raw(t):
    """The engine's ndarray (`.array`; `.data` before issue 10, so compare_engine.py can
    time older checkouts too)."""
    return t.array if hasattr(t, "array") else t.data


def nablab_step(sizes, X, Y, loss_fn):
    params = [nl.tensor(a, requires_grad=True) for pair in mlp_params(sizes) for a in pair]
    X, Y = nl.tensor(X), nl.tensor(Y)
    n = len(params) // 2

    def step():
        h = X
        for k in range(n):
            h = nl.linear(h, params[2 * k], params[2 * k + 1])
            if k < n - 1:
                h = h.relu()
        loss_fn(h, Y).backward()
        for p in params:
            raw(p)[...] -= LR * raw(p.grad)
            p.grad = None

    return step


def torch_step(sizes, X, Y, loss_fn):
    params = [torch.tensor(a, requires_grad=True) for pair in mlp_params(sizes) for a in pair]
    X, Y = torch.tensor(X), torch.tensor(Y)
    n = len(params) // 2

    def step():
        h = X
        for k in range(n):
            h = tF.linear(h, params[2 * k], params[2 * k + 1])
            if k < n - 1:
                h = h.relu()
        loss_fn(h, Y).backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None

    return step


def numpy_step(sizes, X, Y, loss_grad):
    """Forward and backward written out by hand: the floor nablab is measured against."""
    params = [a for pair in mlp_params(sizes) for a in pair]
    n = len(params) // 2

    def step():
        acts = [X]
        for k in range(n):
            z = acts[-1] @ params[2 * k].T + params[2 * k + 1]
            acts.append(np.maximum(z, 0) if k < n - 1 else z)
        g = loss_grad(acts[-1], Y)
        for k in range(n - 1, -1, -1):
            W = params[2 * k]
            gW, gb = g.T @ acts[k], g.sum(axis=0)
            if k > 0:
                g = (g @ W) * (acts[k] > 0)
            params[2 * k] -= LR * gW
            params[2 * k + 1] -= LR * gb

    return step


def mse_grad(out, y):
    return 2 * (out - y) / out.size


def bce_logits_grad(z, y):
    return (1 / (1 + np.exp(-z)) - y) / z.size


def tiny_networks():
    X, Y = xor_data()
    xor = {
        "nablab": nablab_step([2, 2, 1], X, Y, F.mse_loss),
        "torch": torch_step([2, 2, 1], X, Y, tF.mse_loss),
        "numpy": numpy_step([2, 2, 1], X, Y, mse_grad),
    }
    report("(a) XOR 2-2-1 ReLU/MSE/SGD, one epoch", interleaved(xor), "torch")
    Xm, ym = make_moons(n_samples=300, shuffle=True, noise=0.5, random_state=0)
    Xm, Ym = Xm[:200].astype(np.float32), ym[:200, None].astype(np.float32)
    moons = {
        "nablab": nablab_step([2, 20, 3, 1], Xm, Ym, F.binary_cross_entropy_with_logits),
        "torch": torch_step([2, 20, 3, 1], Xm, Ym, tF.binary_cross_entropy_with_logits),
        "numpy": numpy_step([2, 20, 3, 1], Xm, Ym, bce_logits_grad),
    }
    report(
        "(b) [2,20,3,1] ReLU MLP, 200 moons points, BCE-with-logits, one step",
        interleaved(moons),
        "torch",
    )


def op_overhead():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((20, 3), np.float32), rng.standard_normal((20, 3), np.float32)
    w = rng.standard_normal((3, 5), np.float32)
    na, nb, nw = (nl.tensor(x, requires_grad=True) for x in (a, b, w))
    ta, tb, tw = (torch.tensor(x, requires_grad=True) for x in (a, b, w))
    add = {"nablab": lambda: na + nb, "torch": lambda: ta + tb, "numpy": lambda: a + b}
    report("(c1) recorded add, 20×3", interleaved(add), "torch")
    mm = {"nablab": lambda: na @ nw, "torch": lambda: ta @ tw, "numpy": lambda: a @ w}
    report("(c2) recorded matmul, (20×3) @ (3×5)", interleaved(mm), "torch")

    def nl_bwd():
        (na * nb).sum().backward()
        na.grad = nb.grad = None

    def t_bwd():
        (ta * tb).sum().backward()
        ta.grad = tb.grad = None

    def np_bwd():
        return (a * b).sum(), b.copy(), a.copy()

    bwd = {"nablab": nl_bwd, "torch": t_bwd, "numpy": np_bwd}
    report("(c3) (a*b).sum().backward(), 20×3", interleaved(bwd), "torch")


if __name__ == "__main__":
    with one_thread():
        tiny_networks()
        op_overhead()
