"""gradient-explosion: why deep products of layers vanish or explode (seeds/004, d2l 4.8).

Products of 30 scalars (0.2³⁰, 5³⁰), of 100 random 4×4 matrices, the sigmoid's gradient,
a 30-layer tanh / ReLU MLP under several init scales (per-layer activation and gradient
norms), and gradient clipping on a character-level RNN (d2l's setting, as in rnn-lm).

``config.iterations`` sets the RNN runs' epochs (100; quick 5), the lab's only training;
the products and the MLP's norms are computed, not trained.
"""

import math

import numpy as np

import nablab
from nablab import nn, optim
from nablab.data import load_data_time_machine
from nablab.labs._panels import curve_panels
from nablab.labs._seeds import data_and_model_seeds
from nablab.labs.base import LabConfig, LabResult, Table, register, track
from nablab.lm import RNNModel, detach_state
from nablab.viz import activation_plot
from nablab.viz.activations import activation_curve

EULER_GAMMA = 0.5772156649015329
RNN_RUNS = {  # name: (clipping threshold θ or None, learning rate)
    "clip θ = 1, lr 1": (1.0, 1.0),
    "no clipping, lr 1": (None, 1.0),
    "no clipping, lr 0.1": (None, 0.1),
}


def matrix_product_norms(seed, factors=101, size=4):
    """log10 ‖M_k‖_F for M_k = A₁A₂…A_k, A_i with N(0, 1) entries (d2l: M, then 100 more).

    Float64, so that the product's growth is measured, not float32's overflow.
    """
    gen = np.random.default_rng(seed)
    M = nablab.randn(size, size, dtype=nablab.float64, generator=gen)
    logs = [math.log10(float(np.linalg.norm(M.data)))]
    for _ in range(factors - 1):
        M = M @ nablab.randn(size, size, dtype=nablab.float64, generator=gen)
        logs.append(math.log10(float(np.linalg.norm(M.data))))
    return logs


def lyapunov_log10(size=4):
    """Growth per factor of a product of n×n N(0, 1) matrices, in log10 (exact):
    ‖Ax‖²/‖x‖² ~ χ²_n for any x, so E ln‖Ax‖/‖x‖ = ½[ln 2 + ψ(n/2)]; ψ(2) = 1 − γ for n = 4."""
    if size != 4:
        raise ValueError("lyapunov_log10 knows ψ(n/2) for n = 4 only")
    return 0.5 * (math.log(2) + 1 - EULER_GAMMA) / math.log(10)


def deep_mlp_norms(activation, gain, depth, width, batch, seed):
    """Per-layer RMS of the activations and Frobenius norm of the weight gradients.

    Layers Linear(width, width, no bias), W ~ N(0, gain²/width), input X ~ N(0, 1) of
    shape (batch, width); the loss Σ(H_L ⊙ R)/batch with a fixed R ~ N(0, 1) sends the
    same-size signal back whatever the output's scale.
    """
    gen = np.random.default_rng(seed)
    layers = [nn.Linear(width, width, bias=False, generator=gen) for _ in range(depth)]
    for layer in layers:
        nn.init.normal_(layer.weight, 0.0, gain / math.sqrt(width), gen)
    act = nablab.tanh if activation == "tanh" else nablab.relu
    h = nablab.randn(batch, width, generator=gen)
    rms = []
    for layer in layers:
        h = act(layer(h))
        rms.append(float(np.sqrt(np.mean(h.data.astype(np.float64) ** 2))))
    R = nablab.randn(batch, width, generator=gen)
    ((h * R).sum() / batch).backward()
    grads = [float(np.linalg.norm(layer.weight.grad.data)) for layer in layers]
    return rms, grads


def rnn_clipping(clip, lr, epochs, hidden, seed):
    """d2l's nn.RNN language model trained with SGD(lr), sequential batches, optional
    clipping of the global gradient norm to `clip`; per-epoch perplexity and, per
    iteration, the gradient norm before and after clipping. `seed` fixes the init and
    the batches (the same for every run of one seed)."""
    data_seed, model_seed = data_and_model_seeds(seed)
    loader, vocab = load_data_time_machine(32, 35, seed=data_seed)
    nablab.manual_seed(model_seed)
    model = RNNModel(nn.RNN(len(vocab), hidden), len(vocab))
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"perplexity": [], "norm": [], "clipped_norm": []}
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            state, total, count = None, 0.0, 0
            for X, Y in loader:
                state = model.begin_state(X.shape[0]) if state is None else detach_state(state)
                y = nablab.from_numpy(np.ascontiguousarray(np.asarray(Y).T).reshape(-1))
                logits, state = model(X, state)
                loss = loss_fn(logits, y)
                optimizer.zero_grad()
                loss.backward()
                norm = nn.utils.clip_grad_norm_(model.parameters(), clip or math.inf).item()
                after = math.sqrt(sum(float(np.sum(p.grad.data**2)) for p in model.parameters()))
                history["norm"].append(norm)
                history["clipped_norm"].append(after)
                optimizer.step()
                total += loss.item() * y.shape[0]
                count += y.shape[0]
            mean = total / count
            history["perplexity"].append(math.exp(mean) if mean < 700 else math.inf)
    return history


