"""gradient-explosion: why deep products of layers vanish or explode (seeds/004, d2l 4.8).

Products of 30 scalars (0.2³⁰, 5³⁰), of 100 random 4×4 matrices, the sigmoid's gradient,
a 30-layer tanh / ReLU MLP under several init scales (per-layer activation and gradient
norms), and gradient clipping on a character-level RNN (d2l's setting, as in rnn-lm):

    g ← min(1, θ / ‖g‖) g,   ‖g‖ the norm of all the parameters' gradients together.

The products and the MLP's norms are computed, not trained; the RNN runs are the lab's
only training (their epochs are its length).
"""

import math

import numpy as np

import nablab
from nablab import nn, optim
from nablab.data import load_data_time_machine, time_machine
from nablab.lm import RNNModel, detach_state
from nablab.viz import activation_plot, curve_panels, save
from nablab.viz.activations import activation_curve

from .base import Table, spread
from .declaration import Claim, Outcome, Published, lab
from .params import Param
from .runner import Context
from .training import train

EULER_GAMMA = 0.5772156649015329
SCALARS = {"0.2^30": 0.2**30, "5^30": 5.0**30, "0.25^30": 0.25**30}
NAMED_GAINS = {5 / 3: "5/3 (tanh gain)", math.sqrt(2): "√2 (He)"}
POSITIVE = {"min": 0, "min_open": True}


def matrix_product_norms(seed, products=100, size=4):
    """log10 ‖M_k‖_F for M_k = A₁A₂…A_k, A_i with N(0, 1) entries (d2l: M, then 100 more).

    Float64, so that the product's growth is measured, not float32's overflow.
    """
    gen = np.random.default_rng(seed)
    M = nablab.randn(size, size, dtype=nablab.float64, generator=gen)
    logs = [math.log10(float(np.linalg.norm(M.array)))]
    for _ in range(products):
        M = M @ nablab.randn(size, size, dtype=nablab.float64, generator=gen)
        logs.append(math.log10(float(np.linalg.norm(M.array))))
    return logs


def lyapunov_log10(size=4):
    """Growth per factor of a product of n×n N(0, 1) matrices, in log10 (exact):
    ‖Ax‖²/‖x‖² ~ χ²_n for any x, so E ln‖Ax‖/‖x‖ = ½[ln 2 + ψ(n/2)]; ψ(2) = 1 − γ for n = 4."""
    if size != 4:
        raise ValueError("lyapunov_log10 knows ψ(n/2) for n = 4 only")
    return 0.5 * (math.log(2) + 1 - EULER_GAMMA) / math.log(10)


def gain_label(gain: float) -> str:
    """'1', '0.5', '5/3 (tanh gain)', '√2 (He)': how a table names an init scale g."""
    for value, name in NAMED_GAINS.items():
        if math.isclose(gain, value, rel_tol=1e-3):
            return name
    return f"{gain:g}"


def mlp_key(activation: str, gain: float) -> str:
    """The identifier of a deep-MLP run in the metrics: "relu_g_1", "relu_g_1.414", ..."""
    return f"{activation}_g_{gain:.4g}"


def deep_mlp_norms(activation, gain, depth, width, batch, seed):
    """Per-layer RMS of the activations and Frobenius norm of the weight gradients.

    Layers Linear(width, width, no bias), W ~ N(0, gain²/width) from the model stream of
    ``Context.streams(seed)``, input X ~ N(0, 1) of shape (batch, width) from its data
    stream; the loss Σ(H_L ⊙ R)/batch with a fixed R ~ N(0, 1) sends the same-size signal
    back whatever the output's scale.
    """
    data_seed, model_seed = Context.streams(seed)
    weights, inputs = np.random.default_rng(model_seed), np.random.default_rng(data_seed)
    layers = [nn.Linear(width, width, bias=False, generator=weights) for _ in range(depth)]
    for layer in layers:
        nn.init.normal_(layer.weight, 0.0, gain / math.sqrt(width), weights)
    act = nablab.tanh if activation == "tanh" else nablab.relu
    h = nablab.randn(batch, width, generator=inputs)
    rms = []
    for layer in layers:
        h = act(layer(h))
        rms.append(float(np.sqrt(np.mean(h.array.astype(np.float64) ** 2))))
    R = nablab.randn(batch, width, generator=inputs)
    ((h * R).sum() / batch).backward()
    grads = [float(np.linalg.norm(layer.weight.grad.array)) for layer in layers]
    return rms, grads


