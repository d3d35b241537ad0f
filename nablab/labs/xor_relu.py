"""xor-relu — seeds/000, exercise 4-2: can a 2-2-1 ReLU network learn XOR?

The seed trains Linear(2, 2) → ReLU → Linear(2, 1) with MSE and SGD (lr 0.1, 10,000
full-batch epochs), finds that two hidden units "often fail" and widens the layer. Here
every width (2, 3, 4, 20) is trained from 20 seeds, and the 2-unit architecture is shown
to be able to represent XOR exactly with hand-set weights, so a failure is the training's,
not the architecture's.

All seeds of one width train at once, as one batched computation: the parameters carry
a leading seed axis S (W₁: S×H×2, b₁: S×1×H, W₂: S×1×H, b₂: S×1×1) and

    H_s = relu(X W₁ₛᵀ + b₁ₛ),   ŷ_s = H_s W₂ₛᵀ + b₂ₛ,   L = Σ_s (1/4) Σ_n (ŷ_sn − y_n)²

Seed s's parameters enter only its own term of L, so ∂L/∂θ_s is exactly the gradient of
that seed's mean squared error: the same math as S separate runs, in one pass.

``config.iterations`` sets the number of full-batch epochs of every width (default the
seed's 10,000; quick 2,000); the number of seeds stays on ``config.quick``.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim, relu, tensor
from ..data import xor
from ..nn import functional as F
from ..viz import curves, decision_boundary
from .base import LabConfig, LabResult, Table, register, track

HIDDEN_SIZES = (2, 3, 4, 20)
LEARNING_RATE = 0.1
EPOCHS = 10_000  # the seed's


def init_params(hidden: int, runs: int, seed: int) -> list:
    """PyTorch's default init of Linear(2, hidden) and Linear(hidden, 1) for each run, stacked.

    Run r draws both layers from its own generator, ``default_rng([seed, r])``.
    """
    layers = []
    for run in range(runs):
        generator = np.random.default_rng([seed, run])
        layers.append(
            (nn.Linear(2, hidden, generator=generator), nn.Linear(hidden, 1, generator=generator))
        )
    stacked = [
        np.stack([first.weight.data for first, _ in layers]),
        np.stack([first.bias.data for first, _ in layers])[:, None, :],
        np.stack([second.weight.data for _, second in layers]),
        np.stack([second.bias.data for _, second in layers])[:, None, :],
    ]
    return [tensor(p, requires_grad=True) for p in stacked]


def hidden_layer(params: list, X):
    """H = relu(X W₁ᵀ + b₁) for every run at once: shape (runs, N, hidden)."""
    W1, b1 = params[0], params[1]
    return relu(X @ W1.transpose(1, 2) + b1)


def forward(params: list, X):
    """ŷ = relu(X W₁ᵀ + b₁) W₂ᵀ + b₂ for every run at once: shape (runs, N, 1)."""
    W2, b2 = params[2], params[3]
    return hidden_layer(params, X) @ W2.transpose(1, 2) + b2


def train(hidden: int, runs: int, epochs: int, config: LabConfig, record_every: int = 50):
    """Train `runs` nets of width `hidden` together; returns (params, MSE history (T, runs))."""
    X, y = xor()
    params = init_params(hidden, runs, config.seed)
    targets = tensor(np.broadcast_to(y.data, (runs, *y.shape)).copy())
    optimizer = optim.SGD(params, lr=LEARNING_RATE)
    history = []
    steps = track(range(epochs), epochs, f"{hidden} hidden units", config)
    for epoch in steps:
        out = forward(params, X)
        loss = F.mse_loss(out, targets, reduction="sum") / len(X)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % record_every == 0:
            history.append(((out.data - targets.data) ** 2).mean(axis=(1, 2)))
    return params, np.array(history)


def evaluate(params: list) -> dict:
    """Per-run accuracy (output > 0.5), the seed's truncation accuracy, MSE and dead units."""
    X, y = xor()
    out = forward(params, X).data[:, :, 0]
    target = y.data[:, 0]
    hidden = hidden_layer(params, X).data
    return {
        "accuracy": ((out > 0.5) == (target > 0.5)).mean(axis=1),
        "seed_rule_accuracy": (out.astype(np.int64) == target).mean(axis=1),
        "mse": ((out - target) ** 2).mean(axis=1),
        "dead_units": (hidden == 0).all(axis=1).sum(axis=1),
    }


