"""bias-penalty — seeds/000 exercise 4-7: why is the bias left out of the ℓ2 penalty?

The regularization lab's setting (make_moons(300, noise 0.5), 200 train / 100 test, MLP_3L
[2, 20, 3, 1] with ReLU, N(0, 1) weights, zero biases, BCE with logits, full-batch gradient
descent lr 0.2), with R = L + λ/(2N)·Ω for several λ, where Ω = Σ W² (weights only, as
nn.l2_penalty by default) or Σ W² + Σ b² (include_bias=True). A bias shifts a unit's input
alike for every sample: it adds no curvature, so shrinking it should not fight over-fitting,
only pull the units' thresholds toward 0.
"""

from __future__ import annotations

import numpy as np

from ..viz import curves, save
from .base import Table
from .declaration import Claim, Outcome, lab
from .parallel import on_workers, worker_context
from .params import Param
from .recipes import mean_spread, mlp_3l, moons_per_seed, train_mlp_3l


def squared_norms(model, seeds: int, bias: bool) -> np.ndarray:
    """Σ b² (bias=True) or Σ W² per seed copy of a seed-batched model."""
    total = np.zeros(seeds)
    for name, p in model.named_parameters():
        if name.rsplit(".", 1)[-1].startswith("bias") == bias:
            total += (p.array.reshape(seeds, -1).astype(np.float64) ** 2).sum(axis=1)
    return total


def train_arm(arm, p, ctx):
    """Train the seed-batched MLP_3L of every seed with penalty ``arm`` = (λ, include_bias):
    (SeedRun, Σ W² per seed, Σ b² per seed)."""
    lam, include_bias = arm
    seeds = ctx.seeds(p.seeds)
    model = mlp_3l(seeds)
    result = train_mlp_3l(
        model, moons_per_seed(seeds), p.steps, ctx, lr=p.lr, l2=lam, include_bias=include_bias,
        description=f"λ {lam}, {'W and b' if include_bias else 'W only'}",
    )  # fmt: skip
    return (
        result,
        squared_norms(model, len(seeds), bias=False),
        squared_norms(model, len(seeds), bias=True),
    )


def _arm_in_worker(arm, values: dict, seed: int, quick: bool):
    return train_arm(arm, *worker_context(values, seed, quick))


def _stderr(values) -> float:
    values = np.asarray(values)
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def run_key(lam, include_bias) -> str:
    """The identifier of a run in the metrics: "lambda_0.7_w_only", "lambda_0.7_w_and_b"."""
    return f"lambda_{float(lam):g}_{'w_and_b' if include_bias else 'w_only'}"


def _biases_shrink(m, p):
    runs = m["runs"]
    b2 = {
        f"λ {lam:g}: Σb² W only / W and b": f"{np.mean(runs[run_key(lam, False)]['sum_b2']):.3g}"
        f" / {np.mean(runs[run_key(lam, True)]['sum_b2']):.3g}"
        for lam in p.lambdas
    }
    holds = all(
        np.mean(runs[run_key(lam, True)]["sum_b2"]) < np.mean(runs[run_key(lam, False)]["sum_b2"])
        for lam in p.lambdas
    )
    return holds, b2


def _gap_not_narrowed(m, p):
    effects = m["effect_of_bias_penalty"]
    numbers = {
        f"λ {lam:g}: mean Δ gap ± 2 s.e.": f"{np.mean(effects[str(float(lam))]['gap']):+.3f}"
        f" ± {2 * _stderr(effects[str(float(lam))]['gap']):.3f}"
        for lam in p.lambdas
    }
    holds = all(
        np.mean(e["gap"]) >= -2 * _stderr(e["gap"])
        for e in (effects[str(float(x))] for x in p.lambdas)
    )
    return holds, numbers


def answer(m, p) -> str:
    effects = {lam: m["effect_of_bias_penalty"][str(float(lam))] for lam in p.lambdas}
    runs = m["runs"]
    mean = m["mean_effect"]
    by = lambda key: ", ".join(  # noqa: E731
        f"{np.mean(e[key]):+.3f} (λ {lam:g})" for lam, e in effects.items()
    )
    b2 = ", ".join(
        f"{np.mean(runs[run_key(lam, False)]['sum_b2']):.3g} to "
        f"{np.mean(runs[run_key(lam, True)]['sum_b2']):.3g}"
        for lam in p.lambdas
    )
    return (
        f"Penalising the biases too changes the train accuracy by {by('train')}, the test "
        f"accuracy by {by('test')} and the train–test gap by {by('gap')} (means over {p.seeds} "
        f"seeds; on average {mean['train']:+.3f}, {mean['test']:+.3f} and {mean['gap']:+.3f}), "
        f"although the penalty does reach the biases: Σ b² falls from {b2}. The model has 24 "
        "biases against 103 weights."
    )


