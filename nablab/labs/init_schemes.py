"""init-schemes: how the initial weight scale sets the variance through a tanh MLP (NNDL §7.4).

Per-layer output variance of a [100, 200, 400, 300, 200, 100] tanh MLP under N(0, 1),
N(0, 0.01²), Xavier normal / uniform and He; then training a [2, 300, 500, 700, 400, 1]
tanh MLP on moons from Xavier and from N(0, 1).

``config.iterations`` sets the moons runs' epochs (100; quick 10); the variances are
measured at initialisation.
"""

import numpy as np

import nablab
from nablab import nn, optim
from nablab.data import DataLoader, TensorDataset, moons
from nablab.labs._panels import curve_panels
from nablab.labs._seeds import data_and_model_seeds
from nablab.labs.base import LabConfig, LabResult, Table, register, spread, track

VARIANCE_WIDTHS = [100, 200, 400, 300, 200, 100]
TRAIN_WIDTHS = [2, 300, 500, 700, 400, 1]
INPUT_STD = 0.1
INITS = {  # name: init of one weight matrix (biases are 0)
    "N(0, 1)": lambda w, g: nn.init.normal_(w, 0.0, 1.0, g),
    "N(0, 0.01²)": lambda w, g: nn.init.normal_(w, 0.0, 0.01, g),
    "Xavier normal": lambda w, g: nn.init.xavier_normal_(w, generator=g),
    "Xavier uniform": lambda w, g: nn.init.xavier_uniform_(w, generator=g),
    "He normal": lambda w, g: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g),
}


