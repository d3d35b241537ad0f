"""An RNN from scratch: parameters in nn.ParameterList, torch.mm, tanh, cat, detach_ of the
state, and gradient clipping with p.grad[:] *= theta / norm."""

import json

import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(4)
vocab, hidden, steps, batch = 6, 8, 5, 3


def param(*shape):
    return nn.Parameter(torch.tensor(rng.normal(0, 0.3, shape), dtype=torch.float32))


params = nn.ParameterList(
    [param(vocab, hidden), param(hidden, hidden), param(hidden), param(hidden, vocab), param(vocab)]
)
tokens = torch.tensor(rng.integers(0, vocab, (steps + 1, batch)))


def rnn(inputs, H):
    W_xh, W_hh, b_h, W_hq, b_q = params
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        outputs.append(torch.mm(H, W_hq) + b_q)
    return torch.cat(outputs, dim=0), H


def grad_clipping(params, theta):
    norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
    if norm > theta:
        for p in params:
            p.grad[:] *= theta / norm
    return float(norm)


H = torch.zeros((batch, hidden))
losses, norms = [], []
for _epoch in range(6):
    H.detach_()
    X = nn.functional.one_hot(tokens[:-1], vocab).float()
    Y = tokens[1:].reshape(-1)
    out, H = rnn(X, H)
    loss = nn.functional.cross_entropy(out, Y)
    for p in params:
        p.grad = None
    loss.backward()
    norms.append(grad_clipping(params, 1.0))
    with torch.no_grad():
        for p in params:
            p -= 0.5 * p.grad
    losses.append(loss.item())

print(json.dumps({"losses": losses, "norms": norms, "n_params": len(list(params.parameters()))}))
