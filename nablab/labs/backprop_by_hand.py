"""backprop-by-hand — seeds/003: back-propagation worked by hand on a 2-2-2 sigmoid network.

Inputs x₁ = 0.5, x₂ = 0.3; targets y₁ = 0.23, y₂ = −0.07; no biases:

    h₁ = σ(w₁x₁ + w₃x₂),  h₂ = σ(w₂x₁ + w₄x₂),  o₁ = σ(w₅h₁ + w₇h₂),  o₂ = σ(w₆h₁ + w₈h₂),
    L = ½(o₁ − y₁)² + ½(o₂ − y₂)².

The chain rule, with δ for ∂L/∂(pre-activation):

    δ_o1 = (o₁ − y₁) o₁(1 − o₁),          δ_o2 = (o₂ − y₂) o₂(1 − o₂),
    ∂L/∂w₅ = δ_o1 h₁,  ∂L/∂w₇ = δ_o1 h₂,   ∂L/∂w₆ = δ_o2 h₁,  ∂L/∂w₈ = δ_o2 h₂,
    δ_h1 = (δ_o1 w₅ + δ_o2 w₆) h₁(1 − h₁),  δ_h2 = (δ_o1 w₇ + δ_o2 w₈) h₂(1 − h₂),
    ∂L/∂w₁ = δ_h1 x₁,  ∂L/∂w₃ = δ_h1 x₂,   ∂L/∂w₂ = δ_h2 x₁,  ∂L/∂w₄ = δ_h2 x₂.

On nablab the weights are two matrices, W_h = [[w₁, w₃], [w₂, w₄]] and
W_o = [[w₅, w₇], [w₆, w₈]], and the network is o = σ(W_o σ(W_h x)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import exp, float64, nn, optim, tensor
from ..nn import functional as F
from ..viz import arm_colors, curves, save
from .base import Table
from .declaration import Claim, Outcome, lab
from .params import Param
from .recipes import ACTIVATION_NAMES, activation
from .training import train as train_loop

X = np.array([0.5, 0.3])
Y = np.array([0.23, -0.07])
W0 = [0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]
NAMES = [f"w{i}" for i in range(1, 9)]
LOSS_FLOOR = 0.5 * Y[1] ** 2  # σ > 0 > y₂: o₂ → 0 is the best a sigmoid can do


def hand_forward(w: np.ndarray) -> dict[str, float]:
    """h₁, h₂, o₁, o₂ and L from the formulas, in NumPy."""
    w1, w2, w3, w4, w5, w6, w7, w8 = w

    def s(z):
        return 1 / (1 + np.exp(-z))

    h1, h2 = s(w1 * X[0] + w3 * X[1]), s(w2 * X[0] + w4 * X[1])
    o1, o2 = s(w5 * h1 + w7 * h2), s(w6 * h1 + w8 * h2)
    loss = 0.5 * (o1 - Y[0]) ** 2 + 0.5 * (o2 - Y[1]) ** 2
    return {"h1": h1, "h2": h2, "o1": o1, "o2": o2, "L": loss}


def hand_gradients(w: np.ndarray) -> np.ndarray:
    """∂L/∂w₁…∂L/∂w₈ from the hand-derived formulas of the module docstring."""
    f = hand_forward(w)
    h1, h2, o1, o2 = f["h1"], f["h2"], f["o1"], f["o2"]
    d_o1, d_o2 = (o1 - Y[0]) * o1 * (1 - o1), (o2 - Y[1]) * o2 * (1 - o2)
    d_h1 = (d_o1 * w[4] + d_o2 * w[5]) * h1 * (1 - h1)
    d_h2 = (d_o1 * w[6] + d_o2 * w[7]) * h2 * (1 - h2)
    return np.array(
        [d_h1 * X[0], d_h2 * X[0], d_h1 * X[1], d_h2 * X[1], d_o1 * h1, d_o2 * h1, d_o1 * h2,
         d_o2 * h2]
    )  # fmt: skip


def seed_numpy_gradients(w: np.ndarray) -> np.ndarray:
    """The seed's NumPy back_propagate as written: w₁…w₄ use (∂L/∂w₅ + ∂L/∂w₆), not δ·w."""
    f = hand_forward(w)
    h1, h2, o1, o2 = f["h1"], f["h2"], f["o1"], f["o2"]
    d_w5, d_w7 = (o1 - Y[0]) * o1 * (1 - o1) * h1, (o1 - Y[0]) * o1 * (1 - o1) * h2
    d_w6, d_w8 = (o2 - Y[1]) * o2 * (1 - o2) * h1, (o2 - Y[1]) * o2 * (1 - o2) * h2
    d_w1, d_w3 = (d_w5 + d_w6) * h1 * (1 - h1) * X[0], (d_w5 + d_w6) * h1 * (1 - h1) * X[1]
    d_w2, d_w4 = (d_w7 + d_w8) * h2 * (1 - h2) * X[0], (d_w7 + d_w8) * h2 * (1 - h2) * X[1]
    return np.array([d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8])