def blew_up(history):
    """A run blew up when its last perplexity is not finite or above 1000 (V = 28 is chance)."""
    last = history["perplexity"][-1]
    return not math.isfinite(last) or last > 1000


@register(
    "gradient-explosion",
    summary="Vanishing and exploding products: scalars, random matrices, deep MLPs, RNN clipping",
    source="seeds/004 (d2l 4.8 numerical stability; 8.5 gradient clipping)",
)
def run(config: LabConfig) -> LabResult:
    out, seed = config.out, config.seed
    n_seeds = 3 if config.quick else 10
    rnn_epochs = config.steps(full=100, quick=5)
    tables, figures, notes, metrics = [], [], [], {}

    # 1. Thirty scalar layers.
    scalars = [
        ["0.2³⁰ (weight 0.2, 30 layers)", 0.2**30, "≈ 1e−21"],
        ["5³⁰ (weight 5, 30 layers)", 5.0**30, "≈ 9e20"],
        ["0.25³⁰ (sigmoid's largest slope, 30 layers)", 0.25**30, None],
    ]
    tables.append(Table("Products of 30 scalars", ["product", "value", "seed"], scalars))
    metrics["scalars"] = {"0.2^30": 0.2**30, "5^30": 5.0**30, "0.25^30": 0.25**30}

    # 2. Products of random matrices.
    products = {s: matrix_product_norms(seed + s) for s in range(n_seeds)}
    finals = np.array([logs[-1] for logs in products.values()])
    slopes = np.array([(logs[-1] - logs[0]) / (len(logs) - 1) for logs in products.values()])
    theory = lyapunov_log10()
    tables.append(
        Table(
            f"‖A₁A₂…A₁₀₁‖_F for 4×4 N(0, 1) matrices (d2l's M then 100 products), {n_seeds} seeds",
            ["quantity", "ours (median, min–max)", "theory"],
            [
                [
                    "log10 ‖product‖_F",
                    f"{np.median(finals):.1f} ({finals.min():.1f}–{finals.max():.1f})",
                    None,
                ],
                [
                    "growth per factor, log10",
                    f"{np.median(slopes):.4f} ({slopes.min():.4f}–{slopes.max():.4f})",
                    round(theory, 4),
                ],
            ],
        )
    )
    metrics["matrix_product"] = {
        "log10_norm": finals.tolist(),
        "growth_log10": slopes.tolist(),
        "theory_growth_log10": theory,
    }
    figures.append(
        curve_panels(
            {
                "product of k random 4×4 matrices": {
                    **{f"seed {seed + s}": logs for s, logs in products.items()},
                    "theory slope": (np.arange(1, 102), theory * np.arange(1, 102)),
                }
            },
            out / "gradient_explosion_matrix_products.png",
            xlabel="k (factors)",
            ylabel="log10 ‖A₁…A_k‖_F",
        )
    )

    # 3. The sigmoid's gradient, from autograd.
    xs = np.array([0.0, 2.0, 4.0, 8.0])
    values, slopes_sigmoid = (
        np.asarray(a, dtype=float) for a in activation_curve(nablab.sigmoid, xs)
    )
    tables.append(
        Table(
            "Sigmoid and its derivative σ'(x) = σ(x)(1 − σ(x)) (autograd)",
            ["x", "σ(x)", "σ'(x)"],
            [[float(x), v, d] for x, v, d in zip(xs, values, slopes_sigmoid)],
        )
    )
    metrics["sigmoid_grad"] = dict(zip(["0", "2", "4", "8"], slopes_sigmoid.tolist()))
    figures.append(
        activation_plot(
            {"sigmoid": nablab.sigmoid},
            out / "gradient_explosion_sigmoid.png",
            xlim=(-8.0, 8.0),
            title="sigmoid: the gradient vanishes for |x| ≳ 4",
        )
    )

    # 4. A deep MLP under several init scales.
    depth, width = 30, 256
    batch = 64 if config.quick else 256
    gains = {
        "tanh": {"0.5": 0.5, "1": 1.0, "5/3 (tanh gain)": 5 / 3, "3": 3.0},
        "relu": {"1": 1.0, "√2 (He)": math.sqrt(2), "2": 2.0},
    }
    mlp, mlp_rows = {}, []
    for activation, by_name in gains.items():
        for name, gain in by_name.items():
            rms, grads = deep_mlp_norms(activation, gain, depth, width, batch, seed)
            mlp[activation, name] = (rms, grads)
            mlp_rows.append(
                [activation, name, rms[0], rms[-1], grads[0], grads[-1], grads[0] / grads[-1]]
            )
    tables.append(
        Table(
            f"{depth}-layer MLP, width {width}, W ~ N(0, g²/{width}), no bias, batch {batch}: "
            "activation RMS and weight-gradient norm at the first and last layer",
            ["activation", "g", "RMS h₁", f"RMS h_{depth}", "‖∂L/∂W₁‖", f"‖∂L/∂W_{depth}‖"]
            + ["first / last"],
            mlp_rows,
        )
    )
    metrics["deep_mlp"] = {
        f"{a} g={n}": {"rms": r, "grad_norm": g} for (a, n), (r, g) in mlp.items()
    }
    figures.append(
        curve_panels(
            {f"{a}: activation RMS": {f"g = {n}": mlp[a, n][0] for n in gains[a]} for a in gains}
            | {f"{a}: ‖∂L/∂W_l‖": {f"g = {n}": mlp[a, n][1] for n in gains[a]} for a in gains},
            out / "gradient_explosion_deep_mlp.png",
            logy=True,
            xlabel="layer l",
            ylabel="value",
            ncols=2,
            title=f"{depth}-layer MLP: forward signal and weight gradients by init scale g",
        )
    )

    # 5. Gradient clipping on an RNN language model (d2l's setting).
    rnn_seeds = [seed] if config.quick else [seed, seed + 1, seed + 2]
    jobs = [(name, s) for s in rnn_seeds for name in RNN_RUNS if s == seed or "0.1" not in name]
    if config.quick:
        jobs = [(name, s) for name, s in jobs if "0.1" not in name]
    histories = {}
    for name, s in track(jobs, total=len(jobs), description="RNN", config=config):
        clip, lr = RNN_RUNS[name]
        histories[name, s] = rnn_clipping(clip, lr, rnn_epochs, 256, s)
    rnn = {name: histories[name, s] for name, s in jobs if s == seed}
    blowups = {
        name: [blew_up(histories[name, s]) for s in rnn_seeds if (name, s) in histories]
        for name in rnn
    }
    rnn_rows = []
    for name, h in rnn.items():
        rnn_rows.append(
            [
                name,
                h["perplexity"][0],
                h["perplexity"][-1],
                float(np.median(h["norm"])),
                max(h["norm"]),
                max(h["clipped_norm"]),
                float(np.mean(np.asarray(h["norm"]) > 1.0)),
                f"{sum(blowups[name])} of {len(blowups[name])}",
            ]
        )
    tables.append(
        Table(
            f"nn.RNN(28, 256) language model, Time Machine (10,000 chars), batch 32 × 35 steps, "
            f"SGD, {rnn_epochs} epochs; seed {seed}, and blow-ups (perplexity > 1000) over seeds "
            f"{', '.join(map(str, rnn_seeds))}",
            ["run", "ppl epoch 1", "ppl last", "median ‖g‖", "max ‖g‖", "max ‖g‖ after clip"]
            + ["share ‖g‖ > θ", "blew up"],
            rnn_rows,
        )
    )
    metrics["rnn"] = {
        name: {
            "perplexity": h["perplexity"],
            "max_norm": max(h["norm"]),
            "max_clipped_norm": max(h["clipped_norm"]),
            "share_above_theta": float(np.mean(np.asarray(h["norm"]) > 1.0)),
            "blew_up": blowups[name],
        }
        for name, h in rnn.items()
    }
    metrics["rnn_theta"] = 1.0
    shown = dict(rnn)
    blown = [s for s in rnn_seeds if blew_up(histories["no clipping, lr 1", s])]
    if blown and seed not in blown:
        shown[f"no clipping, lr 1 (seed {blown[0]})"] = histories["no clipping, lr 1", blown[0]]
    figures.append(
        curve_panels(
            {
                "perplexity per epoch": {n: h["perplexity"] for n, h in shown.items()},
                "‖g‖ per iteration, before clipping": {n: h["norm"] for n, h in shown.items()}
                | {"θ = 1": [1.0] * len(next(iter(rnn.values()))["norm"])},
            },
            out / "gradient_explosion_rnn_clipping.png",
            logy=True,
            xlabel="epoch / iteration",
            ylabel="perplexity / ‖g‖",
            ncols=2,
            title=f"Gradient clipping on a character-level RNN (seed {seed})",
        )
    )

    answer = _answer(finals, slopes, theory, slopes_sigmoid, mlp, depth, rnn, blowups)
    notes += [
        "The seed gives only the scalar example (0.2³⁰ and 5³⁰); the matrix products, the "
        "sigmoid plot and clipping come from d2l (4.8 and 8.5), the deep MLP is ours.",
        "Matrix products are computed in float64; d2l's float32 would do too: the largest "
        f"product here, 10^{finals.max():.0f}, is below float32's 3.4e38.",
        "RNN: d2l's concise RNN (nn.RNN, hidden 256, PyTorch's init), sequential "
        "partitioning with the state carried and detached, lr 1, θ = 1, as in rnn-lm; the "
        "norm is taken over all parameters before clipping (clip_grad_norm_'s return).",
    ]
    if config.quick:
        notes.append(
            f"Quick variant: {n_seeds} seeds for the matrices, batch {batch} for the MLP, "
            f"{rnn_epochs} RNN epochs on one seed without the lr 0.1 run (full: 10 seeds, "
            "batch 256, 100 epochs on 3 seeds)."
        )
    return LabResult(
        question="How do long products of layers make signals and gradients vanish or "
        "explode, and what do init scale and gradient clipping do about it?",
        setting=(
            "Scalars 0.2³⁰, 5³⁰; products of 101 random 4×4 N(0, 1) matrices; σ and σ' by "
            f"autograd on [−8, 8]; a {depth}-layer width-{width} MLP (tanh or ReLU, no bias, "
            "W ~ N(0, g²/width)) on N(0, 1) inputs with a random-projection loss; nn.RNN(28, "
            "256) char-level LM on d2l's first 10,000 Time Machine characters, batch 32, 35 "
            f"steps, SGD lr 1, {rnn_epochs} epochs, with and without clipping to θ = 1."
        ),
        tables=tables,
        figures=figures,
        answer=answer,
        metrics=metrics,
        notes=notes,
    )


