"""Dropout from scratch: a mask (torch.rand(X.shape) > p).float(), scaled by 1 / (1 - p),
applied to the hidden layer of an MLP only in training. The masks come from each backend's
own generator: what is compared is shapes and statistics, not values."""

import json

import numpy as np
import torch
from torch import nn


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:  # everything dropped
        return torch.zeros_like(X)
    if dropout == 0:  # everything kept
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


torch.manual_seed(0)
X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
print(dropout_layer(X, 0.0), dropout_layer(X, 0.5), dropout_layer(X, 1.0), sep="\n")
dropped = dropout_layer(torch.ones(200, 500), 0.5)
kept = dropped != 0


class Net(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout):
        super().__init__()
        self.lin1 = nn.Linear(num_inputs, num_hiddens)
        self.lin2 = nn.Linear(num_hiddens, num_outputs)
        self.relu, self.dropout = nn.ReLU(), dropout

    def forward(self, X):
        H = self.relu(self.lin1(X))
        if self.training:
            H = dropout_layer(H, self.dropout)
        return self.lin2(H)


rng = np.random.default_rng(5)
y_np = rng.integers(0, 3, 300)
X_np = rng.normal(0, 1, (3, 8))[y_np] + rng.normal(0, 1, (300, 8))
features = torch.tensor(X_np, dtype=torch.float32)
labels = torch.tensor(y_np)
net = Net(8, 32, 3, 0.5)
trainer = torch.optim.SGD(net.parameters(), lr=0.1)
loss, losses = nn.CrossEntropyLoss(), []
for _epoch in range(20):
    net.train()
    l = loss(net(features), labels)
    trainer.zero_grad()
    l.backward()
    trainer.step()
    net.eval()
    with torch.no_grad():
        losses.append(loss(net(features), labels).item())
        same_in_eval = bool((net(features) == net(features)).all())

results = {
    "shape": list(dropout_layer(X, 0.5).shape),
    "p0_is_identity": bool((dropout_layer(X, 0.0) == X).all()),
    "p1_all_zero": bool((dropout_layer(X, 1.0) == 0).all()),
    "kept_fraction": float(kept.float().mean()),
    "kept_values": sorted(set(dropped[kept].tolist())),
    "mean": float(dropped.mean()),
    "is_float32": dropped.dtype == torch.float32,
    "losses": losses,
    "eval_is_deterministic": same_in_eval,
}
print(json.dumps(results))