def rnn_clipping(clip, lr, p, seed, ctx, description):
    """d2l's nn.RNN language model trained with SGD(lr), sequential batches, optional
    clipping of the global gradient norm to `clip` (None: none); per-epoch perplexity and,
    per iteration, the gradient norm before and after clipping. The batches come from the
    data stream and the init from the model stream of ``Context.streams(seed)`` (the same
    for every run of one seed)."""
    data_seed, model_seed = Context.streams(seed)
    loader, vocab = load_data_time_machine(p.batch_size, p.num_steps, False, p.max_tokens,
                                           seed=data_seed)  # fmt: skip
    nablab.manual_seed(model_seed)
    model = RNNModel(nn.RNN(len(vocab), p.hidden), len(vocab))
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    norms = {"norm": [], "clipped_norm": []}

    def epoch(i):
        state, total, count = None, 0.0, 0
        for X, Y in loader:
            state = model.begin_state(X.shape[0]) if state is None else detach_state(state)
            y = nablab.from_numpy(np.ascontiguousarray(np.asarray(Y).T).reshape(-1))
            logits, state = model(X, state)
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), clip or math.inf).item()
            after = math.sqrt(sum(float(np.sum(q.grad.array**2)) for q in model.parameters()))
            norms["norm"].append(norm)
            norms["clipped_norm"].append(after)
            optimizer.step()
            total += loss.item() * y.shape[0]
            count += y.shape[0]
        mean = total / count
        return math.exp(mean) if mean < 700 else math.inf

    with np.errstate(over="ignore", invalid="ignore"):
        history = train(epoch, p.epochs, ctx, description)
    return {"perplexity": history.array().tolist(), **norms}


def blew_up(history):
    """A run blew up when its last perplexity is not finite or above 1000 (V = 28 is chance)."""
    last = history["perplexity"][-1]
    return not math.isfinite(last) or last > 1000


def rnn_runs(p) -> dict:
    """{key: (label, clipping threshold θ or None, learning rate)} of the RNN comparison."""
    return {
        "clipped": (f"clip θ = {p.clip:g}, lr {p.lr:g}", p.clip, p.lr),
        "unclipped": (f"no clipping, lr {p.lr:g}", None, p.lr),
        "unclipped_small_lr": (f"no clipping, lr {p.lr_small:g}", None, p.lr_small),
    }


def setting(m, p) -> str:
    return (
        "Scalars 0.2³⁰, 5³⁰; products of d2l's M and {products} more random 4×4 N(0, 1) "
        "matrices, {seeds} seeds; σ and σ' by autograd on [−8, 8]; a {depth}-layer "
        "width-{width} MLP (tanh with g = {tanh}, ReLU with g = {relu}; no bias, W ~ N(0, "
        "g²/width)) on a batch of {batch} N(0, 1) inputs with a random-projection loss; "
        "nn.RNN(28, {hidden}) char-level LM on d2l's first {max_tokens:,} Time Machine "
        "characters, batch {batch_size}, {num_steps} steps, SGD lr {lr:g} with and without "
        "clipping to θ = {clip:g} ({rnn_seeds} seeds) and lr {lr_small:g} without (first "
        "seed), {epochs:,} epochs."
    ).format(
        **p,
        tanh=", ".join(map(gain_label, p.tanh_gains)),
        relu=", ".join(map(gain_label, p.relu_gains)),
    )