def _answer(finals, slopes, theory, sigmoid_slopes, mlp, depth, rnn, blowups):
    """The lab's findings in words, computed from its numbers."""
    text = (
        "0.2³⁰ = 1.1e-21 and 5³⁰ = 9.3e20: thirty layers turn a factor slightly off 1 into "
        f"vanishing or explosion. A product of 101 random 4×4 matrices reaches "
        f"‖·‖_F ≈ 10^{np.median(finals):.0f}, growing by 10^{np.median(slopes):.3f} per factor "
        f"(theory 10^{theory:.3f}). σ' is at most {sigmoid_slopes[0]:.2f} (at 0) and "
        f"{sigmoid_slopes[-1]:.1e} at x = 8, so each sigmoid layer shrinks the gradient by "
        f"at least 4×. In the {depth}-layer MLP: "
    )
    parts = []
    for (activation, gain), (rms, grads) in mlp.items():
        parts.append(
            f"{activation} g = {gain}: activation RMS {rms[0]:.2g} → {rms[-1]:.2g}, "
            f"‖∂L/∂W‖ {grads[-1]:.2g} (last layer) → {grads[0]:.2g} (first)"
        )
    text += "; ".join(parts) + ". "
    relu_ratios = [g[0] / g[-1] for (a, _), (_, g) in mlp.items() if a == "relu"]
    text += (
        "In the bias-free ReLU net every layer's weight gradient carries the same factor "
        f"g^(L−1) (first/last ratio {min(relu_ratios):.2f}–{max(relu_ratios):.2f} for every g): "
        "the init scale moves all gradients and the activations together, up or down by "
        "orders of magnitude, while tanh with a large g saturates and its gradients grow "
        "toward the input. "
    )
    clipped, free = rnn["clip θ = 1, lr 1"], rnn["no clipping, lr 1"]
    n = len(blowups["no clipping, lr 1"])
    text += (
        f"RNN: with clipping the perplexity falls from {clipped['perplexity'][0]:.1f} to "
        f"{clipped['perplexity'][-1]:.1f} and no applied step exceeds θ (max ‖g‖ after "
        f"clipping {max(clipped['clipped_norm']):.3f}, though ‖g‖ > θ on "
        f"{np.mean(np.asarray(clipped['norm']) > 1):.0%} of the iterations); without clipping "
        f"the gradient norm reaches {max(free['norm']):.3g} and the perplexity ends at "
        f"{free['perplexity'][-1]:.3g}. Training blew up on {sum(blowups['no clipping, lr 1'])} "
        f"of {n} seeds without clipping and on {sum(blowups['clip θ = 1, lr 1'])} of {n} with it."
    )
    if "no clipping, lr 0.1" in rnn:
        slow = rnn["no clipping, lr 0.1"]
        text += (
            f" A 10× smaller lr without clipping ends at perplexity {slow['perplexity'][-1]:.3g} "
            f"(clipped lr 1: {clipped['perplexity'][-1]:.3g})."
        )
    return text