@lab(
    "bias-penalty",
    summary="ℓ2 on weights only vs on weights and biases: train/test accuracy for several λ",
    source="seeds/000 ex. 4-7",
    question="Should the ℓ2 penalty include the biases?",
    setting=(
        "The regularization lab's setting: make_moons(300, noise 0.5) (random_state = the "
        "seed's data stream), 200 train / 100 test; MLP_3L [2, 20, 3, 1], ReLU, logits, "
        "W ~ N(0,1), b = 0; BCE with logits, full-batch gradient descent lr {lr}, "
        "{steps:,} iterations. R = L + λ/(2N)·Ω, N = 200, Ω = nn.l2_penalty(model) "
        "(weights) or nn.l2_penalty(model, include_bias=True); λ ∈ {{{lambdas}}}; {seeds} seeds, "
        "each pair compared on the same data and init."
    ),
    params=[
        Param(
            "lambdas",
            [0.7, 2.0, 5.0],
            "ℓ2 strengths λ, each run with and without the biases",
            quick=[0.7, 5.0],
            min=0,
            min_open=True,
        ),  # fmt: skip
        Param("lr", 0.2, "full-batch gradient descent step", min=0, min_open=True),
        Param("steps", 50_000, "gradient steps of every run", quick=1_500, min=1),
        Param("seeds", 10, "seeds (data set and init)", quick=2, min=1, max=1000),
        Param(
            "workers",
            1,
            "runs trained at once on spawned processes (results unchanged)",
            min=1,
            max=64,
        ),
    ],
    length="steps",
    claims=[
        Claim(
            "The penalty reaches the biases: with them penalised, Σ b² (mean over seeds) is "
            "smaller than with the weights only, for every λ",
            _biases_shrink,
        ),
        Claim(
            "Penalising the biases does not narrow the train–test gap: for every λ the mean "
            "change of the gap (same seed, W and b − W only) is ≥ −2 standard errors",
            _gap_not_narrowed,
        ),
    ],
    answer=answer,
)
def experiment(p, ctx) -> Outcome:
    seeds = ctx.seeds(p.seeds)
    arms = [(lam, include_bias) for lam in (0.0, *p.lambdas)
            for include_bias in ((False, True) if lam else (False,))]  # fmt: skip
    if p.workers == 1:
        runs = {arm: train_arm(arm, p, ctx) for arm in arms}
    else:
        jobs = [(arm, dict(p), ctx.seed, ctx.quick) for arm in arms]
        done = on_workers(_arm_in_worker, jobs, p.workers, ctx, "bias-penalty runs")
        runs = {arm: done[arm] for arm in arms}

    rows = [
        [lam, "—" if lam == 0 else ("W and b" if include_bias else "W only"),
         mean_spread(r.train_accuracy), mean_spread(r.test_accuracy), mean_spread(r.gap),
         float(w2.mean()), float(b2.mean())]
        for (lam, include_bias), (r, w2, b2) in runs.items()
    ]  # fmt: skip
    effects = {}
    for lam in p.lambdas:
        w_only, with_b = runs[(lam, False)][0], runs[(lam, True)][0]
        effects[lam] = {
            "train": with_b.train_accuracy - w_only.train_accuracy,
            "test": with_b.test_accuracy - w_only.test_accuracy,
            "gap": with_b.gap - w_only.gap,
        }
    effect_rows = [
        [lam, mean_spread(e["train"]), mean_spread(e["test"]), mean_spread(e["gap"]),
         f"{int((e['gap'] < 0).sum())}/{len(seeds)}"]
        for lam, e in effects.items()
    ]  # fmt: skip

    figure = save(
        curves(
            {
                f"{split}, {label}": (
                    np.array(p.lambdas),
                    np.array(
                        [
                            getattr(runs[(lam, inc)][0], f"{split}_accuracy").mean()
                            for lam in p.lambdas
                        ]
                    ),
                )
                for split in ("train", "test")
                for inc, label in ((False, "W only"), (True, "W and b"))
            },
            xlabel="λ",
            ylabel=f"accuracy (mean of {len(seeds)} seeds)",
            title="ℓ2 penalty on weights only vs on weights and biases",
        ),
        ctx.out / "bias_penalty_accuracy.png",
    )
    return Outcome(
        tables=[
            Table(
                f"Final accuracy over {len(seeds)} seeds, {p.steps:,} iterations: mean (min–max)",
                ["λ", "penalised", "train", "test", "train − test", "Σ W² (mean)", "Σ b² (mean)"],
                rows,
            ),
            Table(
                "Adding the biases to the penalty, same seed: (W and b) − (W only)",
                ["λ", "Δ train accuracy", "Δ test accuracy", "Δ gap", "seeds with a narrower gap"],
                effect_rows,
            ),
        ],
        figures=[figure],
        metrics={
            "seeds": seeds,
            "runs": {
                run_key(lam, inc): {
                    "train_accuracy": r.train_accuracy,
                    "test_accuracy": r.test_accuracy,
                    "sum_w2": w2,
                    "sum_b2": b2,
                }
                for (lam, inc), (r, w2, b2) in runs.items()
            },
            "effect_of_bias_penalty": {str(float(lam)): e for lam, e in effects.items()},
            "mean_effect": {
                key: float(np.mean([e[key].mean() for e in effects.values()]))
                for key in ("train", "test", "gap")
            },
        },
        notes=[
            "seeds/000 answers this exercise in words (the bias adds no curvature; Goodfellow et "
            "al. 7.1: penalising biases 'can introduce a significant amount of underfitting'); "
            "it runs no experiment. The numbers here are ours.",
            "λ = 0 is the unregularized baseline, shared by both columns.",
        ],
    )
