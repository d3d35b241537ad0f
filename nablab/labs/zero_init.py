"""zero-init — seeds/000 exercise 4-8, seeds/004 (NNDL §4.4.1): why not start from w = 0, b = 0?

Model_MLP_L2_V4: fc1 Linear(2, 5) → σ → fc2 Linear(5, 1) → σ with every weight and bias 0.
Then every hidden unit outputs σ(0) = ½ and the output is ½, so the first loss is ln 2.
Step 1: δ_out = (ŷ − y)/N, so ∂L/∂fc2.W_j = ½·(½ − p̄) and ∂L/∂fc2.b = ½ − p̄ (p̄ = fraction
of positive labels), while ∂L/∂fc1 = (δ_out fc2.W) ⊙ σ' xᵀ = 0 because fc2.W = 0. From step 2
on, fc1's rows get gradients (fc2.W_j σ'(z_j) δ_out)ᵀ x — the same for every j, since all
units are alike: they stay identical, and the layer works as one unit.

`iterations` sets the number of epochs of both longer runs, on Moon1000 and on circles
(full 5000 each; quick 300 and 3000); the step-1 check and the book's 5 steps stay as they are.
"""

from __future__ import annotations

import math

import numpy as np

from .. import data
from ..diagnostics import Monitor
from ..viz import curves, decision_boundary
from .base import LabConfig, LabResult, Table, register
from .nndl import evaluate, init_linears, mlp_l2, moon1000, nndl_split, predictor, train_full_batch

LR = 0.2
BOOK_STEPS = 5
PUBLISHED = {"first loss": math.log(2), "fc2.W": -0.00203125, "fc2.b": -0.0040625, "p": 307 / 640}
# name: (hidden units, weight init, bias)
MODELS = {
    "zero init, 5 units": (5, ("constant", 0.0), 0.0),
    "constant 0.5 init, 5 units": (5, ("constant", 0.5), 0.5),
    "random N(0,1), 1 unit": (1, ("normal", 1.0), 0.0),
    "random N(0,1), 5 units": (5, ("normal", 1.0), 0.0),
}


def build(name: str, seed: int):
    hidden, weight, bias = MODELS[name]
    return init_linears(mlp_l2(hidden), weight, bias, np.random.default_rng(seed))


def row_spread(model) -> float:
    """max_j |(fc1.W_j, fc1.b_j) − (fc1.W_0, fc1.b_0)| over hidden units j: 0 when symmetric."""
    rows = np.concatenate([model.fc1.weight.data, model.fc1.bias.data[:, None]], axis=1)
    return float(np.abs(rows - rows[0]).max())


def train_recorded(name, splits, epochs, seed, config, keep_params=False):
    """Train `name` full batch under a Monitor. Returns (model, history, spreads, params,
    findings): spreads[k] is row_spread after k steps (k = 0 … epochs) and, with
    `keep_params`, params[k] the parameters after k steps."""
    model = build(name, seed)
    spreads, params = [], []

    def record(m):
        spreads.append(row_spread(m))
        if keep_params:
            params.append({k: v.data.copy() for k, v in m.named_parameters()})

    def after_backward(epoch, m):
        monitor.step()
        record(m)

    with Monitor(model) as monitor:
        history = train_full_batch(
            model, splits[0], epochs, LR, config, on_backward=after_backward, description=name
        )
    record(model)
    return model, history, np.array(spreads), params, monitor.findings()


