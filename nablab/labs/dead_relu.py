"""dead-relu — seeds/000 exercise 4-3 (NNDL §4.4.3): the dying-ReLU problem, made on purpose.

Model_MLP_L5 with every bias (fc5's included) at −8 and weights N(0, 0.01²): every
pre-activation is about −8 on every input. ReLU outputs exactly 0, its derivative is 0, so

    δ_Z = δ_A ⊙ (Z > 0) = 0,    ∂L/∂W = δ_Zᵀ A_prev = 0

for every layer — fc5's too, because its input is all zeros. Leaky ReLU keeps a slope s
below 0: gradients flow, but shrink by ~s·|W| per layer. The book prints the gradients of
one full-batch epoch (the first step).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..autograd.grad_mode import no_grad
from ..diagnostics import Monitor
from ..viz import arm_colors, curve_panels, grad_norm_bars, save
from .base import Table, spread
from .declaration import Claim, Outcome, Published, lab
from .params import Param
from .recipes import evaluate, init_linears, linear_layers, mlp_l5, moon1000, train_full_batch
from .runner import Context

LAYERS = ("fc1", "fc2", "fc3", "fc4", "fc5")
BOOK = "NNDL §4.4.3 (Paddle)"


class Arm(NamedTuple):
    """One activation of the lab: how a person reads it, the activation and its slope below 0."""

    label: str
    activation: str
    slope: float


def arms(p) -> dict[str, Arm]:
    """{identifier: Arm}: "relu", then "leaky_relu_0.01", ... for each slope. The identifiers
    key the metrics and results.json; the labels head the tables and plots."""
    return {"relu": Arm("ReLU", "relu", 0.0)} | {
        f"leaky_relu_{s:g}": Arm(f"Leaky ReLU {s:g}", "leaky_relu", s) for s in p.slopes
    }


def lr_key(lr: float) -> str:
    """The identifier of a learning rate in the metrics' "longer" runs: "lr_0.01"."""
    return f"lr_{lr:g}"


def negative_units(model, X) -> dict[str, float]:
    """{fc1…fc4: fraction of its units whose pre-activation is ≤ 0 on every input} — for
    ReLU these units output 0 everywhere (dead); for Leaky ReLU only the slope s passes."""
    fractions = {}
    with no_grad():
        h = X
        for name, module in model.named_children():
            h = module(h)
            if name in LAYERS[:4]:
                fractions[name] = float((h.array <= 0).all(axis=0).mean())
    return fractions


def train_watched(arm, seed: int, epochs: int, lr: float, p, ctx) -> dict:
    """Train ``epochs`` full-batch epochs under a Monitor; what changed and what it found."""
    (_, act, slope), (data_seed, model_seed) = arm, Context.streams(seed)
    model = init_linears(
        mlp_l5(act, negative_slope=slope), ("normal", p.weight_std), bias=p.bias,
        generator=np.random.default_rng(model_seed),
    )  # fmt: skip
    train, _, test = moon1000(data_seed)
    start = {name: m.weight.array.copy() for name, m in linear_layers(model).items()}
    with Monitor(model, every=1) as monitor:  # every step: the norms are plotted
        history = train_full_batch(
            model, train, epochs, lr, ctx,
            on_backward=lambda epoch, m: monitor.step(), description=f"{act} {slope:g}, lr {lr}",
        )  # fmt: skip
    norms = [[step[k] for k in LAYERS] for step in monitor.history]
    moved = [np.abs(m.weight.array - start[k]).max() for k, m in linear_layers(model).items()]
    return {
        "norms": norms,
        "losses": history.losses,
        "test_accuracy": evaluate(model, *test)[0],
        "hidden_weights_moved": float(max(moved[:4])),
        "largest_weight_grad": float(np.max(norms)),
        "negative_units": negative_units(model, train[0]),
        "findings": monitor.findings(),
    }


def leaky_flows(m, p):
    leaky = {arm: np.array(n) for arm, n in m["grad_norms"].items() if arm != "relu"}
    return all((n > 0).all() for n in leaky.values()), {
        f"smallest, {arm}": n.min() for arm, n in leaky.items()
    }


def fc1_grows_with_slope(m, p):
    fc1 = [np.median(np.array(m["grad_norms"][f"leaky_relu_{s:g}"])[:, 0]) for s in p.slopes]
    if len(fc1) > 1:
        order = np.argsort(p.slopes)
        return bool((np.diff(np.array(fc1)[order]) > 0).all()), dict(zip(map(str, p.slopes), fc1))


def book_fc5(m, p):
    if 0.01 in p.slopes:
        fc5 = float(np.median(np.array(m["grad_norms"]["leaky_relu_0.01"])[:, 4]))
        return abs(fc5 - 0.070) < 0.01, {"median fc5": fc5}


