"""init-schemes: how the initial weight scale sets the variance through a tanh MLP (NNDL §7.4).

Variance. An MLP of widths n₀, n₁, …, n_L with tanh after every layer and biases 0,
h⁽ˡ⁾ = tanh(W⁽ˡ⁾ h⁽ˡ⁻¹⁾), fed x ~ N(0, 0.1²). For small signals tanh z ≈ z, so

    Var h⁽ˡ⁾ ≈ n_{l−1} · Var W⁽ˡ⁾ · Var h⁽ˡ⁻¹⁾

and the signal keeps its scale when Var W = 1/n_{l−1}. Xavier (Glorot) takes
Var W = 2/(n_{l−1} + n_l) (normal, or uniform on ±√(6/(n_{l−1} + n_l))); He takes
2/n_{l−1} (for ReLU, which halves the variance); N(0, 1) makes n_{l−1}·Var W ≫ 1 and
saturates tanh, N(0, 0.01²) makes it ≪ 1 and the signal dies out.

Convergence. A [2, 300, 500, 700, 400, 1] tanh MLP (logit out) trained on moons with
mini-batch SGD from Xavier normal and from N(0, 1).
"""

import numpy as np

import nablab
from nablab import nn, optim
from nablab.data import DataLoader, TensorDataset
from nablab.labs.base import Table, spread
from nablab.labs.declaration import Claim, Outcome, lab
from nablab.labs.params import Param
from nablab.labs.recipes import moons300
from nablab.labs.runner import Context
from nablab.labs.training import train
from nablab.viz import arm_colors, curve_panels, save


def inits(large=1.0, small=0.01) -> dict:
    """identifier → init of one weight matrix W (in place, from a generator). The identifiers
    key the metrics and results.json; ``init_labels`` names them for tables and plots."""
    return {
        "normal_large": lambda w, g: nn.init.normal_(w, 0.0, large, g),
        "normal_small": lambda w, g: nn.init.normal_(w, 0.0, small, g),
        "xavier_normal": lambda w, g: nn.init.xavier_normal_(w, generator=g),
        "xavier_uniform": lambda w, g: nn.init.xavier_uniform_(w, generator=g),
        "he_normal": lambda w, g: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g),
    }


def init_labels(large=1.0, small=0.01) -> dict[str, str]:
    """identifier → how a person reads the init: "N(0, 1²)", "Xavier normal", ..."""
    return {"normal_large": f"N(0, {large:g}²)", "normal_small": f"N(0, {small:g}²)",
            "xavier_normal": "Xavier normal", "xavier_uniform": "Xavier uniform",
            "he_normal": "He normal"}  # fmt: skip


def tanh_mlp(widths, init, generator, tanh_last=False):
    """Linear layers of `widths` with tanh after each one but the last (after the last
    too with `tanh_last`); weights by `init`, biases 0."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        linear = nn.Linear(n_in, n_out, generator=generator)
        init(linear.weight, generator)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if tanh_last or i < len(widths) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def layer_variances(widths, init, batch, input_std, seed):
    """Variance and saturated share (|h| > 0.99) of each layer's tanh output for
    X ~ N(0, input_std²) of shape (batch, widths[0]); index 0 is the input. X comes from
    the seed's data stream (the same for every init), the weights from its model stream."""
    data_seed, model_seed = Context.streams(seed)
    model = tanh_mlp(widths, init, np.random.default_rng(model_seed), tanh_last=True)
    h = nablab.randn(batch, widths[0], generator=np.random.default_rng(data_seed)) * input_std
    variances, saturated = [float(np.var(h.array))], [0.0]
    with nablab.no_grad():
        for layer in model:
            h = layer(h)
            if isinstance(layer, nn.Tanh):
                variances.append(float(np.var(h.array)))
                saturated.append(float(np.mean(np.abs(h.array) > 0.99)))
    return variances, saturated