def to_matrices(w: np.ndarray) -> list:
    """w₁…w₈ as the float64 leaves W_h = [[w₁, w₃], [w₂, w₄]], W_o = [[w₅, w₇], [w₆, w₈]]."""
    return [
        tensor([[w[0], w[2]], [w[1], w[3]]], dtype=float64, requires_grad=True),
        tensor([[w[4], w[6]], [w[5], w[7]]], dtype=float64, requires_grad=True),
    ]


def to_vector(Wh: np.ndarray, Wo: np.ndarray) -> np.ndarray:
    """The inverse of to_matrices, on arrays: (w₁, …, w₈)."""
    return np.array(
        [Wh[0, 0], Wh[1, 0], Wh[0, 1], Wh[1, 1], Wo[0, 0], Wo[1, 0], Wo[0, 1], Wo[1, 1]]
    )


def hand_sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)) from nablab's elementary ops, as the seed writes it."""
    return 1 / (1 + exp(-z))


HALF_SSE, MSE_MODULE, SEED_SUM, CROSS_ENTROPY = (
    "½ Σ (o − y)²", "nn.MSELoss()(o, y)", "MSELoss(o₁, y₁) + MSELoss(o₂, y₂)",
    "CrossEntropyLoss (targets 0.23, −0.07)",
)  # fmt: skip
LOSSES = {
    HALF_SSE: lambda o, y: 0.5 * F.mse_loss(o, y, reduction="sum"),
    MSE_MODULE: lambda o, y: nn.MSELoss()(o, y),
    SEED_SUM: lambda o, y: nn.MSELoss()(o[0:1], y[0:1]) + nn.MSELoss()(o[1:2], y[1:2]),
    CROSS_ENTROPY: lambda o, y: nn.CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2)),
}


@dataclass
class Run:
    step: float
    losses: np.ndarray  # (rounds,) loss before each update
    grads: np.ndarray  # (rounds, 8) ∂L/∂w₁…w₈ of each round
    hidden: np.ndarray  # (rounds, 2) h₁, h₂ of each round
    outputs: np.ndarray  # (2,) o₁, o₂ after the last update
    weights: np.ndarray  # (8,) after the last update


def train(w0, step, rounds, ctx, label="", act="sigmoid", loss=HALF_SSE) -> Run:
    """Gradient descent w ← w − step·∂L/∂w on nablab (optim.SGD), recording every round;
    ``act`` is an activation's name or a function of a Tensor."""
    f = act if callable(act) else activation(act)
    params = to_matrices(np.asarray(w0, dtype=float))
    x, y = tensor(X, dtype=float64), tensor(Y, dtype=float64)
    optimizer = optim.SGD(params, lr=step)
    grads, hidden = [], []

    def one_round(r):
        h = f(params[0] @ x)
        value = LOSSES[loss](f(params[1] @ h), y)
        optimizer.zero_grad()
        value.backward()
        hidden.append(h.array.copy())
        grads.append(to_vector(params[0].grad.array, params[1].grad.array))
        optimizer.step()
        return value

    losses = train_loop(one_round, rounds, ctx, label, stop_when_not_finite=False).array()
    outputs = f(params[1] @ f(params[0] @ x)).array
    weights = to_vector(params[0].array, params[1].array)
    return Run(step, losses, np.array(grads), np.array(hidden), outputs, weights)


