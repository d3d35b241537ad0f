"""optimizers: GD, AdaGrad, RMSprop, Momentum and Adam compared (NNDL §7.3).

A 2-D quadratic and the book's cubic "3-D" function, each optimizer in the book's form
(ε inside the square root) and in PyTorch's (nablab.optim); a learning-rate sweep on the
seeds' networks; the optimizers on the regularization lab's moons MLP.

``config.iterations`` sets the moons MLP's iterations (3000; quick 300), the lab's training
run; the paths on the two surfaces and seeds/003's sweep keep the books' step counts.
"""

import math

import numpy as np

import nablab
from nablab import optim
from nablab.labs import _optimizer_nets as nets
from nablab.labs._panels import curve_panels
from nablab.labs.base import LabConfig, LabResult, Table, register, spread, track
from nablab.viz import contour_trajectories

BOOK_EPS = 1e-7  # the book's code: ε = 1e-7, inside the square root
X0_2D, X0_3D = (3.0, 4.0), (2.0, 3.0)


def quadratic(x):
    """f(x) = 0.2·x₀² + 2·x₁² (the book's w·x² summed, w = [0.2, 2])."""
    return 0.2 * x[0] ** 2 + 2 * x[1] ** 2


def cubic(x):
    """f(x) = x₀² + x₁² + x₁³ + x₀x₁: a minimum at (0, 0), a saddle at (0.25, −0.5),
    unbounded below as x₁ → −∞."""
    return x[0] ** 2 + x[1] ** 2 + x[1] ** 3 + x[0] * x[1]


def book_rule(kind, lr, beta=0.9, beta2=0.99):
    """The book's update of x (in place) from its gradient g, as in its code:

    AdaGrad   G ← G + g²;                 x ← x − lr/√(G + ε)·g
    RMSprop   G ← βG + (1 − β)g²;         x ← x − lr/√(G + ε)·g
    Momentum  Δ ← ρΔ − lr·g;              x ← x + Δ            (ρ = beta)
    Adam      M ← β₁M + (1 − β₁)g, G ← β₂G + (1 − β₂)g²;
              x ← x − lr/√(G/(1 − β₂ᵗ) + ε) · M/(1 − β₁ᵗ)
    GD        x ← x − lr·g
    """

    def update(x, g, state):
        if kind == "GD":
            x -= lr * g
        elif kind == "AdaGrad":
            state["G"] = state.get("G", 0) + g * g
            x -= lr / np.sqrt(state["G"] + BOOK_EPS) * g
        elif kind == "RMSprop":
            state["G"] = beta * state.get("G", 0) + (1 - beta) * g * g
            x -= lr / np.sqrt(state["G"] + BOOK_EPS) * g
        elif kind == "Momentum":
            state["delta"] = beta * state.get("delta", 0) - lr * g
            x += state["delta"]
        elif kind == "Adam":
            t = state["t"] = state.get("t", 0) + 1
            state["M"] = beta * state.get("M", 0) + (1 - beta) * g
            state["G"] = beta2 * state.get("G", 0) + (1 - beta2) * g * g
            m_hat, g_hat = state["M"] / (1 - beta**t), state["G"] / (1 - beta2**t)
            x -= lr / np.sqrt(g_hat + BOOK_EPS) * m_hat
        else:
            raise ValueError(f"unknown optimizer {kind!r}")

    return update


def torch_optimizer(kind, lr, beta=0.9, beta2=0.99):
    """The same optimizer from nablab.optim (PyTorch's rules: ε outside the square root)."""
    return {
        "GD": lambda p: optim.SGD(p, lr=lr),
        "AdaGrad": lambda p: optim.Adagrad(p, lr=lr),
        "RMSprop": lambda p: optim.RMSprop(p, lr=lr, alpha=beta),
        "Momentum": lambda p: optim.SGD(p, lr=lr, momentum=beta),
        "Adam": lambda p: optim.Adam(p, lr=lr, betas=(beta, beta2)),
    }[kind]