def hand_set_solution() -> tuple[np.ndarray, np.ndarray]:
    """h₁ = relu(x₁ + x₂), h₂ = relu(x₁ + x₂ − 1), ŷ = h₁ − 2h₂, in nn.Linear layers.

    Returns (hidden activations (4, 2), outputs (4,)).
    """
    X, _ = xor()
    unused = np.random.default_rng(0)  # the init is overwritten; keep the global stream
    first, second = nn.Linear(2, 2, generator=unused), nn.Linear(2, 1, generator=unused)
    first.weight.data[...] = [[1, 1], [1, 1]]
    first.bias.data[...] = [0, -1]
    second.weight.data[...] = [[1, -2]]
    second.bias.data[...] = [0]
    hidden = relu(first(X))
    return hidden.data, second(hidden).data[:, 0]


def sklearn_baselines(runs: int) -> list[tuple[str, np.ndarray, str]]:
    """(name, accuracy per run, the seed's figure) for the seed's scikit-learn models."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    X, y = xor()
    X, labels = X.data, y.data[:, 0].astype(int)

    def mlp(width, run):
        model = MLPClassifier(hidden_layer_sizes=(width,), max_iter=10000, random_state=run)
        return model.fit(X, labels).score(X, labels)

    return [
        (
            "MLPClassifier((2,))",
            np.array([mlp(2, run) for run in range(runs)]),
            "'not OK'",
        ),
        (
            "MLPClassifier((20,))",
            np.array([mlp(20, run) for run in range(runs)]),
            "solved (screenshot)",
        ),
        (
            "SVC(rbf, gamma=0.1)",
            np.array([SVC(kernel="rbf", gamma=0.1).fit(X, labels).score(X, labels)]),
            "'better than MLP'",
        ),
        (
            "LogisticRegression()",
            np.array([LogisticRegression().fit(X, labels).score(X, labels)]),
            "50 %",
        ),
    ]


def svc_margin() -> float:
    """Largest |decision function| of the seed's SVC on the 4 points (how close to a tie)."""
    from sklearn.svm import SVC

    X, y = xor()
    model = SVC(kernel="rbf", gamma=0.1).fit(X.data, y.data[:, 0].astype(int))
    return float(np.abs(model.decision_function(X.data)).max())


def plot_regions(params: list, run: int, accuracy: float, path):
    X, y = xor()

    def predict(grid):
        one_run = [p[run : run + 1] for p in params]
        return forward(one_run, tensor(grid.astype(X.dtype))).data[0, :, 0] > 0.5

    title = f"2 hidden units, run {run}: accuracy {accuracy:.0%}"
    return decision_boundary(
        predict, X.data, y.data, path, xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), title=title
    )


SEED_SAYS = {2: "often fails", 20: "widened: 100 %"}


