"""bias-penalty — seeds/000 exercise 4-7: why is the bias left out of the ℓ2 penalty?

The regularization lab's setting (make_moons(300, noise 0.5), 200 train / 100 test, MLP_3L
[2, 20, 3, 1] with ReLU, N(0, 1) weights, zero biases, BCE with logits, full-batch gradient
descent lr 0.2), with R = L + λ/(2N)·Ω for several λ, where Ω = Σ W² (weights only, as
nn.l2_penalty by default) or Σ W² + Σ b² (include_bias=True). A bias shifts a unit's input
alike for every sample: it adds no curvature, so shrinking it should not fight over-fitting,
only pull the units' thresholds toward 0.

`iterations` sets the number of gradient steps of every run (full 50,000, quick 1,500).
"""

from __future__ import annotations

import numpy as np

from ..viz import curves
from .base import LabConfig, LabResult, Table, register
from .nndl import mean_spread, mlp_3l, moons_per_seed, train_mlp_3l

FULL = {"seeds": 10, "iterations": 50_000, "lambdas": (0.7, 2.0, 5.0)}
QUICK = {"seeds": 2, "iterations": 1_500, "lambdas": (0.7, 5.0)}


def squared_norms(model, seeds: int, bias: bool) -> np.ndarray:
    """Σ b² (bias=True) or Σ W² per seed copy of a seed-batched model."""
    total = np.zeros(seeds)
    for name, p in model.named_parameters():
        if name.rsplit(".", 1)[-1].startswith("bias") == bias:
            total += (p.data.reshape(seeds, -1).astype(np.float64) ** 2).sum(axis=1)
    return total


def _stderr(values) -> float:
    values = np.asarray(values)
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


