"""normalization: BatchNorm and LayerNorm in a deep MLP (NNDL §7.5, seeds/002 规范化).

A deep ReLU MLP on moons, Linear → [norm] → act for every hidden layer (the norm between the
linear map and the activation, as the book and seeds/002 place it), a Linear(width, 1)
logit out, trained three ways on the same data, init and mini-batches:

    plain:      h = act(W h + b)
    batchnorm:  h = act(BN(W h + b)),  BN per unit over the mini-batch (running statistics
                in eval mode)
    layernorm:  h = act(LN(W h + b)),  LN per example over the layer's units

with SGD at several learning rates. Backprop multiplies the error by Wᵀ at every layer; with
PyTorch's default init (Var W = 1/(3·fan_in)) the signal and the gradient shrink with depth,
and normalisation rescales every layer's pre-activation to unit variance.

The book's own check (NNDL §7.5.1.3) is run too: layers [100, 200, 400, 300, 2, 2], tanh,
N(0, 1) weights, input randn(200, 100): the pre-activations without BN, and with BN and the
book's γ = [1, 2, 3, 5, 4], β = [3, 2, 1, 2, 2].
"""

from __future__ import annotations

import numpy as np

import nablab
from nablab import nn, optim
from nablab.data import DataLoader, TensorDataset
from nablab.labs.base import Table, spread
from nablab.labs.declaration import Claim, Outcome, lab
from nablab.labs.params import Param
from nablab.labs.recipes import ACTIVATION_NAMES, activation_module, linear_layers, moons300
from nablab.labs.runner import Context
from nablab.labs.training import train
from nablab.viz import curve_panels, save

ARMS = ("plain", "batchnorm", "layernorm")
BOOK_LAYERS = (100, 200, 400, 300, 2, 2)
BOOK_GAMMA, BOOK_BETA = (1, 2, 3, 5, 4), (3, 2, 1, 2, 2)


def deep_mlp(arm, p, generator):
    """[Linear(·, width) → norm → act] × depth → Linear(width, 1); weights by `p.init`."""
    layers, n_in = [], 2
    for _ in range(p.depth):
        linear = nn.Linear(n_in, p.width, generator=generator)
        if p.init == "kaiming":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu", generator=generator)
            nn.init.zeros_(linear.bias)
        layers.append(linear)
        if arm == "batchnorm":
            layers.append(nn.BatchNorm1d(p.width))
        elif arm == "layernorm":
            layers.append(nn.LayerNorm(p.width))
        layers.append(activation_module(p.activation))
        n_in = p.width
    layers.append(nn.Linear(n_in, 1, generator=generator))
    return nn.Sequential(*layers)


def weight_grad_norms(model):
    """‖∂L/∂W‖_F of every Linear layer, input first."""
    return [float(np.linalg.norm(m.weight.grad.array)) for m in linear_layers(model).values()]


def train_arm(arm, lr, seed, p, ctx):
    """One run: the seed's moons and init (the same for every arm and lr: the norms draw
    nothing), mini-batch SGD; per-epoch mean training loss, weight-gradient norms per layer
    at the first step and their median over all steps, final losses and accuracies in eval
    mode."""
    data_seed, model_seed = Context.streams(seed)
    (X, y), (X_test, y_test) = moons300(data_seed, noise=p.noise)
    model = deep_mlp(arm, p, np.random.default_rng(model_seed))
    lone = len(X) % p.batch_size == 1  # a last batch of one point has no batch variance
    loader = DataLoader(TensorDataset(X, y), p.batch_size, shuffle=True, drop_last=lone,
                        generator=np.random.default_rng([model_seed, 1]))  # fmt: skip
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    norms = []

    def epoch(i):
        total, seen = 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            norms.append(weight_grad_norms(model))
            optimizer.step()
            total, seen = total + loss.item() * len(xb), seen + len(xb)
        return total / seen

    with np.errstate(over="ignore", invalid="ignore"):
        history = train(epoch, p.epochs, ctx, f"{arm}, lr {lr:g}, seed {seed}")
        model.eval()
        with nablab.no_grad():
            final = loss_fn(model(X), y).item()
            test_acc = float(np.mean((model(X_test).array > 0) == (y_test.array > 0.5)))
            batched = model(X[:20]).array
            single = np.concatenate([model(X[i : i + 1]).array for i in range(20)])
    norms = np.array(norms)
    return {
        "loss": [float(v) for v in history.array()],
        "diverged_at": history.diverged_at,
        "final_loss": final,
        "test_accuracy": test_acc,
        "grad_first": norms[0].tolist(),
        "grad_median": np.median(norms, axis=0).tolist(),
        "eval_single_vs_batch": float(np.max(np.abs(batched - single))),
    }


