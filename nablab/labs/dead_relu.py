"""dead-relu — seeds/000 exercise 4-3 (NNDL §4.4.3): the dying-ReLU problem, made on purpose.

Model_MLP_L5 with every bias (fc5's included) at −8 and weights N(0, 0.01²): every
pre-activation is about −8 on every input. ReLU outputs exactly 0, its derivative is 0, so
δ_Z = δ_A ⊙ (Z > 0) = 0 and every weight gradient is exactly 0 — fc5's too, because its
input is all zeros. Leaky ReLU keeps a slope s below 0: gradients flow, but shrink by
~s·|W| per layer. The book prints the gradients of one full-batch epoch (the first step).

`iterations` sets the number of epochs of the longer runs (full 2000, quick 200); the
gradient norms are always those of the book's first step.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..diagnostics import Monitor
from ..viz import curves, grad_norm_bars
from .base import LabConfig, LabResult, Table, register
from .nndl import evaluate, init_linears, linear_layers, mlp_l5, moon1000, train_full_batch

LAYERS = ("fc1", "fc2", "fc3", "fc4", "fc5")
BIAS, BOOK_LR = -8.0, 0.01
SETUPS = {  # name: (act, negative slope)
    "relu": ("relu", 0.0),
    "leaky_relu 0.01": ("leaky_relu", 0.01),
    "leaky_relu 0.1": ("leaky_relu", 0.1),
    "leaky_relu 0.2": ("leaky_relu", 0.2),
}
PUBLISHED = {  # NNDL §4.4.3 (Paddle): norms fc1…fc5 and the loss
    "relu": ((0.0, 0.0, 0.0, 0.0, 0.0), None),
    "leaky_relu 0.01": ((2.3e-16, 1.9e-13, 1.7e-9, 1.2e-5, 0.070), 4.05),
}
LONG_LRS = (BOOK_LR, 1.0)


def build(setup: str, seed: int):
    act, slope = SETUPS[setup]
    model = mlp_l5(act, negative_slope=slope)
    return init_linears(model, ("normal", 0.01), bias=BIAS, generator=np.random.default_rng(seed))


def negative_units(model, X) -> dict[str, float]:
    """{fc1…fc4: fraction of its units whose pre-activation is ≤ 0 on every input} — for
    ReLU these units output 0 everywhere (dead); for Leaky ReLU only the slope s passes."""
    fractions = {}
    with no_grad():
        h = X
        for name, module in model.named_children():
            h = module(h)
            if name in LAYERS[:4]:
                fractions[name] = float((h.data <= 0).all(axis=0).mean())
    return fractions


def train_watched(setup: str, seed: int, epochs: int, lr: float, config: LabConfig) -> dict:
    """Train `epochs` full-batch epochs under a Monitor; what changed and what it found."""
    model = build(setup, seed)
    train, _, test = moon1000(seed)
    start = {name: m.weight.data.copy() for name, m in linear_layers(model).items()}
    with Monitor(model) as monitor:
        history = train_full_batch(
            model, train, epochs, lr, config,
            on_backward=lambda epoch, m: monitor.step(), description=f"{setup}, lr {lr}",
        )  # fmt: skip
    moved = max(
        float(np.abs(m.weight.data - start[name]).max())
        for name, m in linear_layers(model).items()
        if name != "fc5"
    )
    return {
        "norms": [[step[k] for k in LAYERS] for step in monitor.history],
        "losses": history.losses,
        "test_accuracy": evaluate(model, *test)[0],
        "hidden_weights_moved": moved,
        "negative_units": negative_units(model, train[0]),
        "findings": monitor.findings(),
    }


@register(
    "dead-relu",
    summary="Biases at −8 kill every ReLU unit: exact zero gradients; Leaky ReLU slopes",
    source="seeds/000 ex. 4-3; NNDL §4.4.3",
)
def run(config: LabConfig) -> LabResult:
    seeds = [config.seed + k for k in range(10)]
    first = {s: [train_watched(s, seed, 1, BOOK_LR, config) for seed in seeds] for s in SETUPS}
    norms = {s: np.array([r["norms"][0] for r in runs]) for s, runs in first.items()}
    losses = {s: np.array([r["losses"][0] for r in runs]) for s, runs in first.items()}

    rows = []
    for setup in SETUPS:
        if setup in PUBLISHED:
            published, loss = PUBLISHED[setup]
            rows.append([f"{setup} — published (NNDL)", *published, loss])
        rows.append([f"{setup} — ours, seed {seeds[0]}", *norms[setup][0], losses[setup][0]])
        rows.append(
            [f"{setup} — ours, median of {len(seeds)} seeds", *np.median(norms[setup], axis=0),
             float(np.median(losses[setup]))]
        )  # fmt: skip
    norm_table = Table(
        "‖∂L/∂W‖_F per layer after the first full-batch backward, every bias −8",
        ["run", *LAYERS, "loss"],
        rows,
    )
    monitor_rows = []
    for setup, runs in first.items():
        run0 = runs[0]
        monitor_rows.append(
            [setup, *(run0["negative_units"][k] for k in LAYERS[:4]),
             "; ".join(str(f) for f in run0["findings"]) or "none"]
        )  # fmt: skip
    unit_table = Table(
        f"Units ≤ 0 on every training point at init, and the Monitor's findings (seed {seeds[0]})",
        ["run", *(f"{k} units ≤ 0" for k in LAYERS[:4]), "Monitor findings"],
        monitor_rows,
    )

    epochs = config.steps(full=2000, quick=200)
    long_seeds = seeds[:1] if config.quick else seeds[:3]
    long = {
        (s, lr): [train_watched(s, seed, epochs, lr, config) for seed in long_seeds]
        for s in SETUPS
        for lr in LONG_LRS
    }
    long_rows = []
    for (setup, lr), runs in long.items():
        accs = [r["test_accuracy"] for r in runs]
        long_rows.append(
            [setup, lr, float(np.mean([r["losses"][-1] for r in runs])), float(np.mean(accs)),
             f"{min(accs):.3f}–{max(accs):.3f}",
             float(np.median([r["norms"][-1][0] for r in runs])),
             max(r["hidden_weights_moved"] for r in runs),
             float(np.mean([r["negative_units"]["fc1"] for r in runs]))]
        )  # fmt: skip
    long_table = Table(
        f"Trained longer: {epochs} full-batch epochs, mean over seeds {long_seeds}",
        ["run", "lr", "last loss", "test accuracy", "range", "fc1 grad (last, median)",
         "largest change of a hidden weight", "fc1 units ≤ 0"],
        long_rows,
    )  # fmt: skip

    out = config.out
    figures = [
        grad_norm_bars(
            {s: dict(zip(LAYERS, np.median(norms[s], axis=0))) for s in SETUPS},
            out / "dead_relu_grad_norms.png",
            title=f"first-step weight-gradient norms, biases −8 (median of {len(seeds)} seeds)",
        ),
        curves(
            {f"{s}, lr {lr}": runs[0]["losses"] for (s, lr), runs in long.items()},
            out / "dead_relu_longer_loss.png",
            title=f"training loss, biases −8 (seed {long_seeds[0]})",
        ),
    ]

    relu_zero = bool((norms["relu"] == 0).all())
    leaky_nonzero = {s: bool((norms[s] > 0).all()) for s in SETUPS if s != "relu"}
    relu_long = [long[("relu", lr)] for lr in LONG_LRS]
    relu_frozen = all(r["hidden_weights_moved"] == 0 for runs in relu_long for r in runs)
    shrink = {s: float(np.median(norms[s][:, 4] / norms[s][:, 0]) ** 0.25) for s in leaky_nonzero}
    escaped = [
        f"{s} at lr {lr:g} ({np.mean([r['test_accuracy'] for r in runs]):.2f})"
        for (s, lr), runs in long.items()
        if np.mean([r["test_accuracy"] for r in runs]) > 0.6
    ]
    answer = (
        ("Every ReLU weight gradient is exactly 0 on every seed" if relu_zero else
         "Not every ReLU weight gradient is 0")
        + ": all hidden units are ≤ 0 on every point, so the error cannot pass them. "
        + ("Leaky ReLU gives non-zero gradients in every layer for every slope; "
           if all(leaky_nonzero.values()) else "Some Leaky ReLU gradients are 0; ")
        + "fc1's median norm grows with the slope: "
        + ", ".join(f"{s.split()[-1]} → {np.median(norms[s][:, 0]):.1e}" for s in leaky_nonzero)
        + f" (fc5: {np.median(norms['leaky_relu 0.01'][:, 4]):.3f} at slope 0.01, published "
        "0.070). Trained longer: "
        + ("ReLU's hidden weights never change (their gradients stay exactly 0; only fc5's "
           "bias moves, toward the class prior)" if relu_frozen else
           "ReLU's hidden weights do change")
        + "; "
        + (f"only {', '.join(escaped)} gets past 0.6 mean test accuracy" if escaped else
           "no Leaky ReLU run gets past 0.6 test accuracy")
        + ". A larger slope helps, but with N(0, 0.01²) weights the first-step gradient still "
        "shrinks by a factor "
        + ", ".join(f"{shrink[s]:.0f} (slope {s.split()[-1]})" for s in shrink)
        + " per layer (the fourth root of fc5/fc1), so the first layers learn slowly whatever "
        "the slope."
    )  # fmt: skip
    return LabResult(
        question="What does a dead ReLU look like in the gradients, and does Leaky ReLU fix it?",
        setting=(
            "Moon1000 (make_moons(1000, noise 0.5), first 640 points). Model_MLP_L5 (2→3→3→3→3→1) "
            "with ReLU or Leaky ReLU (slopes 0.01, 0.1, 0.2) after fc1–fc4 and sigmoid on the "
            "output; weights N(0, 0.01²), every bias −8.0. BCE, SGD lr 0.01, full batch: the "
            f"norms are those of the first step's gradient ({len(seeds)} seeds). Trained "
            f"longer: {epochs} epochs with lr 0.01 and 1.0."
        ),
        tables=[norm_table, unit_table, long_table],
        figures=figures,
        answer=answer,
        metrics={
            "seeds": seeds,
            "grad_norms": {s: norms[s].tolist() for s in SETUPS},
            "first_loss": {s: losses[s].tolist() for s in SETUPS},
            "published": {s: list(v[0]) for s, v in PUBLISHED.items()},
            "relu_all_zero": relu_zero,
            "leaky_all_nonzero": leaky_nonzero,
            "negative_units": {s: runs[0]["negative_units"] for s, runs in first.items()},
            "monitor_findings": {
                s: [str(f) for f in runs[0]["findings"]] for s, runs in first.items()
            },
            "monitor_kinds": {
                s: sorted({f.kind for f in runs[0]["findings"]}) for s, runs in first.items()
            },
            "longer": {
                f"{s}, lr {lr}": {
                    "test_accuracy": [r["test_accuracy"] for r in runs],
                    "last_loss": [r["losses"][-1] for r in runs],
                    "hidden_weights_moved": [r["hidden_weights_moved"] for r in runs],
                }
                for (s, lr), runs in long.items()
            },
        },
        notes=[
            "seeds/000's code differs from the book: it sets fc1.bias to −8 twice and never "
            "fc2.bias (left at PyTorch's default), and fc2–fc4 share one weight tensor w. We "
            "follow the book and LABS.md: every bias −8, an independent N(0, 0.01²) draw per "
            "layer.",
            "fc5's weight gradient is 0 too under ReLU (its input h4 is all zeros), which is why "
            "all five published norms are 0; fc5's bias still gets a gradient, and it is the only "
            "parameter that moves.",
            "The Monitor's dead-unit finding covers ReLU layers (a Leaky ReLU unit passes the "
            "slope s below 0, so it is never dead); the 'units ≤ 0' columns count both.",
        ],
    )