def at(run: Run, r: int) -> float | None:
    """The loss before round r (after the last round for r = −1), None past the run."""
    return float(run.losses[r]) if r < len(run.losses) else None


def torch_gradients(w: np.ndarray) -> np.ndarray | None:
    """∂L/∂w₁…w₈ from PyTorch's autograd in float64, or None where torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    ws = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in w]
    w1, w2, w3, w4, w5, w6, w7, w8 = ws
    x1, x2, y1, y2 = (torch.tensor(v, dtype=torch.float64) for v in (*X, *Y))
    h1, h2 = torch.sigmoid(w1 * x1 + w3 * x2), torch.sigmoid(w2 * x1 + w4 * x2)
    o1, o2 = torch.sigmoid(w5 * h1 + w7 * h2), torch.sigmoid(w6 * h1 + w8 * h2)
    (0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2).backward()
    return np.array([v.grad.item() for v in ws])


def _below(key, limit):
    """A check: the difference ``gaps[key]`` is below ``limit`` (None where it was not run)."""

    def check(m, p):
        gap = m["gaps"][key]
        return None if gap is None else (gap < limit, {key: gap})

    return check


def _steps_ordered(m, p):
    finals = {f"step {s:g}": m["final_loss"][f"step_{s:g}"] for s in sorted(set(p.steps))}
    return bool(np.all(np.diff(list(finals.values())) < 0)), finals


def _still_falls(m, p):
    return None if p.rounds <= 200 else all(m["loss_200_below_loss_50"].values())


def _relu_dead_units(m, p):
    frozen = m["relu_frozen_weights"]
    return None if p.activation != "relu" else (len(frozen) > 0, {"frozen weights": len(frozen)})


def _zero_init_stuck(m, p):
    if float(activation(p.activation)(tensor(0.0, dtype=float64)).item()) != 0:
        return None  # act(0) ≠ 0: the hidden units are not all 0
    return m["zero_init_act_all_gradients_zero"]


def _zero_init_symmetric(m, p):
    first, later = m["zero_init_w1_w4_max_abs_grad"]
    holds = first == 0 and m["zero_init_hidden_units_equal"] and (later is None or later > 0)
    return holds, {"first round": first, "later rounds": later or 0.0}


def answer(m: dict, p) -> str:
    f, o = m["forward"], m["variant_outputs"]
    finals = ", ".join(f"{v:.5f} ({k.replace('_', ' ')})" for k, v in m["final_loss"].items())
    return (
        f"At the given weights o₁ = {f['o1']:.5f}, o₂ = {f['o2']:.5f}, L = {f['L']:.5f}; the "
        f"three gradients agree to {m['gaps']['three_ways']:.1e} while the seed's NumPy "
        f"formula is off by up to {m['seed_formula_max_error']:.4f} (wrong sign for "
        f"{', '.join(m['seed_formula_wrong_sign']) or 'none'}). After {p.rounds} rounds the "
        f"loss is {finals}, against the floor {LOSS_FLOOR:.5f}. With {p.activation} in place "
        f"of the sigmoid, o = ({o[0]:.4f}, {o[1]:.4f}) and the loss ends at "
        f"{m['variant_final_loss']:.5f}; the seed's cross-entropy reaches "
        f"{m['cross_entropy_min']:.4f}."
    )


@lab(
    "backprop-by-hand",
    summary="Back-propagation by hand on the 2-2-2 sigmoid net: formulas vs autodiff vs PyTorch",
    source="seeds/003",
    question=(
        "Do the hand-derived back-propagation formulas give the same gradients as autodiff, "
        "and how do step size, activation, loss and initialisation change the training?"
    ),
    setting=lambda m, p: (
        "seeds/003's network: x = (0.5, 0.3), y = (0.23, −0.07), hidden and output layers "
        "of two sigmoid units without biases, L = ½(o₁−y₁)² + ½(o₂−y₂)², weights w₁…w₈ = "
        f"{', '.join(f'{w:g}' for w in p.weights)}, float64. Gradient descent for {p.rounds} "
        f"rounds with steps {', '.join(f'{s:g}' for s in p.steps)} (the seed's NumPy code "
        f"uses 5, its PyTorch code 1); the variants use step {p.step:g}, and the activation "
        f"variant {p.activation}. {p.random_inits} random inits draw w from U(0, 1) "
        "(torch.rand, as in the seed)."
    ),
    params=[
        Param("rounds", 1000, "gradient-descent rounds of every run", quick=250, min=1),
        Param("steps", [5.0, 1.0, 0.5, 2.0], "step sizes compared", min=0, min_open=True),
        Param("step", 1.0, "step size of the variants", min=0, min_open=True),
        Param("weights", W0, "initial w₁…w₈", size=8),
        Param("activation", "relu", "the variant's activation", choices=ACTIVATION_NAMES),
        Param("random_inits", 5, "runs from U(0, 1) inits", quick=2, min=0, max=100),
    ],
    length="rounds",
    claims=[
        Claim(
            "The hand-derived gradients, nablab's autodiff and PyTorch's (where installed) "
            "agree to 1e-10",
            _below("three_ways", 1e-10),
        ),
        Claim(
            "The seed's NumPy formula for w₁…w₄ is wrong (off by over 1e-3); its w₅…w₈ are right",
            lambda m, p: (
                m["seed_formula_error"][0] > 1e-3 and m["seed_formula_error"][1] == 0,
                {"w1…w4": m["seed_formula_error"][0]},
            ),
        ),
        Claim("The larger the step, the lower the loss after {rounds} rounds", _steps_ordered),
        Claim(
            "No run passes the floor ½·0.07² = 0.00245 that a sigmoid output cannot go below "
            "(y₂ = −0.07 < 0)",
            lambda m, p: (m["lowest_half_sse"] > LOSS_FLOOR, {"lowest": m["lowest_half_sse"]}),
        ),
        Claim(
            "Unlike the seed's 'converged at round 50', the loss still falls between rounds 50 "
            "and 200 at every step size",
            _still_falls,
        ),
        Claim(
            "The sigmoid written by hand gives the library's run up to rounding (< 1e-12)",
            _below("hand_sigmoid", 1e-12),
        ),
        Claim(
            "nn.MSELoss on the 2-vector is ½Σ(o − y)² (the seed's L) to rounding",
            _below("mse_module", 1e-15),
        ),
        Claim(
            "The seed's two MSELoss calls double the gradient: step {step:g} with them is step "
            "2·{step:g} with L",
            _below("double_mse_at_double_step", 1e-12),
        ),
        Claim(
            "The seed's cross-entropy with a negative target goes below 0",
            lambda m, p: (m["cross_entropy_min"] < 0, {"minimum": m["cross_entropy_min"]}),
        ),
        Claim(
            "All-zero init: ∂L/∂w₁…w₄ are exactly 0 in the first round only, and the two hidden "
            "units stay equal in every round — symmetry, not vanishing",
            _zero_init_symmetric,
        ),
        Claim(
            "With ReLU from the given weights, units with a negative pre-activation output 0 "
            "for good: some weights never move",
            _relu_dead_units,
        ),
        Claim(
            "With {activation} (act(0) = 0) the all-zero init is a dead end: every gradient is "
            "exactly 0 in every round",
            _zero_init_stuck,
        ),
    ],
    answer=answer,
)
def experiment(p, ctx) -> Outcome:
    w0 = np.array(p.weights)
    by_hand, seed_formula = hand_gradients(w0), seed_numpy_gradients(w0)
    by_nablab, by_torch = train(w0, 0.0, 1, ctx).grads[0], torch_gradients(w0)
    computed = np.stack([by_hand, by_nablab] + ([by_torch] if by_torch is not None else []))
    spread = np.ptp(computed, axis=0)  # the largest difference between two of the methods

    runs: dict[str, Run] = {}  # by identifier (metrics, results.json); labels[id] for display
    labels: dict[str, str] = {}

    def add(key, label, step, w=w0, **kwargs):
        runs[key], labels[key] = train(w, step, p.rounds, ctx, label, **kwargs), label

    for step in dict.fromkeys([*p.steps, p.step]):
        add(f"step_{step:g}", f"step {step:g}", step)
    add("hand_sigmoid", "hand σ = 1/(1+e⁻ᶻ)", p.step, act=hand_sigmoid)
    add("activation", p.activation, p.step, act=p.activation)
    add("mse_module", "nn.MSELoss", p.step, loss=MSE_MODULE)
    add("double_mse", "seed's 2 × MSELoss", p.step, loss=SEED_SUM)
    add("cross_entropy", "cross-entropy", p.step, loss=CROSS_ENTROPY)
    for k in range(p.random_inits):
        add(f"uniform_init_{k}", f"U(0,1) init #{k}", p.step, w=ctx.rng.random(8))
    add("zero_init", "zero init", p.step, w=np.zeros(8))
    add("zero_init_activation", f"zero init, {p.activation}", p.step, w=np.zeros(8),
        act=p.activation)  # fmt: skip

    reference, zero, variant = runs[f"step_{p.step:g}"], runs["zero_init"], runs["activation"]
    double = runs.get(f"step_{2 * p.step:g}")
    by_step = {f"step_{s:g}": runs[f"step_{s:g}"] for s in p.steps}
    half_sse = [r for n, r in runs.items() if n.startswith(("step", "uniform", "hand", "zero"))]
    error = np.abs(seed_formula - by_hand)
    metrics = {
        "forward": hand_forward(w0),
        "grad_hand": by_hand,
        "grad_nablab": by_nablab,
        "grad_torch": by_torch,
        "gaps": {
            "three_ways": spread.max(),  # hand, nablab and torch gradients
            "hand_sigmoid": np.abs(reference.losses - runs["hand_sigmoid"].losses).max(),
            "mse_module": np.abs(reference.losses - runs["mse_module"].losses).max(),
            "double_mse_at_double_step": None if double is None
            else np.abs(runs["double_mse"].weights - double.weights).max(),
        },
        "seed_formula_max_error": error.max(),
        "seed_formula_error": [error[:4].max(), error[4:].max()],  # w₁…w₄, w₅…w₈
        "seed_formula_wrong_sign": [n for n, e in zip(NAMES, seed_formula * by_hand) if e < 0],
        "final_loss": {n: r.losses[-1] for n, r in by_step.items()},
        "loss_200_below_loss_50": {n: p.rounds > 200 and at(r, 200) < at(r, 50)
                                   for n, r in by_step.items()},
        "lowest_half_sse": min(r.losses.min() for r in half_sse),
        "cross_entropy_min": runs["cross_entropy"].losses.min(),
        "zero_init_w1_w4_max_abs_grad": [np.abs(zero.grads[0, :4]).max(),  # first round, later
                                         np.abs(zero.grads[1:, :4]).max() if p.rounds > 1
                                         else None],
        "zero_init_hidden_units_equal": np.array_equal(zero.hidden[:, 0], zero.hidden[:, 1])
        and np.array_equal(zero.grads[:, [0, 2]], zero.grads[:, [1, 3]]),
        "zero_init_act_all_gradients_zero": not runs["zero_init_activation"].grads.any(),
        "relu_frozen_weights": [n for n, g in zip(NAMES, variant.grads.T) if np.all(g == 0)],
        "variant_outputs": variant.outputs,
        "variant_final_loss": variant.losses[-1],
    }  # fmt: skip

    steps = {labels[n]: by_step[n].losses for n in sorted(by_step, key=lambda n: by_step[n].step)}
    floor = {f"floor ½·0.07² = {LOSS_FLOOR:.5f}": np.full(p.rounds, LOSS_FLOOR)}
    variants = [
        f"step_{p.step:g}",
        "activation",
        *(n for n in runs if n.startswith(("zero", "uniform"))),
    ]
    drawn = dict.fromkeys([*steps, *floor, *(labels[n] for n in variants)])
    colors = arm_colors(drawn)  # a run drawn in both figures keeps its colour
    figures = [
        save(
            curves(
                {**steps, **floor},
                colors=colors,
                logy=True,
                xlabel="round",
                title="L = ½Σ(o − y)² by step size, from the given weights",
            ),
            ctx.out / "backprop_steps.png",
        ),
        save(
            curves(
                {labels[n]: runs[n].losses for n in variants},
                colors=colors,
                logy=True,
                xlabel="round",
                title=f"Variants at step {p.step:g} (loss ½Σ(o − y)²)",
            ),
            ctx.out / "backprop_variants.png",
        ),
        save(
            curves(
                {"CrossEntropyLoss(softmax(o₁, o₂), [0.23, −0.07])": runs["cross_entropy"].losses},
                xlabel="round",
                ylabel="cross-entropy",
                title="Cross-entropy with a negative 'probability' target goes below 0",
            ),
            ctx.out / "backprop_cross_entropy.png",
        ),
    ]
    torch_column = by_torch if by_torch is not None else [None] * 8
    tables = [
        Table("Forward pass at the given weights", ["quantity", "value"],
              [list(kv) for kv in metrics["forward"].items()]),
        Table("∂L/∂w three ways (and the seed's NumPy formula)",
              ["weight", "hand formulas (NumPy)", "nablab autodiff", "PyTorch",
               "max |difference|", "seed's NumPy formula"],
              [list(r) for r in zip(NAMES, by_hand, by_nablab, torch_column, spread,
                                    seed_formula)]),
        Table(f"Training runs ({p.rounds} rounds; loss before round 0, 50, 200 and after the "
              "last)", ["run", "step", "L₀", "L₅₀", "L₂₀₀", "L end", "o1", "o2"],
              [[labels[key], r.step, *(at(r, i) for i in (0, 50, 200, -1)), *r.outputs]
               for key, r in runs.items()]),
    ]  # fmt: skip
    return Outcome(
        tables=tables,
        figures=figures,
        metrics=metrics,
        notes=[
            "The seed's NumPy back_propagate computes d_w1 = (d_w5 + d_w6)·h1(1−h1)·x1, i.e. "
            "(δ_o1 + δ_o2)·h1 where the chain rule needs δ_o1·w5 + δ_o2·w6 (and likewise for "
            "w2…w4): its w1…w4 gradients are wrong (column 'seed's NumPy formula'), so its "
            "NumPy training is not gradient descent on L. Its PyTorch version is right.",
            "y₂ = −0.07 is outside the sigmoid's range: L cannot go below ½·0.07² = "
            f"{LOSS_FLOOR:.5f}. The seed reports that for steps 0.5 and 2 the error and the "
            "weights are the same at rounds 50 and 200 (converged); compare the columns L₅₀ "
            "and L₂₀₀ of the training table.",
            "nn.MSELoss on the 2-vector is the mean, ½Σ(o − y)², exactly the seed's L. The "
            "seed's variant adds two MSELoss calls, Σ(o − y)² = 2L: its gradients are doubled, "
            "so step 1 with it is step 2 with L. The seed's 'MSELoss does worse than "
            "NumPy' compares this effective step 2 with its NumPy run's step 5 (and that "
            "run's wrong w1…w4 gradients).",
            "The seed's cross-entropy variant feeds the sigmoid outputs as logits and "
            "(0.23, −0.07) as class probabilities. Those are not probabilities (negative, sum "
            "0.16), so −Σ q_c ln softmax(o)_c is not a cross-entropy: its +0.07·ln p₂ term "
            "rewards p₂ → 0 and the loss goes negative; its minimum says nothing about fitting "
            "y. A softmax of the output does not fix the target.",
            "The seed calls the all-zero init's behaviour 'vanishing gradients'. With sigmoid "
            "the hidden-layer gradients are 0 only in the first round (w₅…w₈ = 0 stop the "
            "backward signal); after that both hidden units receive identical updates and stay "
            "identical forever (symmetry). With ReLU (whose derivative at 0 is taken as 0, as "
            "in PyTorch) every unit outputs 0 and every gradient is 0 in every round — a "
            "stationary point, not vanishing.",
            "The seed's random-init listing also switches to ReLU, cross-entropy and step 2, "
            "so its comparison changes four things at once; the lab changes only the init.",
            "Replacing the hand-written sigmoid by the library's changes nothing but rounding; "
            "the seed's claim of a speed-up is not measured here.",
        ],
    )
