"""Linear regression from scratch, d2l style: a data_iter, param -= lr * grad under no_grad."""

import json

import numpy as np
import torch

rng = np.random.default_rng(0)
true_w, true_b = np.array([2.0, -3.4]), 4.2
features = torch.tensor(rng.normal(0, 1, (256, 2)), dtype=torch.float32)
labels = torch.matmul(features, torch.tensor(true_w, dtype=torch.float32)) + true_b
labels += torch.tensor(rng.normal(0, 0.01, 256), dtype=torch.float32)
labels = labels.reshape((-1, 1))


def data_iter(batch_size, features, labels):
    order = np.random.default_rng(1).permutation(len(features))
    for i in range(0, len(features), batch_size):
        batch = torch.tensor(order[i : i + batch_size])
        yield features[batch], labels[batch]


w = torch.tensor(rng.normal(0, 0.01, (2, 1)), dtype=torch.float32, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
noise = torch.normal(0, 0.01, size=(2, 1))  # drawn, not used for the comparison


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


losses = []
for _epoch in range(3):
    for X, y in data_iter(32, features, labels):
        loss = squared_loss(linreg(X, w, b), y)
        loss.sum().backward()
        sgd([w, b], 0.03, 32)
    with torch.no_grad():
        losses.append(float(squared_loss(linreg(features, w, b), labels).mean()))

print(
    json.dumps(
        {
            "losses": losses,
            "w": w.detach().numpy().ravel().tolist(),
            "b": b.item(),
            "noise_shape": list(noise.shape),
        }
    )
)