@register("xor-relu", summary="Can a 2-2-1 ReLU net learn XOR?", source="seeds/000 ex. 4-2")
def run(config: LabConfig) -> LabResult:
    runs, baseline_runs = (5, 1) if config.quick else (20, 20)
    epochs = config.steps(full=EPOCHS, quick=2000)
    width_rows, fractions, results = [], {}, {}
    for hidden in HIDDEN_SIZES:
        params, history = train(hidden, runs, epochs, config)
        found = evaluate(params)
        results[hidden] = (params, history, found)
        solved = found["accuracy"] == 1
        fractions[hidden] = float(solved.mean())
        width_rows.append(
            [
                hidden,
                runs,
                int(solved.sum()),
                fractions[hidden],
                float(found["mse"].mean()),
                int((found["dead_units"][~solved] > 0).sum()),
                float(found["seed_rule_accuracy"].mean()),
                SEED_SAYS.get(hidden),
            ]
        )

    hidden_values, outputs = hand_set_solution()
    X, y = xor()
    exact = bool(np.array_equal(outputs, y.data[:, 0]))
    hand_rows = [
        [f"({a:g}, {b:g})", h[0], h[1], o, t]
        for (a, b), h, o, t in zip(X.data, hidden_values, outputs, y.data[:, 0])
    ]

    baselines = sklearn_baselines(baseline_runs)
    baseline_rows = [
        [name, len(acc), float(acc.mean()), float((acc == 1).mean()), seed]
        for name, acc, seed in baselines
    ]
    baseline_accuracy = {name: float(acc.mean()) for name, acc, _ in baselines}
    margin = svc_margin()

    params2, history2, found2 = results[2]
    figures = []
    solved2 = found2["accuracy"] == 1
    groups = {"failed": ~solved2, "solved": solved2}
    for label, candidates in groups.items():
        if candidates.any():
            r = int(np.flatnonzero(candidates)[0])
            path = config.out / f"xor_relu_regions_{label}.png"
            figures.append(plot_regions(params2, r, float(found2["accuracy"][r]), path))
    steps = np.arange(len(history2)) * 50
    figures.append(
        curves(
            {
                f"median of the {int(mask.sum())} {label} runs": (
                    steps,
                    np.median(history2[:, mask], axis=1),
                )
                for label, mask in groups.items()
                if mask.any()
            },
            config.out / "xor_relu_loss_2_units.png",
            logy=True,
            title="2 hidden units: MSE during training",
        )
    )

    linear_name = "LogisticRegression()"
    failed2 = int((~solved2).sum())
    dead2 = int((found2["dead_units"][~solved2] > 0).sum())
    answer = (
        f"Over {runs} seeds and {epochs} epochs, "
        + ", ".join(f"{h} hidden units reach 100 % in {fractions[h]:.0%}" for h in HIDDEN_SIZES)
        + " of runs. "
        + (
            "Yet two ReLU units can compute XOR exactly: the hand-set weights give outputs "
            f"{', '.join(f'{o:g}' for o in outputs)} with zero loss, so the 2-unit failures "
            f"are the training's, not a lack of capacity: {dead2} of the {failed2} failed "
            "2-unit runs end with a hidden unit that is 0 on all four inputs (dead). "
            if exact
            else "The hand-set 2-unit weights did NOT reproduce XOR exactly here. "
        )
        + f"Logistic regression scores {baseline_accuracy[linear_name]:.0%}: a linear "
        "model cannot separate XOR."
    )
    overridden = (
        [
            f"iterations overridden: {epochs} epochs instead of the seed's {EPOCHS:,}; the "
            "'seed' column quotes runs of that length."
        ]
        if config.iterations not in (None, EPOCHS)
        else []
    )
    return LabResult(
        question=(
            "Can Linear(2,2)→ReLU→Linear(2,1) learn XOR with SGD, how often, and do wider "
            "hidden layers help?"
        ),
        setting=(
            "The 4 XOR points with labels 0,1,1,0. Linear(2,H) → ReLU → Linear(H,1), PyTorch's "
            f"default init, MSE, SGD lr {LEARNING_RATE}, {epochs} full-batch epochs, predict 1 "
            f"where the output > 0.5; H = 2, 3, 4, 20, each from {runs} seeds. The seeds of one "
            "width train together as one batched computation (leading seed axis, batched "
            "matmul): each seed's gradient is exactly that of its own mean squared error. "
            "Baselines: scikit-learn as in the seed."
        ),
        tables=[
            Table(
                "Fraction of runs reaching 100 % accuracy ('failed, dead unit': failed runs "
                "with a hidden unit that is 0 on all 4 inputs; 'acc. by seed's rule': "
                "output.astype(int64) as in the seed)",
                [
                    "hidden",
                    "runs",
                    "at 100 %",
                    "fraction",
                    "final MSE",
                    "failed, dead unit",
                    "acc. by seed's rule",
                    "seed",
                ],
                width_rows,
            ),
            Table(
                "Hand-set 2-unit solution: h1 = relu(x1+x2), h2 = relu(x1+x2-1), y = h1 - 2 h2",
                ["input", "h1", "h2", "output", "target"],
                hand_rows,
            ),
            Table(
                "scikit-learn baselines (training accuracy on the 4 points)",
                ["model", "runs", "accuracy", "at 100 %", "seed"],
                baseline_rows,
            ),
        ],
        figures=figures,
        answer=answer,
        metrics={
            "fraction_100": {str(h): fractions[h] for h in HIDDEN_SIZES},
            "hand_set_exact": exact,
            "hand_set_mse": float(((outputs - y.data[:, 0]) ** 2).mean()),
            "baseline_accuracy": baseline_accuracy,
            "logistic_regression_accuracy": baseline_accuracy[linear_name],
            "svc_max_abs_decision": margin,
            "runs": runs,
            "epochs": epochs,
        },
        notes=[
            "The seed's accuracy line casts the raw outputs to int64, which truncates toward "
            "zero instead of thresholding at 0.5 (and it compares with an undefined `label1`): "
            "an output of 0.97 for a target 1 counts as class 0, so a perfectly trained net "
            "scores 50 % by that rule. The column 'acc. by seed's rule' shows what the "
            "rule reports on our runs; the lab thresholds at 0.5.",
            "The seed sets no random seed and reports one run; the lab reports fractions "
            "over seeds, trained together in one batched computation (same math per seed).",
            f"The seed's SVC reaches 100 % with a tiny margin: its largest |decision value| "
            f"is {margin:.4f} (gamma = 0.1 makes the four kernel values nearly equal).",
            "MLPClassifier uses Adam, ReLU and an L2 penalty alpha = 1e-4 (scikit-learn's "
            "defaults), not the seed's SGD + MSE: its runs use random_state = 0, 1, ...",
        ]
        + overridden,
    )