def answer(m, p) -> str:
    med = {arm: np.median(np.array(n), axis=0) for arm, n in m["grad_norms"].items()}
    leaky = [arm for arm in med if arm != "relu"]
    return (
        f"With every bias at {p.bias:g}, the ReLU net's median first-step norms are "
        + ", ".join(f"{v:.1e}" for v in med["relu"])
        + " (fc1…fc5); the fraction of its hidden units ≤ 0 on every point is "
        + ", ".join(f"{v:.2g}" for v in m["negative_units"]["relu"].values())
        + ". Leaky ReLU's median fc1 norm by slope: "
        + ", ".join(f"{arms(p)[arm].slope:g} → {med[arm][0]:.1e}" for arm in leaky)
        + "; its first-step gradient shrinks by a factor "
        + ", ".join(f"{(med[arm][4] / med[arm][0]) ** 0.25:.0f}" for arm in leaky)
        + " per layer (the fourth root of fc5/fc1), so the first layers learn slowly whatever "
        f"the slope. Trained {p.epochs:,} epochs, mean test accuracy: "
        + "; ".join(
            f"{arms(p)[arm].label}, lr {lr:g}: {np.mean(by_lr[lr_key(lr)]['test_accuracy']):.2f}"
            for arm, by_lr in m["longer"].items()
            for lr in p.lr
        )
        + "."
    )