def trains(run, target):
    """A run trains when its final training loss (eval mode, all training points) is finite
    and below `target`; it fails otherwise (stuck near ln 2 = 0.693, or diverged)."""
    return bool(np.isfinite(run["final_loss"]) and run["final_loss"] < target)


BOOK_VARIANTS = {"no_bn": "no BN", "bn_unit_affine": "BN γ=1, β=0",
                 "bn_book_affine": "BN, book's γ, β"}  # identifier: label  # fmt: skip


def book_check(seed):
    """NNDL §7.5.1.3 with our modules: z⁽ˡ⁾ (the normalised pre-activation, before tanh) of
    each hidden layer for the book's MLP without BN, with BN (γ = 1, β = 0) and with the
    book's γ, β. Returns {variant: [(mean, std, per-unit means, per-unit stds) per layer]}, the
    variants named as BOOK_VARIANTS."""
    data_seed, model_seed = Context.streams(seed)
    X = nablab.randn(200, BOOK_LAYERS[0], generator=np.random.default_rng(data_seed))
    out = {}
    variants = {"no_bn": None, "bn_unit_affine": ((1,) * 5, (0,) * 5),
                "bn_book_affine": (BOOK_GAMMA, BOOK_BETA)}  # fmt: skip
    for name, affine in variants.items():
        generator = np.random.default_rng(model_seed)  # the same weights for each variant
        h, layers = X, []
        with nablab.no_grad():
            for i, (n_in, n_out) in enumerate(zip(BOOK_LAYERS[:-2], BOOK_LAYERS[1:-1])):
                linear = nn.Linear(n_in, n_out)
                nn.init.normal_(linear.weight, 0.0, 1.0, generator)
                nn.init.zeros_(linear.bias)
                z = linear(h)
                if affine is not None:
                    bn = nn.BatchNorm1d(n_out)
                    bn.weight.array[:], bn.bias.array[:] = affine[0][i], affine[1][i]
                    z = bn(z)
                d = z.array
                layers.append((float(d.mean()), float(d.std()), d.mean(0), d.std(0)))
                h = z.tanh()
        out[name] = layers
    return out


def book_moving_average(seed, steps=50):
    """The book's update, moving ← 0.9·moving + 0.1·batch with the biased batch variance,
    beside BatchNorm1d(momentum=0.1), on `steps` fresh batches randn(200, 100) through one
    Linear(100, 200) with N(0, 1) weights (float64): (largest |Δ running mean|, median
    ratio of our running variance to the book's)."""
    rng = np.random.default_rng(Context.streams(seed)[1])
    w = rng.standard_normal((100, 200))
    bn = nn.BatchNorm1d(200, momentum=0.1).double()
    mean, var = np.zeros(200), np.ones(200)
    for _ in range(steps):
        z = rng.standard_normal((200, 100)) @ w
        bn(nablab.tensor(z))
        mean = 0.9 * mean + 0.1 * z.mean(0)
        var = 0.9 * var + 0.1 * z.var(0)
    return float(np.max(np.abs(bn.running_mean.array - mean))), float(
        np.median(bn.running_var.array / var)
    )


# ----- claims -----------------------------------------------------------------------------


def _trained(m, arm, lr):
    return m["trained"][arm][str(lr)]


def bn_where_plain_fails(m, p):
    if not {"plain", "batchnorm"} <= set(m["trained"]):
        return None
    lrs = [lr for lr in p.lr if _trained(m, "batchnorm", lr) == 1 and _trained(m, "plain", lr) == 0]
    return bool(lrs), {"learning rates": ", ".join(f"{lr:g}" for lr in lrs) or "none"}