def answer(m, p) -> str:
    mp, sg, rnn = m["matrix_product"], m["sigmoid_grad"], m["rnn"]
    mlp = "; ".join(
        f"{r['label']}: activation RMS {r['rms'][0]:.2g} → {r['rms'][-1]:.2g}, ‖∂L/∂W‖ "
        f"{r['grad_norm'][-1]:.2g} (last layer) → {r['grad_norm'][0]:.2g} (first)"
        for r in m["deep_mlp"].values()
    )
    ratios = [r["first_over_last"] for r in m["deep_mlp"].values() if r["activation"] == "relu"]
    clipped, free, slow = rnn["clipped"], rnn["unclipped"], rnn["unclipped_small_lr"]
    return (
        "0.2³⁰ = 1.1e-21 and 5³⁰ = 9.3e20: thirty layers turn a factor slightly off 1 into "
        f"vanishing or explosion. A product of {p.products + 1} random 4×4 matrices reaches "
        f"‖·‖_F ≈ 10^{np.median(mp['log10_norm']):.0f}, growing by "
        f"10^{np.median(mp['growth_log10']):.3f} per factor (theory "
        f"10^{mp['theory_growth_log10']:.3f}). σ' is at most {sg['0']:.2f} (at 0) and "
        f"{sg['8']:.1e} at x = 8. In the {p.depth}-layer MLP: {mlp}. In the bias-free ReLU net "
        f"the first/last gradient ratio is {min(ratios):.2f}–{max(ratios):.2f} whatever g: the "
        "init scale moves all gradients and the activations together, up or down by orders of "
        "magnitude, while tanh with a large g saturates and its gradients grow toward the "
        f"input. RNN: with clipping the perplexity falls from {clipped['perplexity'][0]:.1f} "
        f"to {clipped['perplexity'][-1]:.1f} and no applied step exceeds θ (max ‖g‖ after "
        f"clipping {clipped['max_clipped_norm']:.3f}, though ‖g‖ > θ on "
        f"{clipped['share_above_theta']:.0%} of the iterations); without clipping the gradient "
        f"norm reaches {free['max_norm']:.3g} and the perplexity ends at "
        f"{free['perplexity'][-1]:.3g}. Training blew up (perplexity > 1000) on "
        f"{sum(free['blew_up'])} of {p.rnn_seeds} seeds without clipping and on "
        f"{sum(clipped['blew_up'])} with it. A {p.lr / p.lr_small:g}× smaller lr without "
        f"clipping ends at perplexity {slow['perplexity'][-1]:.3g}."
    )


def _matrix_growth(m, p):
    mp = m["matrix_product"]
    median = float(np.median(mp["growth_log10"]))
    ok = abs(median - mp["theory_growth_log10"]) < 0.05
    return ok, {"median growth, log10": median, "theory": mp["theory_growth_log10"]}


def _relu_scales(m, p):
    one, he, two = (mlp_key("relu", g) for g in (1.0, math.sqrt(2), 2.0))
    if not {one, he, two} <= set(m["deep_mlp"]):
        return None
    last = {k: m["deep_mlp"][k]["rms"][-1] for k in (one, he, two)}
    ok = last[one] < 1e-3 < 1e3 < last[two] and 0.3 < last[he] < 3
    return ok, {f"RMS h_L, g={gain_label(m['deep_mlp'][k]['gain'])}": v for k, v in last.items()}


def _relu_same_factor_at_every_layer(m, p):
    ratios = {
        f"first / last, g={gain_label(r['gain'])}": r["first_over_last"]
        for r in m["deep_mlp"].values()
        if r["activation"] == "relu"
    }
    if len(ratios) < 2:
        return None
    spread_ = max(ratios.values()) / min(ratios.values()) - 1
    return spread_ < 0.01, ratios