def descend(f, x0, steps, rule=None, make_optimizer=None):
    """Iterates x₀, x₁, … of `steps` updates on f, gradients by autograd (float64).

    Either `rule(x, g, state)` (the book's form) or `make_optimizer([x])` (nablab.optim).
    Once an iterate overflows, the rest of the path is inf/NaN.
    """
    x = nablab.tensor(np.asarray(x0, dtype=np.float64), requires_grad=True)
    optimizer = make_optimizer([x]) if make_optimizer else None
    state, path = {}, [x.data.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            x.grad = None
            f(x).backward()
            if optimizer is not None:
                optimizer.step()
            else:
                rule(x.data, x.grad.data, state)
            path.append(x.data.copy())
    return np.array(path)


def gradient(f, x):
    x = nablab.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    f(x).backward()
    return x.grad.data.copy()


def hessian(f, x, h=1e-5):
    """Central differences of autograd's gradient: H[:, j] = (∇f(x + h·e_j) − ∇f(x − h·e_j))/2h."""
    x = np.asarray(x, dtype=np.float64)
    columns = [(gradient(f, x + h * e) - gradient(f, x - h * e)) / (2 * h) for e in np.eye(len(x))]
    H = np.stack(columns, axis=1)
    return (H + H.T) / 2


def _runs(f, x0, specs):
    """{(name, form): path} for every optimizer spec in both forms."""
    paths = {}
    for name, (kind, lr, beta, beta2, steps) in specs.items():
        paths[name, "book"] = descend(f, x0, steps, rule=book_rule(kind, lr, beta, beta2))
        make = torch_optimizer(kind, lr, beta, beta2)
        paths[name, "nablab.optim"] = descend(f, x0, steps, make_optimizer=make)
    return paths


SPECS_2D = {  # name: (kind, lr, β or ρ, β₂, steps)
    "GD lr 0.2": ("GD", 0.2, 0.0, 0.0, 20),
    "AdaGrad lr 0.5": ("AdaGrad", 0.5, 0.0, 0.0, 50),
    "RMSprop lr 0.1, β 0.9": ("RMSprop", 0.1, 0.9, 0.0, 50),
    "Momentum lr 0.01, ρ 0.9": ("Momentum", 0.01, 0.9, 0.0, 50),
    "Adam lr 0.2, β 0.9/0.99": ("Adam", 0.2, 0.9, 0.99, 20),
}
SPECS_3D = {
    "SGD lr 0.01": ("GD", 0.01, 0.0, 0.0, 150),
    "AdaGrad lr 0.5": ("AdaGrad", 0.5, 0.0, 0.0, 150),
    "RMSprop lr 0.1, β 0.9": ("RMSprop", 0.1, 0.9, 0.0, 150),
    "Momentum lr 0.01, ρ 0.9": ("Momentum", 0.01, 0.9, 0.0, 150),
    "Adam lr 0.1, β 0.9/0.99": ("Adam", 0.1, 0.9, 0.99, 150),
}


def _point(p):
    return "(" + ", ".join(f"{v:.3g}" for v in p) + ")"


def _first(mask):
    """Index of the first True, or None."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _last_finite(path):
    finite = np.isfinite(path).all(axis=1)
    last = int(np.flatnonzero(finite)[-1])
    return last, path[last]


@register(
    "optimizers",
    summary="GD, AdaGrad, RMSprop, Momentum, Adam: paths, a saddle that is a minimum, lr sweeps",
    source="NNDL §7.3; seeds/000, seeds/003 (learning rates)",
)
def run(config: LabConfig) -> LabResult:
    out, seed = config.out, config.seed
    tables, figures, metrics = [], [], {}

    # 1. The 2-D quadratic.
    paths2 = _runs(quadratic, X0_2D, SPECS_2D)
    rows = []
    for name in SPECS_2D:
        book, ours = paths2[name, "book"], paths2[name, "nablab.optim"]
        rows.append(
            [
                name,
                len(book) - 1,
                _point(book[-1]),
                float(quadratic(book[-1])),
                _point(ours[-1]),
                float(quadratic(ours[-1])),
                float(np.abs(book - ours).max()),
            ]
        )
    f0 = float(quadratic(np.array(X0_2D)))
    tables.append(
        Table(
            f"2-D: f(x) = 0.2x₀² + 2x₁² from x₀ = (3, 4), f = {f0:g}; the book's form (ε = 1e-7 "
            "inside √) and nablab.optim's (PyTorch: ε outside √; Momentum v ← ρv + g, "
            "x ← x − lr·v)",
            ["optimizer", "steps", "book: x", "book: f(x)", "nablab.optim: x", "nablab.optim: f(x)"]
            + ["max |book − nablab| on the path"],
            rows,
        )
    )
    metrics["2d"] = {
        f"{name} [{form}]": {"x": path[-1].tolist(), "f": float(quadratic(path[-1]))}
        for (name, form), path in paths2.items()
    }
    metrics["2d_f0"] = f0
    figures.append(
        contour_trajectories(
            lambda a, b: 0.2 * a**2 + 2 * b**2,
            {name: paths2[name, "nablab.optim"] for name in SPECS_2D},
            out / "optimizers_2d.png",
            xlim=(-2.0, 4.0),
            ylim=(-4.5, 4.5),
            title="f = 0.2x₀² + 2x₁² (axes x1 = x₀, x2 = x₁): nablab.optim paths",
        )
    )

    # 2. The book's "3-D" function: critical points, then the paths.
    points = {"(0, 0)": (0.0, 0.0), "(0.25, −0.5)": (0.25, -0.5)}
    point_rows, eigen = [], {}
    for label, p in points.items():
        eigenvalues = np.linalg.eigvalsh(hessian(cubic, p))
        eigen[label] = eigenvalues.tolist()
        kind = "minimum" if eigenvalues.min() > 0 else "saddle" if eigenvalues.max() > 0 else "max"
        point_rows.append(
            [
                label,
                _point(gradient(cubic, p)),
                _point(eigenvalues),
                float(cubic(np.array(p))),
                kind,
            ]
        )
    tables.append(
        Table(
            "3-D: f(x) = x₀² + x₁² + x₁³ + x₀x₁: its critical points (∇f = 0 solves x₁ = −2x₀, "
            "12x₀² = 3x₀); Hessian by central differences of autograd's gradient",
            ["point", "∇f (autograd)", "Hessian eigenvalues", "f", "kind"],
            point_rows,
        )
    )
    metrics["hessian_eigenvalues"] = eigen
    paths3 = _runs(cubic, X0_3D, SPECS_3D)
    rows3, outcomes = [], {}
    for (name, form), path in paths3.items():
        last, x = _last_finite(path)
        diverged = last < len(path) - 1 or np.abs(x).max() > 1e3
        below = {level: _first(path[:, 1] < level) for level in (-0.5, -1000)}
        if diverged:
            outcome = (
                f"diverged: x₁ < −0.5 from step {below[-0.5]}, < −1000 from step "
                f"{below[-1000]}, overflow after step {last}"
            )
        else:
            outcome = f"‖x − (0, 0)‖ = {np.linalg.norm(x):.3f}"
        outcomes[f"{name} [{form}]"] = {
            "x": x.tolist(),
            "last_finite_step": last,
            "diverged": bool(diverged),
            "first_step_below": {str(level): step for level, step in below.items()},
        }
        with np.errstate(over="ignore", invalid="ignore"):
            rows3.append([name, form, _point(x), float(cubic(x)), outcome])
    tables.append(
        Table(
            "3-D: 150 steps from (2, 3) (RMSprop's β = 0.9 as in 2-D; the book's forms and "
            "nablab.optim's)",
            ["optimizer", "form", "last finite x", "f(x)", "outcome"],
            rows3,
        )
    )
    metrics["3d"] = outcomes
    figures.append(
        contour_trajectories(
            lambda a, b: a**2 + b**2 + b**3 + a * b,
            {name: paths3[name, "nablab.optim"] for name in SPECS_3D},
            out / "optimizers_3d.png",
            xlim=(-1.5, 3.0),
            ylim=(-3.0, 3.5),
            levels=40,
            title="f = x₀² + x₁² + x₁³ + x₀x₁ (x1 = x₀, x2 = x₁): min (0, 0), saddle (0.25, −0.5)",
        )
    )

    # 3. Learning-rate sweeps and the optimizers on the moons MLP.
    steps_net = nets.seed003_sweep(rounds=200, steps=(0.5, 1.0, 2.0, 5.0))
    tables.append(
        Table(
            "seeds/003's 2-2-2 sigmoid network, gradient descent: loss after rounds 1, 50, "
            "200 (floor 0.00245: the target −0.07 is below any sigmoid output)",
            ["step", "round 1", "round 50", "round 200"],
            [[s, h[0], h[49], h[199]] for s, h in steps_net.items()],
        )
    )
    metrics["seed003_loss"] = {str(s): [h[0], h[49], h[199]] for s, h in steps_net.items()}

    seeds = [seed] if config.quick else [seed + i for i in range(5)]
    iterations = config.steps(full=3000, quick=300)
    moon_specs = nets.MOONS_OPTIMIZERS | nets.MOONS_LR_SWEEP
    moon_runs = {}
    jobs = [(name, s) for s in seeds for name in moon_specs]
    for name, s in track(jobs, total=len(jobs), description="moons MLP", config=config):
        moon_runs[name, s] = nets.train_moons(moon_specs[name], s, iterations)
    moon_rows = []
    for name in moon_specs:
        runs = [moon_runs[name, s] for s in seeds]
        moon_rows.append(
            [
                name,
                spread([r["loss"][-1] for r in runs]),
                spread([r["train_acc"] for r in runs]),
                spread([r["test_acc"] for r in runs]),
                spread([max(r["loss"]) for r in runs]),
                " ".join(f"{r['dead'][0]}|{r['dead'][1]}" for r in runs),
            ]
        )
    tables.append(
        Table(
            f"Moons MLP [2, 20, 3, 1] ReLU, N(0, 1) weights, BCE with logits, full batch, "
            f"{iterations} iterations, {len(seeds)} seed(s): median (min–max); dead ReLUs = "
            "units 0 on every training point, layer 1 (of 20) | layer 2 (of 3), per seed",
            ["optimizer", "final train loss", "train accuracy", "test accuracy", "peak loss"]
            + ["dead ReLUs"],
            moon_rows,
        )
    )
    metrics["moons"] = {
        name: {
            "final_loss": [moon_runs[name, s]["loss"][-1] for s in seeds],
            "train_acc": [moon_runs[name, s]["train_acc"] for s in seeds],
            "test_acc": [moon_runs[name, s]["test_acc"] for s in seeds],
            "first_loss": [moon_runs[name, s]["loss"][0] for s in seeds],
            "peak_loss": [max(moon_runs[name, s]["loss"]) for s in seeds],
            "dead": [moon_runs[name, s]["dead"] for s in seeds],
        }
        for name in moon_specs
    }
    figures.append(
        curve_panels(
            {
                "moons MLP: optimizers": {
                    name: moon_runs[name, seed]["loss"] for name in nets.MOONS_OPTIMIZERS
                },
                "moons MLP: GD learning rates": {
                    name: moon_runs[name, seed]["loss"]
                    for name in ["GD lr 0.2", *nets.MOONS_LR_SWEEP]
                },
                "seeds/003 network: GD steps": {f"step {s:g}": h for s, h in steps_net.items()},
            },
            out / "optimizers_losses.png",
            logy=True,
            xlabel="iteration",
            ylabel="training loss",
            title=f"Training loss (seed {seed})",
        )
    )

    answer = _answer(paths2, f0, eigen, outcomes, steps_net, metrics["moons"])
    notes = [
        "NNDL calls (0, 0) of the 3-D function a saddle point that Momentum 'escapes'. "
        "(0, 0) is a local minimum (Hessian eigenvalues 1 and 3); the saddle is at "
        "(0.25, −0.5), and f is unbounded below (x₁³), so Momentum does not escape to a "
        "better minimum: it overshoots past the saddle and runs off to x₁ → −∞.",
        "The book's AdaGrad, RMSprop and Adam put ε = 1e-7 inside the square root "
        "(√(G + ε)); PyTorch (nablab.optim) adds ε outside (√G + ε) with ε = 1e-10 "
        "(Adagrad) or 1e-8. Every table shows both; the contour plots show nablab.optim. "
        "The book's Momentum Δ ← ρΔ − lr·g is PyTorch's v ← ρv + g with Δ = −lr·v: the "
        "same path for a constant lr.",
        "RMSprop's β for the 3-D runs is not given in LABS.md; the lab uses 0.9 as in 2-D.",
        "Learning rates for the moons MLP are ours (the book compares the optimizers on "
        "other data): GD 0.2 (the regularization lab's), Momentum 0.02 with ρ 0.9 (the same "
        "long-run step 0.02/(1 − 0.9) = 0.2), AdaGrad 0.1, RMSprop 0.01, Adam 0.01; plus GD "
        "at seeds/000's 0.01, 0.1 and 10.",
        "seeds/003 concludes that step 0.5 trains better than 2 and that the loss no longer "
        "changes between rounds 50 and 200; the table gives the losses for the reader to "
        "check (see the answer).",
    ]
    if config.quick:
        notes.append(f"Quick variant: 1 seed and {iterations} iterations on moons (full: 5, 3000).")
    return LabResult(
        question="How do GD, AdaGrad, RMSprop, Momentum and Adam move on simple surfaces, "
        "what happens near the book's 'saddle point', and how much does the learning rate "
        "matter?",
        setting=(
            "2-D f = 0.2x₀² + 2x₁² from (3, 4): GD lr 0.2 (20 steps), AdaGrad lr 0.5, RMSprop "
            "lr 0.1 β 0.9, Momentum lr 0.01 ρ 0.9 (50 steps each), Adam lr 0.2 β 0.9/0.99 (20 "
            "steps). 3-D f = x₀² + x₁² + x₁³ + x₀x₁ from (2, 3), 150 steps: SGD 0.01, AdaGrad "
            "0.5, RMSprop 0.1, Momentum 0.01/0.9, Adam 0.1/0.9/0.99. Gradients by autograd, "
            "float64. Sweeps: seeds/003's network with steps 0.5, 1, 2, 5; the regularization "
            "lab's moons MLP (make_moons(300, noise 0.5), 200 train / 100 test, [2, 20, 3, 1] "
            f"ReLU, N(0, 1) weights, BCE with logits, full batch) for {iterations} iterations."
        ),
        tables=tables,
        figures=figures,
        answer=answer,
        metrics=metrics,
        notes=notes,
    )


def _answer(paths2, f0, eigen, outcomes, steps_net, moons_metrics):
    ours = {name: float(quadratic(paths2[name, "nablab.optim"][-1])) for name in SPECS_2D}
    worst = max(ours, key=ours.get)
    flips = {
        name: int(np.sum(np.diff(np.sign(paths2[name, "nablab.optim"][:, 1])) != 0))
        for name in SPECS_2D
    }
    oscillating = [f"{name} ({n}×)" for name, n in flips.items() if n >= 2]
    text = (
        f"2-D: every optimizer brings f from {f0:g} to at most {ours[worst]:.3g} ({worst}); "
        f"x₁ (the steep axis) changes sign along the path for "
        f"{', '.join(oscillating) or 'none of them'}. "
    )
    e00 = eigen["(0, 0)"]
    esad = eigen["(0.25, −0.5)"]
    text += (
        f"3-D: the Hessian at (0, 0) has eigenvalues {e00[0]:.3f} and {e00[1]:.3f} (a local "
        f"minimum); at (0.25, −0.5) they are {esad[0]:.3f} and {esad[1]:.3f} (the saddle). "
    )
    torch_runs = {k: v for k, v in outcomes.items() if k.endswith("[nablab.optim]")}
    momentum = outcomes["Momentum lr 0.01, ρ 0.9 [nablab.optim]"]
    others = [v for k, v in torch_runs.items() if not k.startswith("Momentum")]
    far = max(float(np.linalg.norm(v["x"])) for v in others)
    if momentum["diverged"]:
        steps = momentum["first_step_below"]
        text += (
            f"Momentum overshoots past the saddle and diverges: x₁ < −0.5 from step "
            f"{steps['-0.5']}, below −1000 from step {steps['-1000']}, overflow after step "
            f"{momentum['last_finite_step']}; "
        )
    else:
        text += f"Momentum ends at {_point(momentum['x'])}; "
    text += f"the other four end within {far:.3f} of (0, 0). "
    loss50 = {s: h[49] for s, h in steps_net.items()}
    loss200 = {s: h[199] for s, h in steps_net.items()}
    better = "lower" if loss200[2.0] < loss200[0.5] else "higher"
    text += (
        f"seeds/003's network after 200 rounds: step 0.5 → {loss200[0.5]:.5f}, step 2 → "
        f"{loss200[2.0]:.5f} ({better} with step 2); from round 50 to 200 the loss still moves "
        f"(step 0.5: {loss50[0.5]:.5f} → {loss200[0.5]:.5f}). "
    )
    median = lambda m, key: float(np.median(m[key]))  # noqa: E731
    finals = {n: median(m, "final_loss") for n, m in moons_metrics.items()}
    finite = {n: v for n, v in finals.items() if math.isfinite(v)}
    best = min(finite, key=finite.get)
    text += f"Moons MLP: the lowest final training loss is {best}'s ({finite[best]:.3g}). "
    sweep = [n for n in moons_metrics if n.startswith("GD lr")]
    accuracy = {n: median(moons_metrics[n], "train_acc") for n in sweep}
    text += "GD's learning rate: " + "; ".join(
        f"{n[3:]} → loss {finals[n]:.3g}, train accuracy {accuracy[n]:.2f}" for n in sweep
    )
    for name in sweep:
        m = moons_metrics[name]
        if not finals[name] < 0.9 * median(m, "first_loss"):
            all_dead = sum(dead[1] == 3 for dead in m["dead"])
            text += (
                f". With {name[3:]} the loss jumps to {median(m, 'peak_loss'):.3g} in the first "
                f"steps and never recovers: on {all_dead} of {len(m['dead'])} seeds all 3 units "
                "of the second ReLU layer are dead (0 on every training point), so the output "
                "is a constant and the gradient to every earlier layer is 0"
            )
    return text + "."