@register(
    "bias-penalty",
    summary="ℓ2 on weights only vs on weights and biases: train/test accuracy for several λ",
    source="seeds/000 ex. 4-7",
)
def run(config: LabConfig) -> LabResult:
    plan = QUICK if config.quick else FULL
    seeds = [config.seed + k for k in range(plan["seeds"])]
    iterations = config.steps(full=FULL["iterations"], quick=QUICK["iterations"])
    lambdas = plan["lambdas"]
    batch = moons_per_seed(seeds)
    runs = {}
    for lam in (0.0, *lambdas):
        for include_bias in (False, True) if lam else (False,):
            model = mlp_3l(seeds)
            result = train_mlp_3l(
                model, batch, iterations, config, l2=lam, include_bias=include_bias,
                description=f"λ {lam}, {'W and b' if include_bias else 'W only'}",
            )  # fmt: skip
            runs[(lam, include_bias)] = (
                result,
                squared_norms(model, len(seeds), bias=False),
                squared_norms(model, len(seeds), bias=True),
            )

    rows = []
    for (lam, include_bias), (r, w2, b2) in runs.items():
        rows.append(
            [lam, "—" if lam == 0 else ("W and b" if include_bias else "W only"),
             mean_spread(r.train_accuracy), mean_spread(r.test_accuracy), mean_spread(r.gap),
             float(w2.mean()), float(b2.mean())]
        )  # fmt: skip
    table = Table(
        f"Final accuracy over {len(seeds)} seeds, {iterations:,} iterations: mean (min–max)",
        ["λ", "penalised", "train", "test", "train − test", "Σ W² (mean)", "Σ b² (mean)"],
        rows,
    )
    effect_rows, effects = [], {}
    for lam in lambdas:
        w_only, with_b = runs[(lam, False)][0], runs[(lam, True)][0]
        d_train = with_b.train_accuracy - w_only.train_accuracy
        d_test = with_b.test_accuracy - w_only.test_accuracy
        d_gap = with_b.gap - w_only.gap
        effects[lam] = {"train": d_train, "test": d_test, "gap": d_gap}
        effect_rows.append(
            [lam, mean_spread(d_train), mean_spread(d_test), mean_spread(d_gap),
             f"{int((d_gap < 0).sum())}/{len(seeds)}"]
        )  # fmt: skip
    effect_table = Table(
        "Adding the biases to the penalty, same seed: (W and b) − (W only)",
        ["λ", "Δ train accuracy", "Δ test accuracy", "Δ gap", "seeds with a narrower gap"],
        effect_rows,
    )

    figure = curves(
        {
            f"{split}, {label}": (
                np.array(lambdas),
                np.array([getattr(runs[(lam, inc)][0], f"{split}_accuracy").mean()
                          for lam in lambdas]),
            )
            for split in ("train", "test")
            for inc, label in ((False, "W only"), (True, "W and b"))
        },
        config.out / "bias_penalty_accuracy.png",
        xlabel="λ",
        ylabel=f"accuracy (mean of {len(seeds)} seeds)",
        title="ℓ2 penalty on weights only vs on weights and biases",
    )  # fmt: skip

    mean_train = np.mean([e["train"].mean() for e in effects.values()])
    mean_gap = np.mean([e["gap"].mean() for e in effects.values()])
    mean_test = np.mean([e["test"].mean() for e in effects.values()])
    answer = (
        "Penalising the biases too changes the train accuracy by "
        + ", ".join(f"{e['train'].mean():+.3f} (λ {lam:g})" for lam, e in effects.items())
        + ", the test accuracy by "
        + ", ".join(f"{e['test'].mean():+.3f}" for e in effects.values())
        + " and the train–test gap by "
        + ", ".join(f"{e['gap'].mean():+.3f}" for e in effects.values())
        + f" (means over {len(seeds)} seeds), although the penalty does reach the biases: "
        "Σ b² falls from "
        + ", ".join(
            f"{runs[(lam, False)][2].mean():.3g} to {runs[(lam, True)][2].mean():.3g}"
            for lam in lambdas
        )
        + ". "
        + (
            "It costs train accuracy (more under-fitting)"
            if mean_train < 0
            else "It does not cost train accuracy on average"
        )
        + (
            " and does not narrow the gap"
            if mean_gap >= 0
            else f" and narrows the gap by {-mean_gap:.3f} on average"
        )
        + f"; the test accuracy changes by {mean_test:+.3f} on average. "
        + (
            "Every one of these gap differences is within two standard errors of 0 (seed-to-seed "
            "noise)"
            if all(abs(e["gap"].mean()) < 2 * _stderr(e["gap"]) for e in effects.values())
            else "Some gap differences exceed two standard errors of their mean"
        )
        + "; the model has 24 biases against 103 weights."
    )  # fmt: skip
    return LabResult(
        question="Should the ℓ2 penalty include the biases?",
        setting=(
            "The regularization lab's setting: make_moons(300, noise 0.5) (random_state = seed), "
            "200 train / 100 test; MLP_3L [2, 20, 3, 1], ReLU, logits, W ~ N(0,1), b = 0; BCE with "
            f"logits, full-batch gradient descent lr 0.2, {iterations:,} iterations. "
            "R = L + λ/(2N)·Ω, N = 200, Ω = nn.l2_penalty(model) (weights) or "
            f"nn.l2_penalty(model, include_bias=True); λ ∈ {{{', '.join(map(str, lambdas))}}}; "
            f"{len(seeds)} seeds, each pair compared on the same data and init."
        ),
        tables=[table, effect_table],
        figures=[figure],
        answer=answer,
        metrics={
            "seeds": seeds,
            "iterations": iterations,
            "runs": {
                f"lambda {lam}, {'W and b' if inc else 'W only'}": {
                    "train_accuracy": r.train_accuracy.tolist(),
                    "test_accuracy": r.test_accuracy.tolist(),
                    "sum_w2": w2.tolist(),
                    "sum_b2": b2.tolist(),
                }
                for (lam, inc), (r, w2, b2) in runs.items()
            },
            "effect_of_bias_penalty": {
                str(lam): {k: v.tolist() for k, v in e.items()} for lam, e in effects.items()
            },
            "mean_effect": {"train": mean_train, "test": mean_test, "gap": mean_gap},
        },
        notes=[
            "seeds/000 answers this exercise in words (the bias adds no curvature; Goodfellow et "
            "al. 7.1: penalising biases 'can introduce a significant amount of underfitting'); "
            "it runs no experiment. The numbers here are ours.",
            "λ = 0 is the unregularized baseline, shared by both columns.",
        ],
    )