def closer_gradients(m, p):
    if "plain" not in m["log_ratio"] or len(m["log_ratio"]) < 2:
        return None
    plain = np.abs(m["log_ratio"]["plain"])
    numbers, holds = {"plain, smallest": plain.min()}, True
    for arm in [arm for arm in m["log_ratio"] if arm != "plain"]:
        normed = np.abs(m["log_ratio"][arm])
        numbers[f"{arm}, largest"] = normed.max()
        holds &= bool((normed < plain).all())
    return holds, numbers


def ln_below_bn(m, p):
    largest = m["largest_lr"]
    if not {"batchnorm", "layernorm"} <= set(largest):
        return None
    bn, ln = largest["batchnorm"], largest["layernorm"]
    holds = bn is not None and ln is not None and ln < bn
    return holds, {"batchnorm": bn or "none", "layernorm": ln or "none"}


def eval_uses_running_stats(m, p):
    if "batchnorm" not in m["eval_single_vs_batch"]:
        return None
    worst = max(m["eval_single_vs_batch"]["batchnorm"])
    return worst < 1e-5, {"largest |Δ|": worst}


def book_gamma_beta(m, p):
    errors = []
    for i, (_, _, means, stds) in enumerate(m["book_check"]["bn_book_affine"]):
        errors += [np.max(np.abs(np.array(means) - BOOK_BETA[i])),
                   np.max(np.abs(np.array(stds) / BOOK_GAMMA[i] - 1))]  # fmt: skip
    plain_std = m["book_check"]["no_bn"][3][1]
    return max(errors) < 1e-3 and plain_std > 5, {
        "largest error": max(errors),
        "layer 3 std without BN": plain_std,
    }


def answer(m, p) -> str:
    largest = m["largest_lr"]

    def lr_text(arm):
        lr = largest[arm]
        return f"{arm} {lr:g}" if lr is not None else f"{arm} none"

    ratios = {arm: 10 ** float(np.median(v)) for arm, v in m["log_ratio"].items()}
    return (
        f"Largest learning rate in [{', '.join(f'{lr:g}' for lr in p.lr)}] at which the "
        f"{p.depth}-hidden-layer net trains (final training loss < {p.target_loss:g}) on every "
        f"seed: {'; '.join(lr_text(arm) for arm in largest)}. At the first step the first "
        "layer's ‖∂L/∂W‖ is "
        + "; ".join(f"{arm} {r:.2g}×" for arm, r in ratios.items())
        + f" the output layer's (median over {len(m['seeds'])} seed(s))."
    )


