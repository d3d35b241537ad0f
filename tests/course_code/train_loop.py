"""A d2l-like training loop without the plotting: Accumulator, accuracy, evaluate_accuracy
(net.eval() and torch.no_grad() when the net is a torch.nn.Module), train_epoch with
net.train() and either a torch.optim.Optimizer or a hand-written updater.
Weights set from numpy (seed 7) by m.weight.data = torch.tensor(...)."""

import json

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Accumulator:
    """Sums over n variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    cmp = y_hat.argmax(axis=1).type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(l.sum().item(), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


rng = np.random.default_rng(7)
y_np = rng.integers(0, 4, 400)
X_np = rng.normal(0, 1, (4, 10))[y_np] + rng.normal(0, 1, (400, 10))
dataset = TensorDataset(torch.tensor(X_np, dtype=torch.float32), torch.tensor(y_np))
train_iter = DataLoader(dataset, batch_size=50, shuffle=False)

net = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))
for m in net:
    if isinstance(m, nn.Linear):
        m.weight.data = torch.tensor(rng.normal(0, 0.1, tuple(m.weight.shape)), dtype=torch.float32)
        m.bias.data = torch.zeros(m.bias.shape)
loss = nn.CrossEntropyLoss(reduction="none")
trainer = torch.optim.SGD(net.parameters(), lr=0.1)

losses, train_accs, test_accs = [], [], []
for epoch in range(5):
    train_loss, train_acc = train_epoch(net, train_iter, loss, trainer)
    losses.append(train_loss)
    train_accs.append(train_acc)
    test_accs.append(evaluate_accuracy(net, train_iter))
    print(f"epoch {epoch + 1}, loss {train_loss:.4f}, train acc {train_acc:.3f}")


def updater(batch_size):  # the from-scratch branch: sgd on the same net
    with torch.no_grad():
        for p in net.parameters():
            p -= 0.1 * p.grad / batch_size
            p.grad.zero_()


losses.append(train_epoch(net, train_iter, loss, updater)[0])
results = {
    "losses": losses,
    "train_accs": train_accs,
    "test_accs": test_accs,
    "training_after_eval": net.training,
}
print(json.dumps(results))
