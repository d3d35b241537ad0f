"""zero-init — seeds/000 exercise 4-8, seeds/004 (NNDL §4.4.1): why not start from w = 0, b = 0?

Model_MLP_L2_V4: fc1 Linear(2, 5) → σ → fc2 Linear(5, 1) → σ with every weight and bias 0.
Then every hidden unit outputs σ(0) = ½ and the output is ½, so the first loss is ln 2.
Step 1: δ_out = (ŷ − y)/N, so ∂L/∂fc2.W_j = ½·(½ − p̄) and ∂L/∂fc2.b = ½ − p̄ (p̄ = fraction
of positive labels), while ∂L/∂fc1 = (δ_out fc2.W) ⊙ σ' xᵀ = 0 because fc2.W = 0. From step 2
on, fc1's rows get gradients (fc2.W_j σ'(z_j) δ_out)ᵀ x — the same for every j, since all
units are alike: they stay identical, and the layer works as one unit. Any constant c in
place of 0 keeps the units alike too (only the step-1 formulas are those of c = 0).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import data
from ..diagnostics import Monitor
from ..viz import arm_colors, curves, decision_boundaries, save
from .base import Table, spread
from .declaration import Claim, Outcome, Published, lab
from .params import Param
from .recipes import (
    evaluate,
    init_linears,
    mlp_l2,
    moon1000,
    nndl_split,
    probability,
    train_full_batch,
)
from .runner import Context

BOOK = "NNDL §4.4.1 (Paddle, p̄ = 307/640)"


class Model(NamedTuple):
    """One net of the lab: how a person reads it, its hidden units, weight init and bias."""

    label: str
    hidden: int
    weight: tuple
    bias: float


def models(p) -> dict[str, Model]:
    """{identifier: Model}: the symmetric net ("constant"), a second constant init
    ("other_constant"), and random N(0, 1) nets of 1 and of ``p.hidden`` units ("random_1",
    "random_wide"). The identifiers key the metrics; the labels head tables and plots."""
    return {
        "constant": Model(f"constant {p.init_value:g}, {p.hidden} units", p.hidden,
                          ("constant", p.init_value), p.init_value),
        "other_constant": Model(f"constant {p.other_constant:g}, {p.hidden} units", p.hidden,
                                ("constant", p.other_constant), p.other_constant),
        "random_1": Model("random N(0,1), 1 unit", 1, ("normal", 1.0), 0.0),
        "random_wide": Model(f"random N(0,1), {p.hidden} units", p.hidden, ("normal", 1.0), 0.0),
    }  # fmt: skip


def row_spread(model) -> float:
    """max_j |(fc1.W_j, fc1.b_j) − (fc1.W_0, fc1.b_0)| over hidden units j: 0 when symmetric."""
    rows = np.concatenate([model.fc1.weight.array, model.fc1.bias.array[:, None]], axis=1)
    return float(np.abs(rows - rows[0]).max())


def train_recorded(model_spec, splits, epochs, seed, p, ctx, keep_params=False):
    """Train a model of ``models(p)`` full batch under a Monitor. Returns (model, history,
    spreads, params, findings): spreads[k] is row_spread after k steps (k = 0 … epochs) and,
    with ``keep_params``, params[k] the parameters after k steps."""
    _, hidden, weight, bias = model_spec
    generator = np.random.default_rng(Context.streams(seed)[1])
    model = init_linears(mlp_l2(hidden), weight, bias, generator)
    spreads, params = [], []

    def record(m):
        spreads.append(row_spread(m))
        if keep_params:
            params.append({k: v.array.copy() for k, v in m.named_parameters()})

    def after_backward(epoch, m):
        monitor.step()
        record(m)

    monitor = Monitor(model)
    if not keep_params:  # a long run: its findings are those of the final weights, no hooks
        monitor.detach()
    history = train_full_batch(
        model, splits[0], epochs, p.lr, ctx, on_backward=after_backward, description="training"
    )
    monitor.detach()
    record(model)
    return model, history, np.array(spreads), params, monitor.findings()


def symmetric(findings) -> str:
    return "; ".join(sorted({f.kind for f in findings if f.kind == "symmetric-units"})) or "none"


def below(key, bound, zero=False):
    """A check: the metric ``key`` is ≤ ``bound`` (with ``zero``: only for the all-zero start,
    whose step-1 values have a formula)."""

    def check(m, p):
        if not zero or p.init_value == 0:
            return m[key] <= bound, {key: m[key]}

    return check


def circles_like_one_unit(m, p):
    acc = m["circles_test_accuracy"]
    sym, one = np.mean(acc["constant"]), np.mean(acc["random_1"])
    return sym <= 0.65 and sym <= one + 0.05, {"symmetric": sym, "1 unit": one}


def answer(m, p) -> str:
    labels = {name: model.label for name, model in models(p).items()}
    acc = {labels[name]: np.mean(v) for name, v in m["circles_test_accuracy"].items()}
    drift = m["moons_unit_spread"]
    return (
        f"On {p.check_seeds} draws of Moon1000 the first loss is "
        + ", ".join(f"{v['first_loss']:.6f}" for v in m["step1_by_seed"].values())
        + f" (ln 2 = {math.log(2):.6f}), and after step 1 the largest |fc1| entry is "
        f"{m['step1_fc1_max']:.1e}. Through the book's {p.book_steps} steps (seed {m['seed']}, "
        f"p̄ = {m['positives']}/640) the hidden units differ by at most "
        f"{max(m['book_steps_unit_spread']):.1e}; accuracy after them is "
        f"{m['accuracy_after_book_steps']['train']:.3f} (train) / "
        f"{m['accuracy_after_book_steps']['test']:.3f} (test). On circles after "
        f"{p.circle_epochs:,} epochs the test accuracy is "
        + ", ".join(f"{a:.3f} ({name})" for name, a in acc.items())
        + ": a symmetric start wastes the width. In float32 the units are identical only up to "
        f"rounding; after {p.epochs:,} epochs on "
        + "; on ".join(
            f"{d['label']} they differ by {d['last']:.1e}"
            + (f" (past 1e-3 from epoch {d['passes_1e-3_at']})" if d["passes_1e-3_at"] else "")
            for d in drift.values()
        )
        + "."
    )


@lab(
    "zero-init",
    summary="All-zero init: identical hidden units that act as one; circles show the cost",
    source="seeds/000 ex. 4-8; seeds/004; NNDL §4.4.1",
    question=(
        "What happens when every weight and bias starts at 0, and is the damage visible "
        "beyond the first steps?"
    ),
    setting=lambda m, p: (
        f"Moon1000 (make_moons(1000, noise 0.5), seed {m['seed']}, 640/160/200). "
        f"Model_MLP_L2_V4: Linear(2,{p.hidden}) → sigmoid → Linear({p.hidden},1) → sigmoid, all "
        f"weights and biases {p.init_value:g}; BCE; SGD lr {p.lr:g}, full batch (one epoch = one "
        f"step). The step-1 check on {p.check_seeds} draws; the weights after each of the "
        f"book's {p.book_steps} steps; then {p.epochs:,} epochs on Moon1000, and "
        f"make_circles(1000, noise 0.1, factor 0.5) split alike, {p.circle_epochs:,} epochs, "
        f"{p.circle_seeds} seed(s), against a constant {p.other_constant:g} init, a 1-unit net "
        f"and a {p.hidden}-unit net with N(0,1) weights."
    ),
    params=[
        Param(
            "init_value", 0.0, "the constant every weight and bias of the symmetric net starts at"
        ),
        Param("other_constant", 0.5, "a second constant init compared with it"),
        Param("hidden", 5, "hidden units", min=2, max=256),
        Param("lr", 0.2, "SGD learning rate", min=0, min_open=True),
        Param("book_steps", 5, "steps shown one by one, as in the book", min=1, max=100),
        Param("check_seeds", 5, "draws of Moon1000 for the step-1 check", min=1, max=50),
        Param("epochs", 5000, "full-batch epochs of the longer run on Moon1000", quick=300, min=1),
        Param("circle_epochs", 5000, "full-batch epochs on circles", quick=3000, min=1),
        Param("circle_seeds", 3, "seeds of the circles runs", quick=1, min=1, max=50),
    ],
    length="epochs",
    claims=[
        Claim(
            "The first loss is ln 2 = 0.693147 on every draw",
            below("first_loss_deviation", 1e-6, zero=True),
        ),
        Claim(
            "After step 1 every weight and bias of fc1 is still exactly 0",
            below("step1_fc1_max", 0, zero=True),
        ),
        Claim(
            "After step 1 every fc2.W entry equals −lr·½·(½ − p̄) and fc2.b = −lr·(½ − p̄), p̄ "
            "from each draw's labels (the book's −0.00203125 / −0.0040625 at p̄ = 307/640)",
            below("step1_formula_deviation", 1e-8, zero=True),
        ),
        Claim(
            "Through the book's {book_steps} steps the hidden units stay identical (to 1e-9)",
            below("book_steps_spread_max", 1e-9),
        ),
        Claim(
            "The Monitor reports symmetric units after the book's steps",
            lambda m, p: "symmetric-units" in m["monitor_kinds"],
        ),
        Claim(
            "After the book's {book_steps} epochs the accuracy is near chance (≤ 0.6)",
            below("accuracy_after_book_steps_max", 0.6),
        ),
        Claim(
            "On circles the symmetric {hidden}-unit net does no better than a 1-unit net (test "
            "accuracy ≤ 0.65, at most 0.05 above the 1-unit net's)",
            circles_like_one_unit,
        ),
        Claim(
            "On circles the randomly initialised {hidden}-unit net reaches 0.9 test accuracy",
            lambda m, p: min(m["circles_test_accuracy"]["random_wide"]) >= 0.9,
        ),
        Claim(
            "On circles the symmetric net's units stay identical (to 1e-5) and the Monitor "
            "reports symmetric units",
            lambda m, p: (
                max(m["circles_unit_spread_last"]["constant"]) < 1e-5
                and "symmetric-units" in m["circles_monitor_kinds"]["constant"],
                {"largest spread": max(m["circles_unit_spread_last"]["constant"])},
            ),
        ),
    ],  # fmt: skip
    published=[
        Published(value, BOOK, "published (NNDL, Paddle)", row=row, table="step 1")
        for row, value in [
            ("p̄ (positives)", "307/640"),
            ("first loss", math.log(2)),
            ("fc2.W (mean of entries)", -0.00203125),
            ("fc2.b", -0.0040625),
            ("max |fc1.W|, |fc1.b|", 0.0),
        ]
    ],  # fmt: skip
    answer=answer,
)
def experiment(p, ctx) -> Outcome:
    spec = models(p)
    sym, other, wide = "constant", "other_constant", "random_wide"
    step1 = {}
    for s in ctx.seeds(p.check_seeds):
        splits = moon1000(Context.streams(s)[0])
        _, hist, _, params, _ = train_recorded(spec[sym], splits, 1, s, p, ctx, keep_params=True)
        step1[s] = {"positives": int(splits[0][1].array.sum()), "first_loss": hist.losses[0],
                    **{k: v.tolist() for k, v in params[1].items()}}  # fmt: skip
    zero = p.init_value == 0

    def formula(v, scale):  # the step-1 values of the all-zero start
        return -p.lr * scale * (0.5 - v["positives"] / 640) + 0.0 if zero else None

    check_cols = {
        f"seed {s}": [
            f"{v['positives']}/640", v["first_loss"], formula(v, 0.5),
            float(np.mean(v["fc2.weight"])), formula(v, 1.0), v["fc2.bias"][0],
            float(max(np.abs(v["fc1.weight"]).max(), np.abs(v["fc1.bias"]).max())),
        ]
        for s, v in step1.items()
    }  # fmt: skip
    rows = ["p̄ (positives)", "first loss", "fc2.W formula", "fc2.W (mean of entries)",
            "fc2.b formula", "fc2.b", "max |fc1.W|, |fc1.b|"]  # fmt: skip
    check_table = Table(
        "After step 1: first loss (ln 2 = 0.693147), fc2 against −lr·½·(½ − p̄) and "
        "−lr·(½ − p̄) (formulas for the all-zero start)",
        ["", *check_cols],
        [[row, *(col[i] for col in check_cols.values())] for i, row in enumerate(rows)],
        name="step 1",
    )

    # the book's steps, on the first draw whose training labels are not exactly balanced
    seed = next((s for s, v in step1.items() if v["positives"] != 320), ctx.seed)
    splits = moon1000(Context.streams(seed)[0])
    (X_train, y_train), _, test = splits
    n_pos = step1[seed]["positives"]
    model, history, spreads, snaps, findings = train_recorded(
        spec[sym], splits, p.book_steps, seed, p, ctx, keep_params=True
    )
    steps_table = Table(
        f"Weights after each of the book's {p.book_steps} steps (Moon1000, seed {seed}, "
        f"p̄ = {n_pos}/640, lr {p.lr:g})",
        ["step", "loss before the step", "fc1.W[0,0]", "fc1.W[0,1]", "fc1.b[0]", "fc2.W[0,0]",
         "spread of fc2.W", "fc2.b", "max |unit j − unit 0| in fc1"],
        [[k, history.losses[k - 1], float(w["fc1.weight"][0, 0]), float(w["fc1.weight"][0, 1]),
          float(w["fc1.bias"][0]), float(w["fc2.weight"][0, 0]), float(np.ptp(w["fc2.weight"])),
          float(w["fc2.bias"][0]), spreads[k]]
         for k, w in enumerate(snaps[1:], start=1)],
    )  # fmt: skip
    acc_train, acc_test = evaluate(model, X_train, y_train)[0], evaluate(model, *test)[0]

    # trained on: Moon1000, then circles
    moons_runs = {
        name: train_recorded(spec[name], splits, p.epochs, seed, p, ctx)
        for name in (sym, "random_1", wide)
    }
    # a balanced draw (p̄ = ½) starts the zero net at a stationary point: watch rounding there
    spread_runs = {f"moon1000_seed_{seed}": (f"Moon1000, seed {seed}", moons_runs[sym], test)}
    if seed != ctx.seed:
        balanced = moon1000(Context.streams(ctx.seed)[0])
        run = train_recorded(spec[sym], balanced, p.epochs, ctx.seed, p, ctx)
        spread_runs[f"moon1000_seed_{ctx.seed}"] = (
            f"Moon1000, seed {ctx.seed} (p̄ = ½)",
            run,
            balanced[2],
        )
    circles = {}
    for s in ctx.seeds(p.circle_seeds):
        c_splits = nndl_split(
            *data.circles(1000, noise=0.1, factor=0.5, seed=Context.streams(s)[0])
        )
        for name, model_spec in spec.items():
            m, h, sp, _, found = train_recorded(model_spec, c_splits, p.circle_epochs, s, p, ctx)
            circles.setdefault(name, []).append(
                {"model": m, "splits": c_splits, "losses": h.losses, "spread": sp,
                 "test_accuracy": evaluate(m, *c_splits[2])[0], "findings": found}
            )  # fmt: skip

    long_rows = [
        [f"Moon1000 seed {seed}, {p.epochs} epochs", spec[name].label, evaluate(r[0], *test)[0],
         r[1].losses[-1], float(r[2][-1]) if spec[name].hidden > 1 else None, symmetric(r[4])]
        for name, r in moons_runs.items()
    ] + [
        [label, spec[sym].label, evaluate(r[0], *t)[0], r[1].losses[-1], float(r[2][-1]),
         symmetric(r[4])]
        for label, r, t in list(spread_runs.values())[1:]
    ] + [
        [f"circles, {p.circle_epochs} epochs, {len(runs)} seed(s)", spec[name].label,
         spread([r["test_accuracy"] for r in runs], center=np.mean, fmt=".3f"),
         float(np.mean([r["losses"][-1] for r in runs])),
         max(float(r["spread"][-1]) for r in runs) if spec[name].hidden > 1 else None,
         symmetric([f for r in runs for f in r["findings"]])]
        for name, runs in circles.items()
    ]  # fmt: skip
    long_table = Table(
        "Trained on (test accuracy)",
        ["data", "model", "test accuracy", "last loss", "max |unit j − unit 0| in fc1",
         "Monitor: symmetric units"],
        long_rows,
    )  # fmt: skip

    spread_curves = {
        **{label: r[2] for label, r, _ in spread_runs.values()},
        **{f"circles, {spec[n].label}": circles[n][0]["spread"] for n in (sym, other)},
    }
    losses = {f"circles, {spec[n].label}": runs[0]["losses"] for n, runs in circles.items()}
    colors = arm_colors({**spread_curves, **losses})  # a run keeps its colour in both figures
    figures = [
        save(
            curves(
                spread_curves,
                colors=colors,
                logy=True,
                ylabel="max |unit j − unit 0| of fc1 (W, b)",
                title="symmetric init: how far the hidden units drift apart (float32 rounding)",
            ),
            ctx.out / "zero_init_unit_spread.png",
        ),
        save(
            curves(
                losses,
                colors=colors,
                title=f"circles, seed {ctx.seed}: training loss",
            ),
            ctx.out / "zero_init_circles_loss.png",
        ),
        save(
            decision_boundaries(
                {
                    f"{spec[n].label} (test acc {circles[n][0]['test_accuracy']:.3f})": probability(
                        circles[n][0]["model"], logits=False
                    )
                    for n in (sym, wide)
                },  # fmt: skip
                circles[sym][0]["splits"][0][0].array,
                circles[sym][0]["splits"][0][1].array,
                X_test=circles[sym][0]["splits"][2][0].array,
                y_test=circles[sym][0]["splits"][2][1].array,
                xlim=(-1.5, 1.5),
                ylim=(-1.5, 1.5),
                ncols=2,
                title=f"circles, seed {ctx.seed}: P(y = 1), symmetric vs random init",
            ),
            ctx.out / "zero_init_circles_boundaries.png",
        ),  # fmt: skip
    ]

    drift = {
        key: {"label": label, "last": float(r[2][-1]),
              "passes_1e-3_at": int(np.argmax(r[2] > 1e-3)) if (r[2] > 1e-3).any() else None}
        for key, (label, r, _) in spread_runs.items()
    }  # fmt: skip
    deviation = (
        [abs(np.array(v["fc2.weight"]) - formula(v, 0.5)).max() for v in step1.values()]
        + [abs(v["fc2.bias"][0] - formula(v, 1.0)) for v in step1.values()]
        if zero
        else [None]
    )
    balanced_seeds = [s for s, v in step1.items() if v["positives"] == 320]
    return Outcome(
        tables=[check_table, steps_table, long_table],
        figures=figures,
        metrics={
            "seed": seed,
            "symmetric": spec[sym].label,
            "p_bar": n_pos / 640,
            "positives": n_pos,
            "step1_by_seed": {str(s): v for s, v in step1.items()},
            "first_loss_deviation": max(abs(v["first_loss"] - math.log(2)) for v in step1.values()),
            "step1_fc1_max": max(col[6] for col in check_cols.values()),
            "step1_formula_deviation": float(max(deviation)) if zero else None,
            "book_steps_unit_spread": spreads.tolist(),
            "book_steps_spread_max": float(spreads.max()),
            "accuracy_after_book_steps_max": max(acc_train, acc_test),
            "accuracy_after_book_steps": {"train": acc_train, "test": acc_test},
            "monitor_kinds": sorted({f.kind for f in findings}),
            "monitor_findings": [str(f) for f in findings],
            "moons_long": {
                name: {"test_accuracy": evaluate(r[0], *test)[0], "unit_spread_last": r[2][-1]}
                for name, r in moons_runs.items()
            },
            "moons_unit_spread": drift,
            "circles_test_accuracy": {
                name: [r["test_accuracy"] for r in runs] for name, runs in circles.items()
            },
            "circles_unit_spread_last": {
                name: [float(r["spread"][-1]) for r in runs]
                for name, runs in circles.items()
                if spec[name].hidden > 1
            },
            "circles_monitor_kinds": {
                name: sorted({f.kind for r in runs for f in r["findings"]})
                for name, runs in circles.items()
            },
        },  # fmt: skip
        notes=[
            "A draw whose 640 training labels are exactly balanced (p̄ = ½"
            + (f", as seeds {balanced_seeds} are" if balanced_seeds else "")
            + ") makes the all-zero start a stationary point: every gradient is 0 up to float32 "
            "rounding of σ(0), and nothing moves. The book's steps are shown on the first draw "
            f"from seed {ctx.seed} on that is not balanced (seed {seed}).",
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
            "units to 1e-5 of the weights' scale.",
        ],
    )