def _tanh_saturates(m, p):
    big = max(p.tanh_gains)
    if big < 2:
        return None
    r = m["deep_mlp"][mlp_key("tanh", big)]
    return r["first_over_last"] > 1, {"‖∂L/∂W₁‖ / ‖∂L/∂W_L‖": r["first_over_last"]}


def _clipping_bounds_steps(m, p):
    c = m["rnn"]["clipped"]
    ok = c["max_clipped_norm"] <= p.clip * (1 + 1e-5) < c["max_norm"]
    ok = ok and c["perplexity"][-1] < c["perplexity"][0]
    return ok, {"max ‖g‖": c["max_norm"], "max ‖g‖ after clipping": c["max_clipped_norm"]}


def _unclipped_blows_up(m, p):
    c, u = m["rnn"]["clipped"], m["rnn"]["unclipped"]
    ok = any(u["blew_up"]) and not any(c["blew_up"])
    return ok, {"seeds blown up without clipping": sum(u["blew_up"]),
                "with clipping": sum(c["blew_up"])}  # fmt: skip


def _small_lr_is_slow(m, p):
    c, s = m["rnn"]["clipped"], m["rnn"]["unclipped_small_lr"]
    last = {"clipped": c["perplexity"][-1], "small lr": s["perplexity"][-1]}
    return last["small lr"] > last["clipped"], {f"last ppl {k}": v for k, v in last.items()}


