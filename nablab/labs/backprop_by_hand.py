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

``config.iterations`` sets the number of gradient-descent rounds of every training run
(default the seed's 1000; quick 250); the number of random inits stays on ``config.quick``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import exp, float64, nn, optim, relu, sigmoid, tensor
from ..nn import functional as F
from ..viz import curves
from .base import LabConfig, LabResult, Table, register, track

X = np.array([0.5, 0.3])
Y = np.array([0.23, -0.07])
W0 = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
NAMES = [f"w{i}" for i in range(1, 9)]
ROUNDS = 1000  # the seed's NumPy training
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
        [
            d_h1 * X[0],
            d_h2 * X[0],
            d_h1 * X[1],
            d_h2 * X[1],
            d_o1 * h1,
            d_o2 * h1,
            d_o1 * h2,
            d_o2 * h2,
        ]
    )


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


LOSSES = {
    "½ Σ (o − y)²": lambda o, y: 0.5 * F.mse_loss(o, y, reduction="sum"),
    "nn.MSELoss()(o, y)": lambda o, y: nn.MSELoss()(o, y),
    "MSELoss(o₁, y₁) + MSELoss(o₂, y₂)": lambda o, y: (
        nn.MSELoss()(o[0:1], y[0:1]) + nn.MSELoss()(o[1:2], y[1:2])
    ),
    "CrossEntropyLoss (targets 0.23, −0.07)": lambda o, y: nn.CrossEntropyLoss()(
        o.reshape(1, 2), y.reshape(1, 2)
    ),
}
HALF_SSE = "½ Σ (o − y)²"


@dataclass
class Run:
    losses: np.ndarray  # (rounds,) loss before each update
    grads: np.ndarray  # (rounds, 8) ∂L/∂w₁…w₈ of each round
    hidden: np.ndarray  # (rounds, 2) h₁, h₂ of each round
    outputs: np.ndarray  # (2,) o₁, o₂ after the last update
    weights: np.ndarray  # (8,) after the last update


def train(w0, step, rounds, activation=sigmoid, loss=HALF_SSE, config=None, label="") -> Run:
    """Gradient descent w ← w − step·∂L/∂w on nablab (optim.SGD), recording every round."""
    params = to_matrices(np.asarray(w0, dtype=float))
    x, y = tensor(X, dtype=float64), tensor(Y, dtype=float64)
    optimizer = optim.SGD(params, lr=step)
    losses, grads, hidden = np.empty(rounds), np.empty((rounds, 8)), np.empty((rounds, 2))
    steps = range(rounds) if config is None else track(range(rounds), rounds, label, config)
    for r in steps:
        h = activation(params[0] @ x)
        value = LOSSES[loss](activation(params[1] @ h), y)
        optimizer.zero_grad()
        value.backward()
        losses[r], hidden[r] = value.item(), h.data
        grads[r] = to_vector(params[0].grad.data, params[1].grad.data)
        optimizer.step()
    outputs = activation(params[1] @ activation(params[0] @ x)).data
    return Run(losses, grads, hidden, outputs, to_vector(params[0].data, params[1].data))


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


def at(losses: np.ndarray, r: int) -> float | None:
    return float(losses[r]) if r < len(losses) else None


