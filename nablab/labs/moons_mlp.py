"""moons-mlp — NNDL §4.2–4.3: the book's two-layer baseline on Moon1000.

Moon1000 = make_moons(1000, noise=0.5) split 640/160/200. Model_MLP_L2:
fc1 Linear(2, 5) → σ → fc2 Linear(5, 1) → σ, weights N(0, 1), biases 0; BCE; full-batch
gradient descent lr 0.2 for 1000 epochs; the model of the best dev accuracy is kept and
scored on the test set. The book (Paddle) reports test accuracy 0.76, loss 0.49.

`iterations` sets the number of epochs (gradient steps) of every seed's run (full 1000,
quick 300).
"""

from __future__ import annotations

import numpy as np

from ..viz import curves, decision_boundary
from .base import LabConfig, LabResult, Table, register
from .nndl import (
    evaluate,
    init_linears,
    length_notes,
    mean_spread,
    mlp_l2,
    moon1000,
    predictor,
    train_full_batch,
)

PUBLISHED = {"test accuracy": 0.76, "test loss": 0.49}
LEARNING_RATE = 0.2
BOOK_EPOCHS = 1000


def train_one(seed: int, epochs: int, config: LabConfig):
    """Model_MLP_L2 trained on Moon1000 drawn with `seed`: (model, history, splits)."""
    splits = moon1000(seed)
    model = init_linears(
        mlp_l2(5), ("normal", 1.0), bias=0.0, generator=np.random.default_rng(seed)
    )
    history = train_full_batch(
        model, splits[0], epochs, LEARNING_RATE, config, dev=splits[1], keep_best=True,
        description=f"seed {seed}",
    )  # fmt: skip
    return model, history, splits


@register(
    "moons-mlp",
    summary="NNDL's 2-layer sigmoid MLP on Moon1000 (make_moons, noise 0.5)",
    source="NNDL §4.2–4.3 (seeds/000 builds on it)",
)
def run(config: LabConfig) -> LabResult:
    epochs = config.steps(full=BOOK_EPOCHS, quick=300)
    seeds = [config.seed + k for k in range(2 if config.quick else 5)]
    results = []
    for seed in seeds:
        model, history, (train, dev, test) = train_one(seed, epochs, config)
        test_acc, test_loss = evaluate(model, *test)
        results.append((seed, model, history, test_acc, test_loss, train, test))
    seed0, model0, history0, acc0, loss0, train0, _ = results[0]
    accs = np.array([r[3] for r in results])
    losses = np.array([r[4] for r in results])
    best_epochs = [r[2].best_epoch for r in results]
    train_accs = np.array([evaluate(r[1], *r[5])[0] for r in results])

    table = Table(
        f"Model_MLP_L2 on Moon1000, test set (best-dev model of {epochs} epochs)",
        ["", "published (NNDL, Paddle)", f"ours, seed {seed0}",
         f"ours, {len(seeds)} seeds: mean (min–max)"],
        [
            ["train accuracy", None, train_accs[0], mean_spread(train_accs)],
            ["test accuracy", PUBLISHED["test accuracy"], acc0, mean_spread(accs)],
            ["test loss", PUBLISHED["test loss"], loss0, mean_spread(losses)],
            ["best dev epoch", None, best_epochs[0], ", ".join(str(e) for e in best_epochs)],
        ],
    )  # fmt: skip
    out = config.out
    figures = [
        curves(
            {"train loss (BCE)": history0.losses, "dev accuracy": history0.dev_accuracy},
            out / "moons_mlp_curves.png",
            ylabel="loss / accuracy",
            title=f"Model_MLP_L2 on Moon1000, seed {seed0}",
        ),
        decision_boundary(
            predictor(model0),
            train0[0].data,
            train0[1].data,
            out / "moons_mlp_boundary.png",
            title=f"best-dev model, seed {seed0} (training points)",
        ),
    ]
    close = abs(accs.mean() - PUBLISHED["test accuracy"]) <= 0.05
    answer = (
        f"Over {len(seeds)} draws of Moon1000 the best-dev model scores test accuracy "
        f"{accs.mean():.3f} (range {accs.min():.3f}–{accs.max():.3f}) and test loss "
        f"{losses.mean():.3f}; the book's single run gives 0.76 / 0.49, "
        + ("within 0.05 of our mean accuracy." if close else "outside 0.05 of our mean accuracy.")
        + f" Train accuracy {train_accs.mean():.3f} against test {accs.mean():.3f}: "
        + ("no sign of over-fitting." if train_accs.mean() - accs.mean() < 0.05 else "a gap.")
    )
    return LabResult(
        question="How well does the book's 2-5-1 sigmoid MLP classify Moon1000?",
        setting=(
            "make_moons(1000, shuffle=True, noise=0.5) (scikit-learn, random_state = seed), split "
            "in order 640 train / 160 dev / 200 test. Model_MLP_L2: Linear(2,5) → sigmoid → "
            "Linear(5,1) → sigmoid, weights N(0,1), biases 0. BCE, full-batch gradient descent "
            f"lr 0.2, {epochs} epochs; the model of the best dev accuracy is kept, scored on test."
        ),
        tables=[table],
        figures=figures,
        answer=answer,
        metrics={
            "seeds": seeds,
            "epochs": epochs,
            "test_accuracy": accs.tolist(),
            "test_loss": losses.tolist(),
            "test_accuracy_mean": float(accs.mean()),
            "train_accuracy": train_accs.tolist(),
            "best_epoch": best_epochs,
            "published": PUBLISHED,
        },
        notes=[
            "The book draws Moon1000 with its own make_moons on Paddle's random stream; we use "
            "scikit-learn's make_moons with random_state = seed, so our points (and numbers) "
            "differ from the book's draw — the published figures are quoted, not targets.",
            *length_notes(config, epochs, BOOK_EPOCHS, unit="epochs"),
        ],
    )
