"""Old-style `.data` tricks from course code: p.data.zero_(), p.data.copy_(src),
p.data -= lr * p.grad.data, p.grad.data.zero_(), x.data.numpy().
A linear model y = Xw + b on numpy's data (seed 3)."""

import json

import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(3)
X_np = rng.normal(0, 1, (64, 3))
y_np = X_np @ np.array([[1.5], [-2.0], [0.5]]) + 0.3
X = torch.tensor(X_np, dtype=torch.float32)
y = torch.tensor(y_np, dtype=torch.float32)

net = nn.Linear(3, 1)
net.bias.data.zero_()
net.weight.data.copy_(torch.tensor(rng.normal(0, 0.1, (1, 3)), dtype=torch.float32))
start = net.weight.data.numpy().copy()
bias_after_zero = net.bias.data.numpy().tolist()

loss_fn = nn.MSELoss()
lr, losses = 0.1, []
for _step in range(12):
    l = loss_fn(net(X), y)
    l.backward()
    for p in net.parameters():
        p.data -= lr * p.grad.data
        p.grad.data.zero_()
    losses.append(l.item())

out = net(X)
results = {
    "start": start.ravel().tolist(),
    "bias_after_zero": bias_after_zero,
    "losses": losses,
    "weight": net.weight.data.numpy().ravel().tolist(),
    "bias": net.bias.data.numpy().tolist(),
    "grads_after_zero": [float(p.grad.abs().sum()) for p in net.parameters()],
    "data_requires_grad": net.weight.data.requires_grad,
    "out_requires_grad": out.requires_grad,
    "out_data_requires_grad": out.data.requires_grad,
}
print(json.dumps(results))