@lab(
    "gradient-explosion",
    summary="Vanishing and exploding products: scalars, random matrices, deep MLPs, RNN clipping",
    source="seeds/004 (d2l 4.8 numerical stability; 8.5 gradient clipping)",
    question=(
        "How do long products of layers make signals and gradients vanish or explode, and what "
        "do init scale and gradient clipping do about it?"
    ),
    setting=setting,
    params=[
        Param("seeds", 10, "seeds of the random-matrix products", quick=3, min=1, max=1000),
        Param("products", 100, "random matrices multiplied onto d2l's M", min=1, max=10_000),
        Param("depth", 30, "layers of the deep MLP", min=1, max=1000),
        Param("width", 256, "width of the deep MLP", min=1, max=4096),
        Param("batch", 256, "inputs the MLP's norms are measured on", quick=64, min=1),
        Param("tanh_gains", [0.5, 1.0, 5 / 3, 3.0], "init scales g of the tanh MLP", **POSITIVE),
        Param("relu_gains", [1.0, math.sqrt(2), 2.0], "init scales g of the ReLU MLP", **POSITIVE),
        Param("epochs", 100, "epochs of every RNN run", quick=5, min=1),
        Param("rnn_seeds", 3, "seeds of the clipped and unclipped lr runs", quick=2, min=1),
        Param("clip", 1.0, "clipping threshold θ of the global gradient norm", **POSITIVE),
        Param("lr", 1.0, "SGD learning rate with and without clipping", quick=1.5, **POSITIVE),
        Param("lr_small", 0.1, "SGD learning rate of the slower run without clipping", **POSITIVE),
        Param("hidden", 256, "hidden size of the RNN", min=1),
        Param("max_tokens", 10_000, "characters of the book to train on", min=100),
        Param("num_steps", 35, "time steps per window", min=1),
        Param("batch_size", 32, "windows per batch", min=1),
    ],  # fmt: skip
    length="epochs",
    claims=[
        Claim(
            "Thirty scalar layers: 0.2³⁰ < 10⁻²⁰ vanishes and 5³⁰ > 10²⁰ explodes",
            lambda m, p: m["scalars"]["0.2^30"] < 1e-20 and m["scalars"]["5^30"] > 1e20,
        ),
        Claim(
            "A product of random 4×4 N(0, 1) matrices grows at the rate theory predicts: median "
            "log10 growth per factor within 0.05 of {matrix_product[theory_growth_log10]:.4f}",
            _matrix_growth,
        ),
        Claim(
            "The product of {products} + 1 matrices explodes: ‖A₁…A_k‖_F > 10¹⁵ on every seed",
            lambda m, p: (
                min(m["matrix_product"]["log10_norm"]) > 15,
                {"smallest log10 ‖·‖_F": min(m["matrix_product"]["log10_norm"])},
            ),
        ),
        Claim(
            "σ' is at most 0.25 (at x = 0) and < 10⁻³ at x = 8: each sigmoid layer shrinks the "
            "gradient at least 4×",
            lambda m, p: (
                math.isclose(m["sigmoid_grad"]["0"], 0.25, rel_tol=1e-6)
                and m["sigmoid_grad"]["8"] < 1e-3,
                {"σ'(0)": m["sigmoid_grad"]["0"], "σ'(8)": m["sigmoid_grad"]["8"]},
            ),
        ),
        Claim(
            "{depth}-layer ReLU MLP: g = 1 makes the signal vanish (RMS h_L < 10⁻³), g = 2 "
            "explode (> 10³), He's g = √2 keeps it of order 1 (0.3–3)",
            _relu_scales,
        ),
        Claim(
            "Bias-free ReLU MLP: the init scale g multiplies every layer's weight gradient by "
            "the same factor g^(L−1): ‖∂L/∂W₁‖ / ‖∂L/∂W_L‖ is the same for every g (within 1 %)",
            _relu_same_factor_at_every_layer,
        ),
        Claim(
            "tanh with a large g saturates: its weight gradients grow toward the input "
            "(‖∂L/∂W₁‖ > ‖∂L/∂W_L‖)",
            _tanh_saturates,
        ),
        Claim(
            "With clipping no applied step exceeds θ = {clip:g} although ‖g‖ > θ occurs, and "
            "the perplexity falls",
            _clipping_bounds_steps,
        ),
        Claim(
            "Without clipping, SGD at lr {lr:g} blows up (perplexity > 1000) on at least one of "
            "the {rnn_seeds} seeds; with clipping on none",
            _unclipped_blows_up,
        ),
        Claim(
            "A smaller lr (lr_small) avoids the explosion only by learning slower: without "
            "clipping it ends above the clipped lr's perplexity",
            _small_lr_is_slow,
        ),
    ],
    published=[
        Published(v, "seeds/004", "seed", row=row, table="scalars")
        for v, row in [
            ("≈ 1e−21", "0.2³⁰ (weight 0.2, 30 layers)"),
            ("≈ 9e20", "5³⁰ (weight 5, 30 layers)"),
        ]
    ],  # fmt: skip
    answer=answer,
    needs=time_machine,
)
def experiment(p, ctx) -> Outcome:
    tables, figures, metrics = [], [], {"scalars": SCALARS}
    out = ctx.out

    # 1. Thirty scalar layers.
    tables.append(
        Table(
            "Products of 30 scalars",
            ["product", "value"],
            [["0.2³⁰ (weight 0.2, 30 layers)", SCALARS["0.2^30"]],
             ["5³⁰ (weight 5, 30 layers)", SCALARS["5^30"]],
             ["0.25³⁰ (sigmoid's largest slope, 30 layers)", SCALARS["0.25^30"]]],
            name="scalars",
        )
    )  # fmt: skip

    # 2. Products of random matrices.
    seeds = ctx.seeds(p.seeds)
    products = {s: matrix_product_norms(Context.streams(s)[0], p.products) for s in seeds}
    finals = np.array([logs[-1] for logs in products.values()])
    slopes = np.array([(logs[-1] - logs[0]) / (len(logs) - 1) for logs in products.values()])
    theory = lyapunov_log10()
    tables.append(
        Table(
            f"‖A₁A₂…A_{p.products + 1}‖_F for 4×4 N(0, 1) matrices (d2l's M then "
            f"{p.products} products), {p.seeds} seeds",
            ["quantity", "ours (median, min–max)", "theory"],
            [["log10 ‖product‖_F", spread(finals, fmt=".1f"), None],
             ["growth per factor, log10", spread(slopes, fmt=".4f"), round(theory, 4)]],
        )
    )  # fmt: skip
    metrics["matrix_product"] = {
        "log10_norm": finals.tolist(),
        "growth_log10": slopes.tolist(),
        "theory_growth_log10": theory,
    }
    k = np.arange(1, p.products + 2)
    figures.append(
        save(
            curve_panels(
                {
                    "product of k random 4×4 matrices": {
                        **{f"seed {s}": logs for s, logs in products.items()},
                        "theory slope": (k, theory * k),
                    }
                },
                xlabel="k (factors)",
                ylabel="log10 ‖A₁…A_k‖_F",
            ),
            out / "gradient_explosion_matrix_products.png",
        )
    )

    # 3. The sigmoid's gradient, from autograd.
    xs = np.linspace(0.0, 8.0, 5)
    values, slopes_sigmoid = (np.asarray(a, float) for a in activation_curve(nablab.sigmoid, xs))
    tables.append(
        Table(
            "Sigmoid and its derivative σ'(x) = σ(x)(1 − σ(x)) (autograd)",
            ["x", "σ(x)", "σ'(x)"],
            [[float(x), v, d] for x, v, d in zip(xs, values, slopes_sigmoid)],
        )
    )
    metrics["sigmoid_grad"] = {f"{x:g}": d for x, d in zip(xs, slopes_sigmoid.tolist())}
    figures.append(
        save(
            activation_plot(
                {"sigmoid": nablab.sigmoid},
                xlim=(-8.0, 8.0),
                title="sigmoid: the gradient vanishes for |x| ≳ 4",
            ),
            out / "gradient_explosion_sigmoid.png",
        )
    )

    # 4. A deep MLP under several init scales.
    gains = {"tanh": p.tanh_gains, "relu": p.relu_gains}
    mlp, mlp_rows = {}, []
    for activation, values in gains.items():
        for gain in values:
            rms, grads = deep_mlp_norms(activation, gain, p.depth, p.width, p.batch, ctx.seed)
            mlp[mlp_key(activation, gain)] = {
                "label": f"{activation} g={gain_label(gain)}", "activation": activation,
                "gain": gain, "rms": rms, "grad_norm": grads,
                "first_over_last": grads[0] / grads[-1],
            }  # fmt: skip
            mlp_rows.append([activation, gain_label(gain), rms[0], rms[-1], grads[0], grads[-1],
                             grads[0] / grads[-1]])  # fmt: skip
    metrics["deep_mlp"] = mlp
    tables.append(
        Table(
            f"{p.depth}-layer MLP, width {p.width}, W ~ N(0, g²/{p.width}), no bias, batch "
            f"{p.batch}: activation RMS and weight-gradient norm at the first and last layer",
            ["activation", "g", "RMS h₁", f"RMS h_{p.depth}", "‖∂L/∂W₁‖",
             f"‖∂L/∂W_{p.depth}‖", "first / last"],
            mlp_rows,
        )
    )  # fmt: skip
    by_act = {a: {gain_label(r["gain"]): r for r in mlp.values() if r["activation"] == a}
              for a in gains}  # fmt: skip
    figures.append(
        save(
            curve_panels(
                {
                    f"{a}: activation RMS": {f"g = {g}": r["rms"] for g, r in by_act[a].items()}
                    for a in gains
                }
                | {
                    f"{a}: ‖∂L/∂W_l‖": {f"g = {g}": r["grad_norm"] for g, r in by_act[a].items()}
                    for a in gains
                },
                logy=True,
                xlabel="layer l",
                ylabel="value",
                ncols=2,
                title=f"{p.depth}-layer MLP: forward signal and weight gradients by init scale g",
            ),
            out / "gradient_explosion_deep_mlp.png",
        )
    )

    # 5. Gradient clipping on an RNN language model (d2l's setting).
    runs, rnn_seeds = rnn_runs(p), ctx.seeds(p.rnn_seeds)
    jobs = [(key, s) for s in rnn_seeds for key in runs
            if s == ctx.seed or key != "unclipped_small_lr"]  # fmt: skip
    histories = {}
    for key, s in ctx.track(jobs, len(jobs), "RNN"):
        label, clip, lr = runs[key]
        histories[key, s] = rnn_clipping(clip, lr, p, s, ctx, f"{label}, seed {s}")
    rnn = {}
    for key, (label, _, _) in runs.items():
        h = histories[key, ctx.seed]
        rnn[key] = {
            "label": label,
            "perplexity": h["perplexity"],
            "max_norm": max(h["norm"]),
            "median_norm": float(np.median(h["norm"])),
            "max_clipped_norm": max(h["clipped_norm"]),
            "share_above_theta": float(np.mean(np.asarray(h["norm"]) > p.clip)),
            "blew_up": [blew_up(histories[key, s]) for s in rnn_seeds if (key, s) in histories],
        }
    metrics["rnn"] = rnn
    tables.append(
        Table(
            f"nn.RNN(28, {p.hidden}) language model, Time Machine ({p.max_tokens:,} chars), batch "
            f"{p.batch_size} × {p.num_steps} steps, SGD, {p.epochs} epochs; seed {ctx.seed}, and "
            f"blow-ups (perplexity > 1000) over seeds {', '.join(map(str, rnn_seeds))}",
            ["run", "ppl epoch 1", "ppl last", "median ‖g‖", "max ‖g‖", "max ‖g‖ after clip",
             "share ‖g‖ > θ", "blew up"],
            [[r["label"], r["perplexity"][0], r["perplexity"][-1], r["median_norm"],
              r["max_norm"], r["max_clipped_norm"], r["share_above_theta"],
              f"{sum(r['blew_up'])} of {len(r['blew_up'])}"] for r in rnn.values()],
        )
    )  # fmt: skip
    shown = {r["label"]: histories[key, ctx.seed] for key, r in rnn.items()}
    blown = [s for s in rnn_seeds if blew_up(histories["unclipped", s])]
    if blown and ctx.seed not in blown:
        shown[f"{runs['unclipped'][0]} (seed {blown[0]})"] = histories["unclipped", blown[0]]
    iterations = len(histories["clipped", ctx.seed]["norm"])
    figures.append(
        save(
            curve_panels(
                {
                    "perplexity per epoch": {n: h["perplexity"] for n, h in shown.items()},
                    "‖g‖ per iteration, before clipping": {n: h["norm"] for n, h in shown.items()}
                    | {f"θ = {p.clip:g}": [p.clip] * iterations},
                },
                logy=True,
                xlabel="epoch / iteration",
                ylabel="perplexity / ‖g‖",
                ncols=2,
                title=f"Gradient clipping on a character-level RNN (seed {ctx.seed})",
            ),
            out / "gradient_explosion_rnn_clipping.png",
        )
    )

    return Outcome(
        tables=tables,
        figures=figures,
        metrics=metrics,
        notes=[
            "The seed gives only the scalar example (0.2³⁰ and 5³⁰); the matrix products, the "
            "sigmoid plot and clipping come from d2l (4.8 and 8.5), the deep MLP is ours.",
            "Matrix products are computed in float64; d2l's float32 would do too: the largest "
            f"product here, 10^{finals.max():.0f}, is below float32's 3.4e38.",
            "RNN: d2l's concise RNN (nn.RNN, PyTorch's init), sequential partitioning with the "
            "state carried and detached, as in rnn-lm; the norm is taken over all parameters "
            "before clipping (clip_grad_norm_'s return). A run stops at the first epoch whose "
            "loss is no longer finite.",
            "Without clipping, d2l's lr 1 blows up on some seeds only, and often after the "
            "first few epochs; the quick variant (5 epochs, 2 seeds) trains at lr 1.5 so that "
            "it blows up within its epochs, while the clipped run at the same lr still learns.",
        ],
    )