@lab(
    "dead-relu",
    summary="Biases at −8 kill every ReLU unit: exact zero gradients; Leaky ReLU slopes",
    source="seeds/000 ex. 4-3; NNDL §4.4.3",
    question="What does a dead ReLU look like in the gradients, and does Leaky ReLU fix it?",
    setting=(
        "Moon1000 (make_moons(1000, noise 0.5), first 640 points). Model_MLP_L5 (2→3→3→3→3→1) "
        "with ReLU or Leaky ReLU (slopes {slopes}) after fc1–fc4 and sigmoid on the output; "
        "weights N(0, {weight_std:g}²), every bias {bias:g}. BCE, full batch: the norms are "
        "those of the first step's gradient ({seeds} seeds). Trained longer: {epochs:,} epochs "
        "with SGD lr {lr}, {long_seeds} seed(s)."
    ),
    params=[
        Param("bias", -8.0, "initial value of every bias, fc5's included"),
        Param("slopes", [0.01, 0.1, 0.2], "Leaky ReLU negative slopes", min=0, min_open=True),
        Param("weight_std", 0.01, "standard deviation of every weight", min=0, min_open=True),
        Param("seeds", 10, "seeds (data and init) of the first-step norms", min=1, max=200),
        Param("lr", [0.01, 1.0], "SGD learning rates of the longer runs", min=0, min_open=True),
        Param("epochs", 2000, "full-batch epochs of the longer runs", quick=200, min=1),
        Param("long_seeds", 3, "seeds of the longer runs", quick=1, min=1, max=100),
    ],
    length="epochs",
    claims=[
        Claim(
            "With every bias at {bias:g}, every ReLU weight gradient is exactly 0 on every seed "
            "(published: all five 0.0)",
            lambda m, p: bool((np.array(m["grad_norms"]["relu"]) == 0).all()),
        ),
        Claim(
            "Every ReLU hidden unit is ≤ 0 on every training point at init, on every seed",
            lambda m, p: (m["relu_dead_fraction_min"] == 1, {"least": m["relu_dead_fraction_min"]}),
        ),
        Claim(
            "The Monitor finds zero gradients and dead units in the ReLU net",
            lambda m, p: {"zero-gradients", "dead-units"} <= set(m["monitor_kinds"]["relu"]),
        ),
        Claim("Leaky ReLU's gradients are non-zero in every layer, slope and seed", leaky_flows),
        Claim(
            "Leaky ReLU's fc1 gradient grows with the slope (median over seeds)",
            fc1_grows_with_slope,
        ),
        Claim(
            "At slope 0.01 fc5's median gradient is within 0.01 of the published 0.070", book_fc5
        ),
        Claim(
            "Trained longer, ReLU's weights never change at any lr: every weight gradient "
            "stays exactly 0 (only fc5's bias moves)",
            lambda m, p: all(
                max(r["largest_weight_grad"]) == 0 == max(r["hidden_weights_moved"])
                for r in m["longer"]["relu"].values()
            ),
        ),
    ],
    published=[
        *(Published(0.0, BOOK, "ReLU, published", row=layer) for layer in LAYERS),
        *(
            Published(value, BOOK, "Leaky ReLU 0.01, published", row=row)
            for row, value in zip(
                [*LAYERS, "loss"], [2.3e-16, 1.9e-13, 1.7e-9, 1.2e-5, 0.070, 4.05]
            )
        ),
    ],
    answer=answer,
)
def experiment(p, ctx) -> Outcome:
    seeds, long_seeds = ctx.seeds(p.seeds), ctx.seeds(p.long_seeds)
    runs = arms(p)
    first = {
        name: [train_watched(arm, s, 1, p.lr[0], p, ctx) for s in seeds]
        for name, arm in runs.items()
    }
    norms = {name: np.array([r["norms"][0] for r in runs]) for name, runs in first.items()}
    losses = {name: [r["losses"][0] for r in runs] for name, runs in first.items()}
    norm_table = Table(
        f"‖∂L/∂W‖_F per layer after the first full-batch backward, every bias {p.bias:g}; "
        f"ours: median (min–max) over {len(seeds)} seeds",
        ["layer", *(runs[name].label for name in norms)],
        [[layer, *(spread(n[:, i], fmt=".2g") for n in norms.values())]
         for i, layer in enumerate(LAYERS)]
        + [["loss", *(spread(v, fmt=".4g") for v in losses.values())]],
    )  # fmt: skip
    unit_table = Table(
        f"Units ≤ 0 on every training point at init, and the Monitor's findings (seed {seeds[0]})",
        ["run", *(f"{k} units ≤ 0" for k in LAYERS[:4]), "Monitor findings"],
        [[runs[name].label, *r[0]["negative_units"].values(),
          "; ".join(map(str, r[0]["findings"])) or "none"] for name, r in first.items()],
    )  # fmt: skip

    long = {
        (name, lr): [train_watched(arm, s, p.epochs, lr, p, ctx) for s in long_seeds]
        for name, arm in runs.items()
        for lr in p.lr
    }
    long_table = Table(
        f"Trained longer: {p.epochs} full-batch epochs, mean over seeds {long_seeds}",
        ["run", "last loss", "test accuracy: mean (min–max)", "fc1 grad (last, median)",
         "largest change of a hidden weight", "fc1 units ≤ 0"],
        [[f"{runs[name].label}, lr {lr:g}", float(np.mean([r["losses"][-1] for r in rs])),
          spread([r["test_accuracy"] for r in rs], center=np.mean, fmt=".3f"),
          float(np.median([r["norms"][-1][0] for r in rs])),
          max(r["hidden_weights_moved"] for r in rs),
          float(np.mean([r["negative_units"]["fc1"] for r in rs]))]
         for (name, lr), rs in long.items()],
    )  # fmt: skip

    colors = arm_colors(arm.label for arm in runs.values())
    figures = [
        save(
            grad_norm_bars(
                {runs[name].label: dict(zip(LAYERS, np.median(n, axis=0)))
                 for name, n in norms.items()},
                title=f"first-step weight-gradient norms, biases {p.bias:g} "
                f"(median of {len(seeds)} seeds)",
                colors=colors,
            ),
            ctx.out / "dead_relu_grad_norms.png",
        ),
        save(
            curve_panels(
                {f"lr {lr:g}": {a.label: long[name, lr][0]["losses"] for name, a in runs.items()}
                 for lr in p.lr},
                title=f"training loss, biases {p.bias:g} (seed {long_seeds[0]})",
                colors=colors,
                references={"chance level: ln 2 (ŷ = 0.5 everywhere)": float(np.log(2))},
            ),
            ctx.out / "dead_relu_longer_loss.png",
        ),
    ]  # fmt: skip
    return Outcome(
        tables=[norm_table, unit_table, long_table],
        figures=figures,
        metrics={
            "seeds": seeds,
            "grad_norms": {name: n.tolist() for name, n in norms.items()},
            "first_loss": losses,
            "negative_units": {name: runs[0]["negative_units"] for name, runs in first.items()},
            "relu_dead_fraction_min": min(min(r["negative_units"].values()) for r in first["relu"]),
            "monitor_findings": {
                name: [str(f) for f in runs[0]["findings"]] for name, runs in first.items()
            },
            "monitor_kinds": {
                name: sorted({f.kind for f in runs[0]["findings"]}) for name, runs in first.items()
            },
            "longer": {
                name: {
                    lr_key(lr): {
                        "test_accuracy": [r["test_accuracy"] for r in long[name, lr]],
                        "last_loss": [r["losses"][-1] for r in long[name, lr]],
                        "hidden_weights_moved": [r["hidden_weights_moved"] for r in long[name, lr]],
                        "largest_weight_grad": [r["largest_weight_grad"] for r in long[name, lr]],
                    }
                    for lr in p.lr
                }
                for name in runs
            },
        },  # fmt: skip
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
            "The first-step norms do not depend on the learning rate (they are the gradients at "
            "the initial weights); the first step uses the first lr.",
        ],
    )