@lab(
    "normalization",
    summary="Deep MLP plain vs BatchNorm vs LayerNorm: learning rates, gradient norms per layer",
    source="NNDL §7.5; seeds/002 (规范化)",
    question=(
        "Does batch (or layer) normalisation let a deep MLP train where the plain one fails, "
        "at larger learning rates, and does it keep the gradients of the first layers at the "
        "scale of the last?"
    ),
    setting=(
        "make_moons(300, noise {noise:g}): first 200 train, last 100 test. MLP 2 → {width} × "
        "{depth} hidden layers → 1, Linear → [BatchNorm1d | LayerNorm | nothing] → {activation} "
        "in every hidden layer, init {init}; BCE with logits, SGD, batch {batch_size}, "
        "{epochs} epochs, lr {lr}; arms {arms}; {seeds} seed(s), each with its own data and "
        "init, shared by every arm and lr. A run trains when its final training loss (eval "
        "mode, all 200 points) is below {target_loss:g}. Book's check: MLP [100, 200, 400, 300, 2, "
        "2], tanh, N(0, 1) weights, input randn(200, 100)."
    ),
    params=[
        Param("depth", 8, "hidden layers", min=1, max=30),
        Param("width", 32, "units per hidden layer", min=2, max=512),
        Param("lr", [0.01, 0.1, 0.3, 1.0, 3.0], "SGD learning rates", min=0, min_open=True),
        Param("epochs", 100, "epochs of every run", quick=30, min=1),
        Param("batch_size", 50, "mini-batch size (BatchNorm's statistics)", min=2, max=200),
        Param("seeds", 3, "seeds (data and init)", quick=1, min=1, max=50),
        Param("activation", "relu", "hidden activation", choices=ACTIVATION_NAMES),
        Param(
            "init",
            "pytorch",
            "Linear weights: PyTorch's default or He normal (biases 0)",
            choices=("pytorch", "kaiming"),
        ),  # fmt: skip
        Param("noise", 0.2, "make_moons noise", min=0),
        Param(
            "target_loss",
            0.3,
            "a run trains when its final training loss is below this",
            min=0,
            min_open=True,
        ),  # fmt: skip
        Param("arms", list(ARMS), "networks compared", choices=ARMS),
    ],
    length="epochs",
    claims=[
        Claim(
            "BatchNorm trains the deep net at a learning rate where the plain one fails (final "
            "training loss below {target_loss:g} on every seed vs on none)",
            bn_where_plain_fails,
        ),
        Claim(
            "Normalised nets keep the first layer's gradient closer to the last layer's: "
            "|log10 ‖∂L/∂W₁‖/‖∂L/∂W_out‖| at the first step is below the plain net's on every "
            "seed",
            closer_gradients,
        ),
        Claim(
            "LayerNorm trains too, but its largest learning rate is below BatchNorm's",
            ln_below_bn,
        ),
        Claim(
            "Eval mode uses the running statistics: each of 20 training points alone gets the "
            "output it gets in a batch (every BatchNorm run)",
            eval_uses_running_stats,
        ),
        Claim(
            "Book's check: with BN every unit's pre-activation has mean β and std γ of its "
            "layer (to 1e-3); without BN layer 3's std is above 5",
            book_gamma_beta,
        ),
        Claim(
            "The book's moving average (0.9·old + 0.1·batch) is BatchNorm1d's momentum=0.1: the "
            "same running mean (to 1e-9)",
            lambda m, p: (m["book_momentum"]["mean_diff"] < 1e-9, m["book_momentum"]),
        ),
    ],
    answer=answer,
)
def experiment(p, ctx) -> Outcome:
    seeds = ctx.seeds(p.seeds)
    arms = list(dict.fromkeys(p.arms))
    runs = {(arm, lr, s): train_arm(arm, lr, s, p, ctx)
            for arm in arms for lr in p.lr for s in seeds}  # fmt: skip
    trained = {arm: {str(lr): float(np.mean([trains(runs[arm, lr, s], p.target_loss)
                                              for s in seeds])) for lr in p.lr}
               for arm in arms}  # fmt: skip
    largest = {
        arm: max((lr for lr in p.lr if trained[arm][str(lr)] == 1), default=None) for arm in arms
    }
    first = {arm: np.array([runs[arm, p.lr[0], s]["grad_first"] for s in seeds]) for arm in arms}
    log_ratio = {arm: np.log10(g[:, 0] / g[:, -1]).tolist() for arm, g in first.items()}
    book = book_check(ctx.seed)
    mean_diff, var_ratio = book_moving_average(ctx.seed)

    loss_table = Table(
        f"Final training loss in eval mode, median (min–max) over {len(seeds)} seed(s); "
        f"[k/n] = seeds below {p.target_loss:g}",
        ["lr", *arms],
        [[lr, *(f"{spread([runs[arm, lr, s]['final_loss'] for s in seeds])} "
                f"[{round(trained[arm][str(lr)] * len(seeds))}/{len(seeds)}]" for arm in arms)]
         for lr in p.lr],
    )  # fmt: skip
    accuracy_table = Table(
        "Test accuracy (100 points, eval mode), median (min–max)",
        ["lr", *arms],
        [[lr, *(spread([runs[arm, lr, s]["test_accuracy"] for s in seeds]) for arm in arms)]
         for lr in p.lr],
    )  # fmt: skip
    n_layers = p.depth + 1
    layer_names = [f"fc{i}" for i in range(1, n_layers + 1)]
    grad_table = Table(
        "‖∂L/∂W‖_F per Linear layer at the first step (the init; the same for every lr), "
        "median over seeds",
        ["layer", *arms],
        [[name, *(float(np.median(first[arm][:, i])) for arm in arms)]
         for i, name in enumerate(layer_names)]
        + [["log10 fc1/out", *(spread(log_ratio[arm], fmt=".2f") for arm in arms)]],
    )  # fmt: skip
    book_table = Table(
        "Book's check (NNDL §7.5.1.3): z of each hidden layer (before tanh), mean / std over "
        "all elements; γ, β per layer = " + ", ".join(f"({g}, {b})" for g, b in
                                                     zip(BOOK_GAMMA, BOOK_BETA)),
        ["layer", *(f"{BOOK_VARIANTS[v]}: mean / std" for v in book)],
        [[f"layer {i} ({BOOK_LAYERS[i + 1]} units)",
          *(f"{book[v][i][0]:.3g} / {book[v][i][1]:.3g}" for v in book)] for i in range(4)],
    )  # fmt: skip

    layers = np.arange(1, n_layers + 1)
    median_grads = {
        f"median over training, lr {lr:g}": {
            arm: (layers, np.median([runs[arm, lr, s]["grad_median"] for s in seeds], axis=0))
            for arm in arms
        }
        for lr in p.lr
    }
    figures = [
        save(
            curve_panels(
                {
                    arm: {f"lr {lr:g}": runs[arm, lr, ctx.seed]["loss"] for lr in p.lr}
                    for arm in arms
                },
                logy=True,
                ylabel="training BCE (mean over the epoch)",
                title=f"{p.depth}-hidden-layer {p.activation} MLP on moons, seed {ctx.seed} "
                "(a diverged run stops)",
            ),
            ctx.out / "normalization_loss.png",
        ),
        save(
            curve_panels(
                {
                    "first step (init)": {
                        arm: (layers, np.median(first[arm], axis=0)) for arm in arms
                    }
                }
                | median_grads,
                logy=True,
                xlabel="Linear layer (1 = input side)",
                ylabel="‖∂L/∂W‖_F",
                marker="o",
                title="weight-gradient norm per layer, median over seeds",
            ),
            ctx.out / "normalization_grad_norms.png",
        ),
    ]
    return Outcome(
        tables=[loss_table, accuracy_table, grad_table, book_table],
        figures=figures,
        metrics={
            "seeds": seeds,
            "final_loss": {
                arm: {str(lr): [runs[arm, lr, s]["final_loss"] for s in seeds] for lr in p.lr}
                for arm in arms
            },  # fmt: skip
            "trained": trained,
            "largest_lr": largest,
            "grad_first": {arm: g.tolist() for arm, g in first.items()},
            "log_ratio": log_ratio,
            "eval_single_vs_batch": {
                arm: [r["eval_single_vs_batch"] for k, r in runs.items() if k[0] == arm]
                for arm in arms
            },  # fmt: skip
            "book_check": {
                v: [
                    [mean, std, means.tolist(), stds.tolist()] for mean, std, means, stds in layers_
                ]
                for v, layers_ in book.items()
            },  # fmt: skip
            "book_momentum": {"mean_diff": mean_diff, "var_ratio": var_ratio},
        },
        notes=[
            "'Fails' is measured one way throughout: the final training loss (BCE with logits on "
            f"all 200 training points, eval mode) is not below {p.target_loss:g}, or the loss "
            "stopped being finite (the run stops there). A net stuck at ln 2 = 0.693 predicts "
            "one probability for every point.",
            "Every arm of a seed starts from the same Linear weights and sees the same "
            "mini-batches; BatchNorm and LayerNorm start at γ = 1, β = 0.",
            "The book's code (nndl/practice-in-paddle, chapter 7 notebook, §7.5.1.1 BatchNorm "
            "and §7.5.2.1 LayerNorm): the train-mode line `(X - mean) / paddle.sqrt(var, "
            "self.eps)` passes eps as paddle.sqrt's second argument, `name`, so no ε is added "
            "(a unit with zero batch variance gives 0/0); eval mode does add it. γ and β are "
            "`paddle.to_tensor` scalars, one per layer, not learned parameters (the book's "
            "formula has vectors γ, β learned with the net), and the layers live in a plain "
            "dict, so they are not sublayers (not in parameters() or the state dict). Its "
            "moving variance averages the biased batch variance; PyTorch's running_var, and "
            f"ours, the unbiased one: after 50 batches of 200 ours / the book's = {var_ratio:.4f} "
            f"(200/199 = {200 / 199:.4f}). Its momentum 0.9 weighs the old average, PyTorch's "
            "0.1 the new batch: the same update written the other way round (claim above). In "
            "§7.5.1.4 the loop draws `inputs = paddle.randn(...)` but calls `model3(data)`, so "
            "the 50 'training' passes average one batch over and over.",
        ],
    )
