"""A concise MLP: devices, torch.utils.data, nn.Sequential, net.apply(init), weight decay,
train()/eval(), .data tricks."""

import json

import numpy as np
import torch
from torch import nn
from torch.utils import data

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
rng = np.random.default_rng(3)
features = torch.tensor(rng.normal(0, 1, (120, 2, 2)), dtype=torch.float32)
labels = torch.tensor((rng.normal(0, 1, 120) > 0).astype(np.int64))
loader = data.DataLoader(data.TensorDataset(features, labels), batch_size=30, shuffle=False)

net = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to(device)
start = {name: rng.normal(0, 0.5, p.shape) for name, p in net.named_parameters()}


def init_weights(m):
    if type(m) == nn.Linear:  # noqa: E721 (the course's own test)
        nn.init.normal_(m.weight, std=0.01)
        nn.init.zeros_(m.bias)


net.apply(init_weights)
for name, p in net.named_parameters():
    p.data.copy_(torch.tensor(start[name], dtype=torch.float32))  # the same start for both

loss_fn = nn.CrossEntropyLoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=1e-3)
losses = []
for _epoch in range(4):
    net.train()
    total = 0.0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        loss = loss_fn(net(X), y)
        trainer.zero_grad()
        loss.backward()
        trainer.step()
        total += loss.item() * len(y)
    losses.append(total / len(labels))

net.eval()
with torch.no_grad():
    correct = (net(features).argmax(dim=1) == labels).float().sum().item()
first = net[1]
snapshot = first.weight.data.clone()
first.weight.data -= 0.0 * first.weight.data
print(
    json.dumps(
        {
            "losses": losses,
            "accuracy": correct / len(labels),
            "device": str(device),
            "is_module": isinstance(net, torch.nn.Module),
            "weight_sum": float(snapshot.sum()),
            "numpy": first.bias.data.numpy().tolist(),
        }
    )
)