@register(
    "zero-init",
    summary="All-zero init: identical hidden units that act as one; circles show the cost",
    source="seeds/000 ex. 4-8; seeds/004; NNDL §4.4.1",
)
def run(config: LabConfig) -> LabResult:
    check_rows = [
        ["published (NNDL, Paddle)", "307/640", PUBLISHED["first loss"], None, PUBLISHED["fc2.W"],
         None, PUBLISHED["fc2.b"], 0.0]
    ]  # fmt: skip
    step1 = {}
    for s in range(config.seed, config.seed + 5):
        check_splits = moon1000(s)
        _, hist, _, params, _ = train_recorded(
            "zero init, 5 units", check_splits, 1, s, config, keep_params=True
        )
        positives = int(check_splits[0][1].data.sum())
        p = positives / len(check_splits[0][1])
        after = params[1]
        step1[s] = {"positives": positives, "first_loss": hist.losses[0],
                    **{k: v.tolist() for k, v in after.items()}}  # fmt: skip
        check_rows.append(
            [f"ours, seed {s}", f"{positives}/640", hist.losses[0], -LR * 0.5 * (0.5 - p) + 0.0,
             float(after["fc2.weight"].mean()), -LR * (0.5 - p) + 0.0, float(after["fc2.bias"][0]),
             float(max(np.abs(after["fc1.weight"]).max(), np.abs(after["fc1.bias"]).max()))]
        )  # fmt: skip
    check_table = Table(
        "After step 1: first loss (ln 2 = 0.693147), fc2 against −lr·½·(½ − p̄) and −lr·(½ − p̄)",
        ["run", "p̄ (positives)", "first loss", "fc2.W formula", "fc2.W (mean of entries)",
         "fc2.b formula", "fc2.b", "max |fc1.W|, |fc1.b|"],
        check_rows,
    )  # fmt: skip

    # the book's 5 steps, on the first draw whose training labels are not exactly balanced
    seed = next((s for s in step1 if step1[s]["positives"] != 320), config.seed)
    splits = moon1000(seed)
    (X_train, y_train), _, test = splits
    n_pos = step1[seed]["positives"]
    p_bar = n_pos / 640
    model, history, spreads, snaps, findings = train_recorded(
        "zero init, 5 units", splits, BOOK_STEPS, seed, config, keep_params=True
    )
    step_rows = []
    for step, snap in enumerate(snaps[1:], start=1):
        w1, b1, w2, b2 = snap["fc1.weight"], snap["fc1.bias"], snap["fc2.weight"], snap["fc2.bias"]
        step_rows.append(
            [step, history.losses[step - 1], float(w1[0, 0]), float(w1[0, 1]), float(b1[0]),
             float(w2[0, 0]), float(np.ptp(w2)), float(b2[0]), spreads[step]]
        )  # fmt: skip
    steps_table = Table(
        f"Weights after each of the book's {BOOK_STEPS} steps (Moon1000, seed {seed}, "
        f"p̄ = {n_pos}/640, lr {LR})",
        ["step", "loss before the step", "fc1.W[0,0]", "fc1.W[0,1]", "fc1.b[0]", "fc2.W[0,0]",
         "spread of fc2.W", "fc2.b", "max |unit j − unit 0| in fc1"],
        step_rows,
    )  # fmt: skip
    acc5_train = evaluate(model, X_train, y_train)[0]
    acc5_test = evaluate(model, *test)[0]

    # trained on: Moon1000, then circles
    long_epochs = config.steps(full=5000, quick=300)
    moons_runs = {
        name: train_recorded(name, splits, long_epochs, seed, config)
        for name in ("zero init, 5 units", "random N(0,1), 1 unit", "random N(0,1), 5 units")
    }
    # a balanced draw (p̄ = ½) starts the zero net at a stationary point: watch rounding there
    spread_runs = {f"Moon1000, seed {seed}": moons_runs["zero init, 5 units"]}
    if seed != config.seed:
        balanced = train_recorded(
            "zero init, 5 units", moon1000(config.seed), long_epochs, config.seed, config
        )
        spread_runs[f"Moon1000, seed {config.seed} (p̄ = ½)"] = balanced
    circle_epochs = config.steps(full=5000, quick=3000)
    circle_seeds = [config.seed + k for k in range(1 if config.quick else 3)]
    circles = {}
    for s in circle_seeds:
        circle_splits = nndl_split(*data.circles(1000, noise=0.1, factor=0.5, seed=s))
        for name in MODELS:
            m, h, spread, _, found = train_recorded(name, circle_splits, circle_epochs, s, config)
            circles.setdefault(name, []).append(
                {"model": m, "splits": circle_splits, "losses": h.losses, "spread": spread,
                 "test_accuracy": evaluate(m, *circle_splits[2])[0], "findings": found}
            )  # fmt: skip

    long_rows = [
        [f"Moon1000, {long_epochs} epochs", name, evaluate(r[0], *test)[0], r[1].losses[-1],
         float(r[2][-1]) if MODELS[name][0] > 1 else None,
         "; ".join(f.kind for f in r[4] if f.kind == "symmetric-units") or "none"]
        for name, r in moons_runs.items()
    ]  # fmt: skip
    if seed != config.seed:
        long_rows.append(
            [f"Moon1000 seed {config.seed} (p̄ = ½), {long_epochs} epochs", "zero init, 5 units",
             evaluate(balanced[0], *moon1000(config.seed)[2])[0], balanced[1].losses[-1],
             float(balanced[2][-1]),
             "; ".join(f.kind for f in balanced[4] if f.kind == "symmetric-units") or "none"]
        )  # fmt: skip
    for name, runs in circles.items():
        accs = [r["test_accuracy"] for r in runs]
        long_rows.append(
            [f"circles, {circle_epochs} epochs, {len(runs)} seed(s)", name,
             f"{np.mean(accs):.3f} ({min(accs):.3f}–{max(accs):.3f})",
             float(np.mean([r["losses"][-1] for r in runs])),
             max(float(r["spread"][-1]) for r in runs) if MODELS[name][0] > 1 else None,
             "; ".join(sorted({f.kind for r in runs for f in r["findings"]
                               if f.kind == "symmetric-units"})) or "none"]
        )  # fmt: skip
    long_table = Table(
        "Trained on (test accuracy)",
        ["data", "model", "test accuracy", "last loss", "max |unit j − unit 0| in fc1",
         "Monitor: symmetric units"],
        long_rows,
    )  # fmt: skip

    out = config.out
    figures = [
        curves(
            {**{label: r[2] for label, r in spread_runs.items()},
             f"circles, seed {circle_seeds[0]}": circles["zero init, 5 units"][0]["spread"],
             f"circles (constant 0.5), seed {circle_seeds[0]}":
                 circles["constant 0.5 init, 5 units"][0]["spread"]},
            out / "zero_init_unit_spread.png",
            logy=True,
            ylabel="max |unit j − unit 0| of fc1 (W, b)",
            title="zero init: how far the hidden units drift apart (float32 rounding)",
        ),
        curves(
            {name: runs[0]["losses"] for name, runs in circles.items()},
            out / "zero_init_circles_loss.png",
            title=f"circles, seed {circle_seeds[0]}: training loss",
        ),
    ]  # fmt: skip
    for name, slug in (("zero init, 5 units", "zero"), ("random N(0,1), 5 units", "random")):
        run0 = circles[name][0]
        figures.append(
            decision_boundary(
                predictor(run0["model"]),
                run0["splits"][0][0].data,
                run0["splits"][0][1].data,
                out / f"zero_init_circles_boundary_{slug}.png",
                xlim=(-1.5, 1.5),
                ylim=(-1.5, 1.5),
                title=f"circles: {name} (test acc {run0['test_accuracy']:.3f})",
            )
        )

    circle_acc = {name: float(np.mean([r["test_accuracy"] for r in runs]))
                  for name, runs in circles.items()}  # fmt: skip
    kinds = sorted({f.kind for f in findings})
    drift = {
        label: (int(np.argmax(r[2] > 1e-3)) if (r[2] > 1e-3).any() else None, float(r[2][-1]))
        for label, r in spread_runs.items()
    }
    deviation = max(max(abs(row[4] - row[3]), abs(row[6] - row[5])) for row in check_rows[1:])
    fc1_zero = all(row[7] == 0 for row in check_rows[1:])
    answer = (
        f"On {len(step1)} draws of Moon1000 the first loss is ln 2 to "
        f"{max(abs(v['first_loss'] - math.log(2)) for v in step1.values()):.1e}, "
        + ("fc1 is still exactly 0 after step 1" if fc1_zero else "fc1 moved in step 1 (!)")
        + f", and fc2.W and fc2.b equal −lr·½·(½ − p̄) and −lr·(½ − p̄) to "
        f"{deviation:.1e} (float32), p̄ taken from each draw's training labels; the book's "
        "−0.00203125 / −0.0040625 is the same formula at p̄ = 307/640"
        + (
            f" (our seed {', '.join(str(s) for s, v in step1.items() if v['positives'] == 307)} "
            "draws 307 positives too, and gives the book's numbers)"
            if any(v["positives"] == 307 for v in step1.values())
            else ""
        )
        + f". Through the book's {BOOK_STEPS} steps (seed {seed}, p̄ = {n_pos}/640) the hidden "
        f"units stay identical (largest difference {spreads.max():.1e}, rounding) and the "
        "Monitor reports "
        + (", ".join(kinds) or "nothing")
        + f"; accuracy after {BOOK_STEPS} epochs is {acc5_train:.3f} (train) / {acc5_test:.3f} "
        f"(test). On circles after {circle_epochs} epochs the zero-initialised 5-unit net reaches "
        f"{circle_acc['zero init, 5 units']:.3f} test accuracy, the constant-0.5 one "
        f"{circle_acc['constant 0.5 init, 5 units']:.3f}, a 1-unit net "
        f"{circle_acc['random N(0,1), 1 unit']:.3f} and the randomly initialised 5-unit net "
        f"{circle_acc['random N(0,1), 5 units']:.3f}: a symmetric start wastes the width. "
        + "In float32 the units are identical only up to rounding; after "
        f"{long_epochs} epochs on "
        + "; on ".join(
            f"{label} they differ by {last:.1e}"
            + (f" (past 1e-3 from epoch {epoch}: rounding broke the symmetry)" if epoch else "")
            for label, (epoch, last) in drift.items()
        )
        + "."
    )
    return LabResult(
        question=(
            "What happens when every weight and bias starts at 0, and is the damage visible "
            "beyond the first steps?"
        ),
        setting=(
            f"Moon1000 (make_moons(1000, noise 0.5), seed {seed}, 640/160/200). Model_MLP_L2_V4: "
            "Linear(2,5) → sigmoid → Linear(5,1) → sigmoid, all weights and biases 0; BCE; SGD "
            f"lr {LR}, full batch (one epoch = one step). The weights after each of the book's "
            f"{BOOK_STEPS} steps; then {long_epochs} epochs on Moon1000, and "
            f"make_circles(1000, noise 0.1, factor 0.5) split alike, {circle_epochs} epochs, "
            "against a constant 0.5 init, a 1-unit net and a 5-unit net with N(0,1) weights."
        ),
        tables=[check_table, steps_table, long_table],
        figures=figures,
        answer=answer,
        metrics={
            "seed": seed,
            "p_bar": p_bar,
            "positives": n_pos,
            "first_loss": history.losses[0],
            "fc1_zero_after_step1": fc1_zero,
            "step1_by_seed": step1,
            "book_steps_unit_spread": spreads.tolist(),
            "accuracy_after_book_steps": {"train": acc5_train, "test": acc5_test},
            "monitor_kinds": kinds,
            "monitor_findings": [str(f) for f in findings],
            "moons_long": {
                name: {"test_accuracy": evaluate(r[0], *test)[0], "unit_spread_last": r[2][-1]}
                for name, r in moons_runs.items()
            },
            "moons_unit_spread": {
                label: {"passes_1e-3_at": epoch, "last": last}
                for label, (epoch, last) in drift.items()
            },
            "circles_test_accuracy": {
                name: [r["test_accuracy"] for r in runs] for name, runs in circles.items()
            },
            "circles_unit_spread_last": {
                name: [float(r["spread"][-1]) for r in runs]
                for name, runs in circles.items()
                if MODELS[name][0] > 1
            },
            "circles_monitor_kinds": {
                name: sorted({f.kind for r in runs for f in r["findings"]})
                for name, runs in circles.items()
            },
        },
        notes=[
            "A draw whose 640 training labels are exactly balanced (p̄ = ½, as seeds 0 and 1 "
            "are) makes the all-zero start a stationary point: every gradient is 0 up to "
            "float32 rounding of σ(0), and nothing moves. The book's steps are shown on the "
            f"first draw from seed {config.seed} on that is not balanced (seed {seed}).",
            f"p̄ comes from our draw of Moon1000 (scikit-learn, seed {seed}: {n_pos} positives of "
            "640), so our step-1 values differ from the book's −0.00203125 / −0.0040625, which "
            "are the same formula at the book's p̄ = 307/640.",
            "seeds/000 says the zero-initialised net 'learns nothing' (about 50 %) from 5 epochs. "
            "Trained longer on Moon1000 the symmetric net does learn — as a 1-unit net, which on "
            "these overlapping moons (a nearly linear boundary) is about as good as 5 units; "
            "circles need the width, so there the symmetric net stays near the 1-unit one.",
            "Exact arithmetic keeps the units identical forever. Floating point does not quite: "
            "the matrix products round differently for different units (about 1e-12 after step "
            "2 in float32), and where the symmetric point is unstable those differences grow "
            "exponentially (the spread figure). The Monitor's symmetric-unit finding compares "
            "units to 1e-6 of the weights' scale.",
        ],
    )