def tanh_mlp(widths, init, generator, tanh_last=False):
    """Linear layers of `widths` with tanh after each one but the last (after the last
    too with `tanh_last`); weights by `init`, biases 0."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        linear = nn.Linear(n_in, n_out, generator=generator)
        INITS[init](linear.weight, generator)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if tanh_last or i < len(widths) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def layer_variances(init, batch, seed):
    """Variance and saturated share (|h| > 0.99) of each layer's tanh output for
    X ~ N(0, 0.1²) of shape (batch, 100); index 0 is the input."""
    gen = np.random.default_rng(seed)
    model = tanh_mlp(VARIANCE_WIDTHS, init, gen, tanh_last=True)
    h = nablab.randn(batch, VARIANCE_WIDTHS[0], generator=gen) * INPUT_STD
    variances, saturated = [float(np.var(h.data))], [0.0]
    with nablab.no_grad():
        for layer in model:
            h = layer(h)
            if isinstance(layer, nn.Tanh):
                variances.append(float(np.var(h.data)))
                saturated.append(float(np.mean(np.abs(h.data) > 0.99)))
    return variances, saturated


def train_moons(init, seed, epochs):
    """make_moons(300, noise 0.5): 200 train / 100 test; batch 10, SGD lr 0.005, BCE with
    logits. Returns per-epoch mean training loss, test loss and final accuracies."""
    data_seed, model_seed = data_and_model_seeds(seed)
    X, y = moons(300, noise=0.5, seed=data_seed)
    X_train, y_train, X_test, y_test = X[:200], y[:200], X[200:], y[200:]
    gen = np.random.default_rng(model_seed)
    model = tanh_mlp(TRAIN_WIDTHS, init, gen)
    optimizer = optim.SGD(model.parameters(), lr=0.005)
    loss_fn = nn.BCEWithLogitsLoss()
    loader = DataLoader(TensorDataset(X_train, y_train), 10, shuffle=True, generator=gen)
    history = {"train": [], "test": []}
    for _ in range(epochs):
        total = 0.0
        for Xb, yb in loader:
            loss = loss_fn(model(Xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(Xb)
        history["train"].append(total / len(X_train))
        with nablab.no_grad():
            history["test"].append(loss_fn(model(X_test), y_test).item())
    with nablab.no_grad():
        for name, Xs, ys in (("train_acc", X_train, y_train), ("test_acc", X_test, y_test)):
            history[name] = float(np.mean((model(Xs).data > 0) == (ys.data > 0.5)))
    return history


@register(
    "init-schemes",
    summary="Weight-init scale and the variance through a tanh MLP; Xavier vs N(0, 1) training",
    source="NNDL §7.4 (parameter initialisation)",
)
def run(config: LabConfig) -> LabResult:
    seed = config.seed
    batch = 1000
    epochs = config.steps(full=100, quick=10)
    seeds = [seed] if config.quick else [seed + i for i in range(3)]

    stats = {init: layer_variances(init, batch, seed) for init in INITS}
    n_layers = len(VARIANCE_WIDTHS) - 1
    var_rows = [
        [init, *v, s[-1], max(v[1:]) / v[0], min(v[1:]) / v[0]] for init, (v, s) in stats.items()
    ]
    variance_table = Table(
        f"Variance of each layer's tanh output, MLP {VARIANCE_WIDTHS}, input N(0, 0.1²) of "
        f"shape ({batch}, 100), biases 0; 'saturated' = share of |h| > 0.99 at layer {n_layers}",
        ["init", "input"]
        + [f"layer {i}" for i in range(1, n_layers + 1)]
        + ["saturated", "max / input", "min / input"],
        var_rows,
    )

    runs = {}
    jobs = [(init, s) for s in seeds for init in ("Xavier normal", "N(0, 1)")]
    for init, s in track(jobs, total=len(jobs), description="moons MLP", config=config):
        runs[init, s] = train_moons(init, s, epochs)
    train_rows = []
    for init in ("Xavier normal", "N(0, 1)"):
        hs = [runs[init, s] for s in seeds]
        train_rows.append(
            [
                init,
                spread([h["train"][0] for h in hs]),
                spread([h["train"][-1] for h in hs]),
                spread([h["test"][-1] for h in hs]),
                spread([h["train_acc"] for h in hs]),
                spread([h["test_acc"] for h in hs]),
            ]
        )
    train_table = Table(
        f"Moons MLP {TRAIN_WIDTHS} tanh, batch 10, SGD lr 0.005, BCE with logits, {epochs} "
        f"epochs, {len(seeds)} seed(s): median (min–max)",
        ["init", "train loss epoch 1", "train loss last", "test loss last", "train acc"]
        + ["test acc"],
        train_rows,
    )

    layers = np.arange(n_layers + 1)
    figures = [
        curve_panels(
            {
                "variance of layer outputs": {init: (layers, v) for init, (v, _) in stats.items()},
                "share of saturated units (|h| > 0.99)": {
                    init: (layers, np.maximum(s, 1e-4)) for init, (_, s) in stats.items()
                },
            },
            config.out / "init_schemes_variance.png",
            logy=True,
            xlabel="layer (0 = input)",
            ylabel="value (log scale)",
            ncols=2,
            marker="o",
            title=f"tanh MLP {VARIANCE_WIDTHS}: forward signal by init (shares below 1e-4 "
            "drawn at 1e-4)",
        ),
        curve_panels(
            {
                f"{split} loss per epoch": {
                    init: runs[init, seed][split] for init in ("Xavier normal", "N(0, 1)")
                }
                for split in ("train", "test")
            },
            config.out / "init_schemes_training.png",
            logy=True,
            ylabel="BCE",
            ncols=2,
            title=f"Moons, MLP {TRAIN_WIDTHS} tanh: Xavier vs N(0, 1) (seed {seed})",
        ),
    ]

    metrics = {
        "variance": {init: v for init, (v, _) in stats.items()},
        "saturated": {init: s for init, (_, s) in stats.items()},
        "training": {
            init: {
                "train_loss": [runs[init, s]["train"][-1] for s in seeds],
                "test_loss": [runs[init, s]["test"][-1] for s in seeds],
                "first_epoch_loss": [runs[init, s]["train"][0] for s in seeds],
                "train_acc": [runs[init, s]["train_acc"] for s in seeds],
                "test_acc": [runs[init, s]["test_acc"] for s in seeds],
            }
            for init in ("Xavier normal", "N(0, 1)")
        },
    }
    answer = _answer(stats, runs, seeds)
    notes = [
        "N(0, 0.01) is read as standard deviation 0.01 (Paddle's Normal(mean, std), as in "
        "the book's other N(0, 0.01) inits).",
        "Xavier here is Glorot's with gain 1, as in the book; for tanh PyTorch recommends "
        "gain 5/3, which would lift the variance slightly. He (kaiming_normal_, fan_in, "
        "gain √2) is designed for ReLU: under tanh it doubles the variance per layer until "
        "tanh compresses it.",
        "The input is a batch of 1000 rows instead of the book's single 1×100 row, for "
        "stable variance estimates; the convergence runs use Xavier normal.",
    ]
    if config.quick:
        notes.append(f"Quick variant: {epochs} epochs, one seed (full: 100 epochs, 3 seeds).")
    return LabResult(
        question="How does the scale of the initial weights set the variance of the signal "
        "through a deep tanh network, and does Xavier initialisation train faster than N(0, 1)?",
        setting=(
            f"Variance: MLP {VARIANCE_WIDTHS}, tanh after every layer, biases 0, input "
            f"N(0, 0.1²) of shape ({batch}, 100); inits N(0, 1), N(0, 0.01²), Xavier normal, "
            f"Xavier uniform, He normal. Convergence: make_moons(300, noise 0.5), first 200 "
            f"train / last 100 test, MLP {TRAIN_WIDTHS} tanh (logit out), batch 10, SGD lr "
            f"0.005, BCE with logits, {epochs} epochs, Xavier normal vs N(0, 1)."
        ),
        tables=[variance_table, train_table],
        figures=figures,
        answer=answer,
        metrics=metrics,
        notes=notes,
    )


def _answer(stats, runs, seeds):
    x_var, _ = stats["Xavier normal"]
    small, _ = stats["N(0, 0.01²)"]
    big, big_sat = stats["N(0, 1)"]
    he, _ = stats["He normal"]
    spread = max(max(x_var[1:]) / x_var[0], x_var[0] / min(x_var[1:]))
    text = (
        f"From an input variance of {x_var[0]:.4f}, Xavier normal keeps every layer between "
        f"{min(x_var[1:]):.4f} and {max(x_var[1:]):.4f} (within {spread:.1f}× of the input); "
        f"N(0, 0.01²) collapses to {small[-1]:.1e} by the last layer; N(0, 1) saturates: "
        f"variance {big[-1]:.2f} with {big_sat[-1]:.0%} of the units at |h| > 0.99; He "
        f"grows it to {he[-1]:.3f}. "
    )
    xavier = np.median([runs["Xavier normal", s]["train"][-1] for s in seeds])
    normal = np.median([runs["N(0, 1)", s]["train"][-1] for s in seeds])
    acc = {
        (init, split): np.median([runs[init, s][f"{split}_acc"] for s in seeds])
        for init in ("Xavier normal", "N(0, 1)")
        for split in ("train", "test")
    }
    first = {
        init: np.median([runs[init, s]["train"][0] for s in seeds])
        for init in ("Xavier normal", "N(0, 1)")
    }
    verdict = "lower" if xavier < normal else "not lower"
    text += (
        f"Training on moons, Xavier's final training loss ({xavier:.3f}) is {verdict} than "
        f"N(0, 1)'s ({normal:.3f}); "
    )
    if len(runs["Xavier normal", seeds[0]]["train"]) > 1:  # one epoch has no epoch-to-epoch move
        jitter = {
            init: np.median(
                [np.mean(np.abs(np.diff(np.log(runs[init, s]["train"])))) for s in seeds]
            )
            for init in ("Xavier normal", "N(0, 1)")
        }
        text += (
            f"the training loss moves by {jitter['Xavier normal']:.0%} vs "
            f"{jitter['N(0, 1)']:.0%} from one epoch to the next (mean |Δ ln loss|); "
        )
    text += (
        f"accuracy train {acc['Xavier normal', 'train']:.2f} / test "
        f"{acc['Xavier normal', 'test']:.2f} vs {acc['N(0, 1)', 'train']:.2f} / "
        f"{acc['N(0, 1)', 'test']:.2f} for N(0, 1). N(0, 1) starts at a loss of "
        f"{first['N(0, 1)']:.2g} (Xavier {first['Xavier normal']:.2g}): a mean BCE that high "
        f"means confidently wrong logits (medians over {len(seeds)} seed(s))."
    )
    return text
