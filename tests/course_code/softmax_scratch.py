"""Softmax regression from scratch: one-hot with scatter_, exp, sum(1, keepdim=True),
accuracy with argmax(axis=1), cross-entropy by fancy indexing."""

import json

import numpy as np
import torch

rng = np.random.default_rng(2)
X = torch.tensor(rng.normal(0, 1, (90, 4)), dtype=torch.float32)
y = torch.tensor(rng.integers(0, 3, 90))
W = torch.tensor(rng.normal(0, 0.1, (4, 3)), dtype=torch.float32, requires_grad=True)
b = torch.zeros(3, requires_grad=True)

one_hot = torch.zeros(len(y), 3).scatter_(1, y.view(-1, 1), 1)


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


losses, accuracies = [], []
for _epoch in range(20):
    y_hat = net(X)
    loss = cross_entropy(y_hat, y).mean()
    loss.backward()
    with torch.no_grad():
        for param in (W, b):
            param.sub_(0.5 * param.grad)
            param.grad.zero_()
    losses.append(loss.item())
    accuracies.append(accuracy(net(X), y) / len(y))

mse_to_one_hot = float(((net(X) - one_hot) ** 2).sum(1).mean())
print(
    json.dumps(
        {
            "losses": losses,
            "accuracies": accuracies,
            "one_hot_rows": one_hot.sum(1).tolist(),
            "mse_to_one_hot": mse_to_one_hot,
        }
    )
)