@register(
    "backprop-by-hand",
    summary="Back-propagation by hand on the 2-2-2 sigmoid net: formulas vs autodiff vs PyTorch",
    source="seeds/003",
)
def run(config: LabConfig) -> LabResult:
    rounds = config.steps(full=ROUNDS, quick=250)
    forward = hand_forward(W0)
    by_hand, seed_formula = hand_gradients(W0), seed_numpy_gradients(W0)
    by_nablab = train(W0, step=0.0, rounds=1).grads[0]
    by_torch = torch_gradients(W0)
    computed = [by_hand, by_nablab] + ([by_torch] if by_torch is not None else [])
    three_way_gap = float(max(np.abs(a - b).max() for a in computed for b in computed))

    runs: dict[str, tuple[float, Run]] = {}

    def add(name, step, w0=W0, **kwargs):
        runs[name] = (step, train(w0, step, rounds, config=config, label=name, **kwargs))

    for step in (5.0, 1.0, 0.5, 2.0):
        add(f"step {step:g}", step)
    add("hand σ = 1/(1+e⁻ᶻ)", 5.0, activation=hand_sigmoid)
    add("ReLU", 1.0, activation=relu)
    add("nn.MSELoss", 1.0, loss="nn.MSELoss()(o, y)")
    add("seed's 2 × MSELoss", 1.0, loss=list(LOSSES)[2])
    add("cross-entropy", 1.0, loss=list(LOSSES)[3])
    rng = config.rng()
    random_inits = 2 if config.quick else 5
    for k in range(random_inits):
        add(f"U(0,1) init #{k}", 1.0, w0=rng.random(8))
    add("zero init", 1.0, w0=np.zeros(8))
    add("zero init, ReLU", 1.0, w0=np.zeros(8), activation=relu)

    main = runs["step 5"][1]
    hand_sig = runs["hand σ = 1/(1+e⁻ᶻ)"][1]
    sigmoid_gap = float(np.abs(main.losses - hand_sig.losses).max())
    mse_module_gap = float(np.abs(runs["step 1"][1].losses - runs["nn.MSELoss"][1].losses).max())
    seed_sum = runs["seed's 2 × MSELoss"][1]
    seed_sum_vs_step2 = float(np.abs(seed_sum.weights - runs["step 2"][1].weights).max())
    ce = runs["cross-entropy"][1]
    zero = runs["zero init"][1]
    zero_relu = runs["zero init, ReLU"][1]
    zero_first_grads = float(np.abs(zero.grads[0, :4]).max())
    zero_later_grads = float(np.abs(zero.grads[1:, :4]).max()) if rounds > 1 else None
    hidden_equal = bool(
        np.array_equal(zero.hidden[:, 0], zero.hidden[:, 1])
        and np.array_equal(zero.grads[:, 0], zero.grads[:, 1])
        and np.array_equal(zero.grads[:, 2], zero.grads[:, 3])
    )
    relu_zero_stuck = bool(np.all(zero_relu.grads == 0))
    ce_negative_from = np.flatnonzero(ce.losses < 0)
    step_runs = [runs[f"step {s:g}"][1] for s in (0.5, 1, 2, 5)]
    if rounds <= 200:
        convergence = f"only {rounds} rounds were run, so rounds 50 and 200 are not compared."
    elif all(r.losses[200] < r.losses[50] for r in step_runs):
        convergence = (
            "the loss still falls between rounds 50 and 200 at every step size (training "
            "table), toward that floor."
        )
    else:
        convergence = (
            "the loss is flat between rounds 50 and 200 for some step size (training "
            "table), toward that floor."
        )
    relu_run = runs["ReLU"][1]
    relu_frozen = [NAMES[i] for i in range(8) if np.all(relu_run.grads[:, i] == 0)]

    figures = [
        curves(
            {
                **{n: runs[n][1].losses for n in ("step 0.5", "step 1", "step 2", "step 5")},
                f"floor ½·0.07² = {LOSS_FLOOR:.5f}": np.full(rounds, LOSS_FLOOR),
            },
            config.out / "backprop_steps.png",
            logy=True,
            xlabel="round",
            title="L = ½Σ(o − y)² by step size, from the given weights",
        ),
        curves(
            {
                name: runs[name][1].losses
                for name in ("step 1", "ReLU", "zero init", "zero init, ReLU")
                + tuple(f"U(0,1) init #{k}" for k in range(random_inits))
            },
            config.out / "backprop_variants.png",
            logy=True,
            xlabel="round",
            title="Variants at step 1 (loss ½Σ(o − y)²)",
        ),
        curves(
            {"CrossEntropyLoss(softmax(o₁, o₂), [0.23, −0.07])": ce.losses},
            config.out / "backprop_cross_entropy.png",
            xlabel="round",
            ylabel="cross-entropy",
            title="Cross-entropy with a negative 'probability' target goes below 0",
        ),
    ]

    forward_rows = [[k, v] for k, v in forward.items()]
    flipped = [NAMES[i] for i in range(8) if np.sign(seed_formula[i]) != np.sign(by_hand[i])]
    gradient_rows = [
        [
            NAMES[i],
            by_hand[i],
            by_nablab[i],
            None if by_torch is None else by_torch[i],
            float(max(abs(a[i] - b[i]) for a in computed for b in computed)),
            seed_formula[i],
        ]
        for i in range(8)
    ]
    training_rows = [
        [
            name,
            step,
            float(r.losses[0]),
            at(r.losses, 50),
            at(r.losses, 200),
            float(r.losses[-1]),
            float(r.outputs[0]),
            float(r.outputs[1]),
        ]
        for name, (step, r) in runs.items()
    ]
    step_finals = {
        n: float(runs[n][1].losses[-1]) for n in ("step 0.5", "step 1", "step 2", "step 5")
    }
    steps_ordered = bool(np.all(np.diff(list(step_finals.values())) < 0))
    answer = (
        f"At the given weights o₁ = {forward['o1']:.5f}, o₂ = {forward['o2']:.5f}, "
        f"L = {forward['L']:.5f}. The hand-derived gradients, nablab's autodiff"
        + (" and PyTorch's" if by_torch is not None else "")
        + f" agree to {three_way_gap:.1e}. The seed's NumPy formula for w₁…w₄ is wrong "
        f"(off by up to {np.abs(seed_formula - by_hand)[:4].max():.4f}, with the wrong sign "
        f"for {', '.join(flipped) or 'none'}); its w₅…w₈ are right. "
        f"After {rounds} rounds the loss is "
        + ", ".join(f"{v:.5f} ({k})" for k, v in step_finals.items())
        + (": the larger the step, the closer to" if steps_ordered else ": all approach")
        + f" the floor {LOSS_FLOOR:.5f} that a sigmoid output "
        f"cannot pass, since y₂ = −0.07 < 0. All-zero init: ∂L/∂w₁…w₄ are exactly 0 in the "
        "first round (w₅…w₈ = 0 stop the backward signal)"
        + (
            f", then non-zero (up to {zero_later_grads:.4f}) but "
            if zero_later_grads is not None
            else " (the only round run), and "
        )
        + (
            "always equal for the two hidden units: h₁ = h₂ in every round"
            if hidden_equal
            else "NOT equal"
        )
        + " — symmetry, not vanishing. With ReLU from the given weights h₂ and o₂ start "
        "with negative pre-activations and output 0 for good: "
        + (", ".join(relu_frozen) or "no weight")
        + f" never move, o₁ alone fits y₁ (o₁ = {relu_run.outputs[0]:.4f}) and the loss ends at "
        f"{relu_run.losses[-1]:.5f}. "
        + (
            "With ReLU the zero init is a dead end: every gradient is exactly 0 in every round."
            if relu_zero_stuck
            else "With ReLU the zero init trains."
        )
    )
    overridden = (
        [f"iterations overridden: {rounds} rounds instead of the seed's {ROUNDS:,}."]
        if config.iterations not in (None, ROUNDS)
        else []
    )
    return LabResult(
        question=(
            "Do the hand-derived back-propagation formulas give the same gradients as autodiff, "
            "and how do step size, activation, loss and initialisation change the training?"
        ),
        setting=(
            "seeds/003's network: x = (0.5, 0.3), y = (0.23, −0.07), hidden and output layers "
            "of two sigmoid units without biases, L = ½(o₁−y₁)² + ½(o₂−y₂)², weights w₁…w₈ = "
            "0.2, −0.4, 0.5, 0.6, 0.1, −0.5, −0.3, 0.8, float64. Gradient descent for "
            f"{rounds} rounds with step 5 (the seed's NumPy code), 1 (its PyTorch code), 0.5 "
            "and 2; the variants use step 1 unless named. Random inits draw w from U(0, 1) "
            "(torch.rand, as in the seed)."
        ),
        tables=[
            Table(
                "Forward pass at the given weights",
                ["quantity", "value"],
                forward_rows,
            ),
            Table(
                "∂L/∂w three ways (and the seed's NumPy formula)",
                [
                    "weight",
                    "hand formulas (NumPy)",
                    "nablab autodiff",
                    "PyTorch",
                    "max |difference|",
                    "seed's NumPy formula",
                ],
                gradient_rows,
            ),
            Table(
                f"Training runs ({rounds} rounds; loss before round 0, 50, 200 and after the last)",
                ["run", "step", "L₀", "L₅₀", "L₂₀₀", "L end", "o1", "o2"],
                training_rows,
            ),
        ],
        figures=figures,
        answer=answer,
        metrics={
            "forward": forward,
            "grad_hand": by_hand,
            "grad_nablab": by_nablab,
            "grad_torch": by_torch,
            "three_way_max_difference": three_way_gap,
            "seed_formula_max_error": float(np.abs(seed_formula - by_hand).max()),
            "final_loss": step_finals,
            "hand_vs_library_sigmoid_max_loss_difference": sigmoid_gap,
            "mse_module_vs_half_sse_max_difference": mse_module_gap,
            "seed_mse_sum_step1_vs_half_sse_step2_max_weight_difference": seed_sum_vs_step2,
            "cross_entropy_min": float(ce.losses.min()),
            "cross_entropy_first_negative_round": int(ce_negative_from[0])
            if ce_negative_from.size
            else None,
            "zero_init_first_round_w1_w4_max_abs_grad": zero_first_grads,
            "zero_init_later_w1_w4_max_abs_grad": zero_later_grads,
            "zero_init_hidden_units_equal": hidden_equal,
            "zero_init_relu_all_gradients_zero": relu_zero_stuck,
            "relu_frozen_weights": relu_frozen,
            "rounds": rounds,
        },
        notes=[
            "The seed's NumPy back_propagate computes d_w1 = (d_w5 + d_w6)·h1(1−h1)·x1, i.e. "
            "(δ_o1 + δ_o2)·h1 where the chain rule needs δ_o1·w5 + δ_o2·w6 (and likewise for "
            "w2…w4): its w1…w4 gradients are wrong (column 'seed's NumPy formula'), so its "
            "NumPy training is not gradient descent on L. Its PyTorch version is right.",
            "y₂ = −0.07 is outside the sigmoid's range: L cannot go below ½·0.07² = "
            f"{LOSS_FLOOR:.5f}. The seed reports that for steps 0.5 and 2 the error and the "
            "weights are the same at rounds 50 and 200 (converged); here " + convergence,
            "nn.MSELoss on the 2-vector is the mean, ½Σ(o − y)², exactly the seed's L. The "
            "seed's variant adds two MSELoss calls, Σ(o − y)² = 2L: its gradients are doubled, "
            "so step 1 with it is step 2 with L (largest weight difference after "
            f"{rounds} rounds: {seed_sum_vs_step2:.1e}). The seed's 'MSELoss does worse than "
            "NumPy' compares this effective step 2 with its NumPy run's step 5 (and that "
            "run's wrong w1…w4 gradients).",
            "The seed's cross-entropy variant feeds the sigmoid outputs as logits and "
            "(0.23, −0.07) as class probabilities. Those are not probabilities (negative, sum "
            "0.16), so −Σ q_c ln softmax(o)_c is not a cross-entropy: its +0.07·ln p₂ term "
            "rewards p₂ → 0 and the loss goes negative (minimum here "
            f"{ce.losses.min():.4f}); its minimum says nothing about fitting y. A softmax of the "
            "output does not fix the target.",
            "The seed calls the all-zero init's behaviour 'vanishing gradients'. With sigmoid "
            "the hidden-layer gradients are 0 only in the first round; after that both hidden "
            "units receive identical updates and stay identical forever (symmetry). With "
            "ReLU (whose derivative at 0 is taken as 0, as in PyTorch) every unit outputs 0 and "
            "every gradient is 0 in every round — a stationary point, not vanishing.",
            "The seed's random-init listing also switches to ReLU, cross-entropy and step 2, "
            "so its comparison changes four things at once; the lab changes only the init.",
            "Replacing the hand-written sigmoid by the library's changes nothing but rounding "
            f"(largest loss difference over the run {sigmoid_gap:.1e}); the seed's claim of a "
            "speed-up is not measured here.",
        ]
        + overridden,
    )