def train_moons(init, seed, p, ctx, description):
    """moons300 (200 train / 100 test), MLP [2, *hidden, 1] tanh, mini-batch SGD on BCE with
    logits. Returns per-epoch mean training loss, test loss and the final accuracies."""
    data_seed, model_seed = Context.streams(seed)
    (X_train, y_train), (X_test, y_test) = moons300(data_seed)
    generator = np.random.default_rng(model_seed)
    model = tanh_mlp([2, *p.train_hidden, 1], init, generator)
    optimizer = optim.SGD(model.parameters(), lr=p.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    loader = DataLoader(TensorDataset(X_train, y_train), p.batch_size, shuffle=True,
                        generator=generator)  # fmt: skip

    def epoch(i):
        total = 0.0
        for Xb, yb in loader:
            loss = loss_fn(model(Xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(Xb)
        return total / len(X_train)

    def record(i, loss):
        with nablab.no_grad():
            return [float(loss), loss_fn(model(X_test), y_test).item()]

    history = train(epoch, p.epochs, ctx, description, record=record).array()
    with nablab.no_grad():
        accuracy = [
            float(np.mean((model(Xs).array > 0) == (ys.array > 0.5)))
            for Xs, ys in ((X_train, y_train), (X_test, y_test))
        ]
    return {"train": history[:, 0].tolist(), "test": history[:, 1].tolist(),
            "train_acc": accuracy[0], "test_acc": accuracy[1]}  # fmt: skip


def answer(m, p) -> str:
    x_var, small, big = (
        m["variance"][k] for k in ("xavier_normal", "normal_small", "normal_large")
    )
    he, trained = m["variance"]["he_normal"], m["training"]
    med = {init: {k: float(np.median(v)) for k, v in t.items()} for init, t in trained.items()}
    xavier, normal = med["xavier_normal"], med["normal_large"]
    text = (
        f"From an input variance of {x_var[0]:.4f}, Xavier normal keeps every layer between "
        f"{min(x_var[1:]):.4f} and {max(x_var[1:]):.4f}; {m['small']} collapses to "
        f"{small[-1]:.1e} by the last layer; {m['large']} saturates: variance {big[-1]:.2f} "
        f"with {m['saturated']['normal_large'][-1]:.0%} of the units at |h| > 0.99; He ends at "
        f"{he[-1]:.3f}. Training on moons for {p.epochs} epochs, Xavier's final training loss "
        f"is {xavier['train_loss']:.3f} and {m['large']}'s {normal['train_loss']:.3f}; "
    )
    if p.epochs > 1:  # one epoch has no epoch-to-epoch move
        jitter = m["jitter"]
        text += (
            f"the training loss moves by {jitter['xavier_normal']:.0%} vs "
            f"{jitter['normal_large']:.0%} from one epoch to the next (mean |Δ ln loss|); "
        )
    return text + (
        f"accuracy train {xavier['train_acc']:.2f} / test {xavier['test_acc']:.2f} vs "
        f"{normal['train_acc']:.2f} / {normal['test_acc']:.2f} for {m['large']}. "
        f"{m['large']} starts at a loss of {normal['first_epoch_loss']:.2g} (Xavier "
        f"{xavier['first_epoch_loss']:.2g}): a mean BCE that high means confidently wrong "
        f"logits (medians over {p.seeds} seed(s))."
    )


def _xavier_flat(m, p):
    ratios = {}
    labels = init_labels(p.std_large, p.std_small)
    for init in ("xavier_normal", "xavier_uniform"):
        v = np.asarray(m["variance"][init])
        ratios[f"{labels[init]}: max/input"], ratios[f"{labels[init]}: min/input"] = (
            v[1:].max() / v[0],
            v[1:].min() / v[0],
        )
    return all(1 / 4 < r < 4 for r in ratios.values()), ratios


def _median(m, init, key):
    return float(np.median(m["training"][init][key]))


@lab(
    "init-schemes",
    summary="Weight-init scale and the variance through a tanh MLP; Xavier vs N(0, 1) training",
    source="NNDL §7.4 (parameter initialisation)",
    question=(
        "How does the scale of the initial weights set the variance of the signal through a "
        "deep tanh network, and does Xavier initialisation train faster than N(0, 1)?"
    ),
    setting=(
        "Variance: MLP [{widths}], tanh after every layer, biases 0, input N(0, {input_std:g}²) of "
        "shape ({batch}, {widths[0]}); inits {large}, {small}, Xavier normal, Xavier uniform, He "
        "normal. Convergence: make_moons(300, noise 0.5), first 200 train / last 100 test, MLP "
        "[2, {train_hidden}, 1] tanh (logit out), batch {batch_size}, SGD lr {lr:g}, BCE with "
        "logits, {epochs} epochs, Xavier normal vs {large}, {seeds} seed(s)."
    ),
    params=[
        Param(
            "std_large",
            1.0,
            "σ of the large normal init N(0, σ²), trained against Xavier",
            min=0,
            min_open=True,
        ),
        Param("std_small", 0.01, "σ of the small normal init N(0, σ²)", min=0, min_open=True),
        Param(
            "widths",
            [100, 200, 400, 300, 200, 100],
            "widths of the variance MLP, input first (its depth is their number − 1)",
            min=1,
        ),
        Param("input_std", 0.1, "σ of the variance MLP's input N(0, σ²)", min=0, min_open=True),
        Param("batch", 1000, "rows of the variance MLP's input (the book's is 1)", min=2),
        Param("train_hidden", [300, 500, 700, 400], "hidden widths of the moons MLP", min=1),
        Param("epochs", 100, "epochs of every moons run", quick=10, min=1),
        Param("lr", 0.005, "SGD learning rate of the moons runs", min=0, min_open=True),
        Param("batch_size", 10, "mini-batch size of the moons runs", min=1, max=200),
        Param("seeds", 3, "seeds of the moons runs", quick=1, min=1, max=100),
    ],  # fmt: skip
    length="epochs",
    claims=[
        Claim(
            "Xavier (normal and uniform) keeps every layer's variance within 4× of the input's",
            _xavier_flat,
        ),
        Claim(
            "{small} makes the signal die out: the last layer's variance is below 1e-6 of the "
            "input's",
            lambda m, p: (
                (r := m["variance"]["normal_small"][-1] / m["variance"]["normal_small"][0]) < 1e-6,
                {"last/input": r},
            ),
        ),
        Claim(
            "{large} saturates tanh: last-layer variance > 0.5 with over half the units at "
            "|h| > 0.99",
            lambda m, p: (
                m["variance"]["normal_large"][-1] > 0.5
                and m["saturated"]["normal_large"][-1] > 0.5,
                {
                    "variance": m["variance"]["normal_large"][-1],
                    "saturated": m["saturated"]["normal_large"][-1],
                },
            ),
        ),  # fmt: skip
        Claim(
            "He normal (Var W = 2/n, designed for ReLU) grows the signal through tanh: the last "
            "layer's variance is over 4× the input's",
            lambda m, p: (
                (r := m["variance"]["he_normal"][-1] / m["variance"]["he_normal"][0]) > 4,
                {"last/input": r},
            ),
        ),
        Claim(
            "Trained on moons, Xavier normal ends with a lower training loss than {large} "
            "(median over seeds)",
            lambda m, p: (
                _median(m, "xavier_normal", "train_loss")
                < _median(m, "normal_large", "train_loss"),
                {
                    "Xavier": _median(m, "xavier_normal", "train_loss"),
                    m["large"]: _median(m, "normal_large", "train_loss"),
                },
            ),
        ),  # fmt: skip
    ],
    answer=answer,
)
def experiment(p, ctx) -> Outcome:
    schemes, labels = inits(p.std_large, p.std_small), init_labels(p.std_large, p.std_small)
    large, small = labels["normal_large"], labels["normal_small"]
    colors = arm_colors(labels.values())
    stats = {
        name: layer_variances(p.widths, init, p.batch, p.input_std, ctx.seed)
        for name, init in schemes.items()
    }
    n_layers = len(p.widths) - 1
    var_rows = [
        [labels[init], *v, s[-1], max(v[1:]) / v[0], min(v[1:]) / v[0]]
        for init, (v, s) in stats.items()
    ]

    seeds, compared = ctx.seeds(p.seeds), ("xavier_normal", "normal_large")
    runs = {
        (init, s): train_moons(schemes[init], s, p, ctx, f"{labels[init]}, seed {s}")
        for s in seeds
        for init in compared
    }
    training = {
        init: {
            "train_loss": [runs[init, s]["train"][-1] for s in seeds],
            "test_loss": [runs[init, s]["test"][-1] for s in seeds],
            "first_epoch_loss": [runs[init, s]["train"][0] for s in seeds],
            "train_acc": [runs[init, s]["train_acc"] for s in seeds],
            "test_acc": [runs[init, s]["test_acc"] for s in seeds],
        }
        for init in compared
    }
    train_rows = [
        [labels[init], *(spread(t[k]) for k in ("first_epoch_loss", "train_loss", "test_loss",
                                        "train_acc", "test_acc"))]
        for init, t in training.items()
    ]  # fmt: skip
    jitter = {
        init: float(np.median([np.mean(np.abs(np.diff(np.log(runs[init, s]["train"]))))
                               for s in seeds]))
        for init in compared
    }  # fmt: skip

    layers = np.arange(n_layers + 1)
    widths = [2, *p.train_hidden, 1]
    figures = [
        save(
            curve_panels(
                {
                    "variance of layer outputs": {
                        labels[init]: (layers, v) for init, (v, _) in stats.items()
                    },
                    "share of saturated units (|h| > 0.99)": {
                        labels[init]: (layers, np.maximum(s, 1e-4))
                        for init, (_, s) in stats.items()
                    },
                },
                logy=True,
                xlabel="layer (0 = input)",
                ylabel="value (log scale)",
                ncols=2,
                marker="o",
                colors=colors,
                title=f"tanh MLP {p.widths}: forward signal by init "
                "(shares below 1e-4 drawn at 1e-4)",
            ),
            ctx.out / "init_schemes_variance.png",
        ),
        save(
            curve_panels(
                {
                    f"{split} loss per epoch": {
                        labels[init]: runs[init, ctx.seed][split] for init in compared
                    }
                    for split in ("train", "test")
                },
                logy=True,
                ylabel="BCE",
                ncols=2,
                colors=colors,
                title=f"Moons, MLP {widths} tanh: Xavier vs {large} (seed {ctx.seed})",
            ),
            ctx.out / "init_schemes_training.png",
        ),
    ]
    return Outcome(
        tables=[
            Table(
                f"Variance of each layer's tanh output, MLP {p.widths}, input N(0, "
                f"{p.input_std:g}²) of shape ({p.batch}, {p.widths[0]}), biases 0; 'saturated' "
                f"= share of |h| > 0.99 at layer {n_layers}",
                [
                    "init",
                    "input",
                    *(f"layer {i}" for i in range(1, n_layers + 1)),
                    "saturated",
                    "max / input",
                    "min / input",
                ],
                var_rows,
            ),
            Table(
                f"Moons MLP {widths} tanh, batch {p.batch_size}, SGD lr {p.lr:g}, BCE with "
                f"logits, {p.epochs} epochs, {len(seeds)} seed(s): median (min–max)",
                [
                    "init",
                    "train loss epoch 1",
                    "train loss last",
                    "test loss last",
                    "train acc",
                    "test acc",
                ],
                train_rows,
            ),
        ],  # fmt: skip
        figures=figures,
        metrics={
            "large": large,
            "small": small,
            "variance": {init: v for init, (v, _) in stats.items()},
            "saturated": {init: s for init, (_, s) in stats.items()},
            "training": training,
            "jitter": jitter,
        },
        notes=[
            "N(0, 0.01) is read as standard deviation 0.01 (Paddle's Normal(mean, std), as in "
            "the book's other N(0, 0.01) inits).",
            "Xavier here is Glorot's with gain 1, as in the book; for tanh PyTorch recommends "
            "gain 5/3, which would lift the variance slightly. He (kaiming_normal_, fan_in, "
            "gain √2) is designed for ReLU: under tanh it doubles the variance per layer until "
            "tanh compresses it.",
            f"The input is a batch of {p.batch} rows instead of the book's single 1×100 row, "
            "for stable variance estimates; the convergence runs use Xavier normal.",
        ],
    )
