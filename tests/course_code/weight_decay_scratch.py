"""Weight decay from scratch: high-dimensional linear regression with 20 training examples,
the penalty torch.sum(w.pow(2)) / 2 added to the squared loss, ||w|| by torch.norm(w).item().
Data and starting weights from numpy (seed 6); batches from TensorDataset/DataLoader."""

import json

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(6)
n_train, n_test, num_inputs, batch_size = 20, 100, 200, 5
true_w, true_b = np.full((num_inputs, 1), 0.01), 0.05


def synthetic_data(num_examples):
    X = rng.normal(0, 1, (num_examples, num_inputs))
    y = X @ true_w + true_b + rng.normal(0, 0.01, (num_examples, 1))
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


train_data, test_data = synthetic_data(n_train), synthetic_data(n_test)
train_iter = DataLoader(TensorDataset(*train_data), batch_size, shuffle=False)
w_start = rng.normal(0, 1, (num_inputs, 1))


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def train(lambd, num_epochs=50, lr=0.003):
    w = torch.tensor(w_start, dtype=torch.float32, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    net = lambda X: torch.matmul(X, w) + b  # noqa: E731
    loss = lambda y_hat, y: (y_hat - y.reshape(y_hat.shape)) ** 2 / 2  # noqa: E731
    losses = []
    for _epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            with torch.no_grad():
                for param in (w, b):
                    param -= lr * param.grad / batch_size
                    param.grad.zero_()
        with torch.no_grad():
            losses.append(float(loss(net(train_data[0]), train_data[1]).mean()))
    with torch.no_grad():
        test_loss = float(loss(net(test_data[0]), test_data[1]).mean())
    print(f"lambda {lambd}: w norm {torch.norm(w).item():f}, test loss {test_loss:f}")
    return losses, torch.norm(w).item(), test_loss


plain_losses, plain_norm, plain_test = train(lambd=0)
decay_losses, decay_norm, decay_test = train(lambd=3)
results = {
    "losses": decay_losses,
    "plain_losses": plain_losses,
    "plain_norm": plain_norm,
    "decay_norm": decay_norm,
    "plain_test": plain_test,
    "decay_test": decay_test,
}
print(json.dumps(results))
