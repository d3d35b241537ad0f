"""rnn-lm: character-level language models on The Time Machine (seeds/004, d2l 8.5–9.4).

d2l's classic setting: the first 10,000 characters (vocabulary 28), windows of 35 steps,
batch 32, SGD, gradients clipped to global norm θ = 1. An RNN written from scratch
(sequential partitioning and random sampling), nn.RNN / nn.GRU / nn.LSTM, a 2-layer
LSTM and a bidirectional 2-layer LSTM, each beside d2l's published final perplexity,
with its greedy continuation of "time traveller".

Perplexity = exp(mean cross-entropy per token) over an epoch; 28 is the uniform guess,
1 a perfect predictor. The lab also scores every trained model a second way: on the
book's opening characters fed one at a time (as generation feeds them), where a
bidirectional model no longer sees the character it has to predict.
"""

import math
from dataclasses import dataclass

import numpy as np

import nablab
from nablab import lm, nn, optim
from nablab.data import load_data_time_machine, time_machine

from ..viz import curve_panels, save
from .base import Table
from .declaration import Claim, Outcome, Published, lab
from .parallel import on_workers, worker_context
from .params import Param
from .runner import Context
from .training import train

BOOK_EPOCHS = 500
D2L = "d2l 0.17, final perplexity after 500 epochs"


@dataclass(frozen=True)
class Model:
    """A model of the lab: label, nn layer (None: the RNN from scratch), layers, direction,
    batching, d2l's final perplexity after its 500 epochs, and the seconds its 500 epochs
    took on one core here (5 timed epochs × 100, 2026-12-02), which order the workers' queue."""

    label: str
    layer: str | None
    num_layers: int
    bidirectional: bool
    random_iter: bool
    d2l: str
    seconds: float


MODELS = {
    "rnn-scratch": Model("RNN from scratch, sequential", None, 1, False, False, "1.0", 259),
    "rnn-scratch-random": Model("RNN from scratch, random", None, 1, False, True, "1.3–1.5", 257),
    "rnn": Model("nn.RNN", "RNN", 1, False, False, "1.3", 65),
    "gru": Model("nn.GRU", "GRU", 1, False, False, "1.0–1.1", 264),
    "lstm": Model("nn.LSTM", "LSTM", 1, False, False, "1.0–1.3", 305),
    "lstm-deep": Model("nn.LSTM, 2 layers", "LSTM", 2, False, False, "1.0", 721),
    "lstm-bidirectional": Model("nn.LSTM, 2 layers, bidirectional", "LSTM", 2, True, False, "1.1",
                                1531),
}  # fmt: skip
BIDIRECTIONAL = "lstm-bidirectional"
POSITIVE = {"min": 0, "min_open": True}


def settings(name: str, p) -> dict:
    """The hidden size, lr and epochs model ``name`` trains with under the parameters ``p``."""
    spec = MODELS[name]
    return {
        "hidden": p.hidden_scratch if spec.layer is None else p.hidden,
        "lr": p.lr_deep if name == "lstm-deep" else p.lr,
        "epochs": p.epochs,
    }


def train_model(name: str, p, ctx):
    """Train one model; its per-epoch perplexity and tokens/s, the model and its loader.

    The batches come from the data stream and the init from the model stream of
    ``Context.streams(seed)``: every model of one seed sees the same batches."""
    spec, s = MODELS[name], settings(name, p)
    data_seed, model_seed = Context.streams(ctx.seed)
    loader, vocab = load_data_time_machine(
        p.batch_size, p.num_steps, spec.random_iter, p.max_tokens, seed=data_seed
    )
    nablab.manual_seed(model_seed)
    if spec.layer is None:
        model = lm.RNNModelScratch("rnn", len(vocab), s["hidden"])
    else:
        layer = getattr(nn, spec.layer)(len(vocab), s["hidden"], spec.num_layers,
                                        bidirectional=spec.bidirectional)  # fmt: skip
        model = lm.RNNModel(layer, len(vocab))
    loss, optimizer = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=s["lr"])
    speeds = []

    def epoch(i):
        ppl, speed = lm.train_epoch(model, loader, loss, optimizer, spec.random_iter, p.clip)
        speeds.append(speed)
        return ppl

    history = train(epoch, s["epochs"], ctx, spec.label)
    return history.array().tolist(), speeds, model, loader, vocab


def model_result(name: str, p, ctx) -> dict:
    """Train model ``name`` and score it: its row of the lab's metrics (settings, per-epoch
    perplexity, tokens/s, greedy generation, window and causal perplexity)."""
    spec = MODELS[name]
    perplexity, speeds, model, loader, vocab = train_model(name, p, ctx)
    text = "".join(vocab.to_tokens(loader.corpus))
    generation = lm.predict(p.prefix, p.num_chars, model, vocab)
    window, causal = window_and_causal_perplexity(model, loader.corpus[: p.causal_chars + 1])
    return {
        **settings(name, p),
        "partitioning": "random" if spec.random_iter else "sequential",
        "perplexity": perplexity,
        "first_perplexity": perplexity[0],
        "final_perplexity": perplexity[-1],
        "tokens_per_s": float(np.median(speeds)),
        "generation": generation,
        "book_match": book_match(generation, p.prefix, text),
        "window_perplexity": window,
        "causal_perplexity": causal,
    }


def _on_workers(p, ctx) -> dict:
    """{name: model_result} with the models trained at once on ``p.workers`` processes, the
    costliest first. Every model seeds itself from ``ctx.seed`` (its data and model
    streams), so each row is the one a run with one worker gives, to the last bit."""
    order = sorted(p.models, key=lambda name: -MODELS[name].seconds)
    jobs = [(name, dict(p), ctx.seed, ctx.quick) for name in order]
    done = on_workers(_model_in_worker, jobs, p.workers, ctx, "rnn-lm models")
    return {name: done[name] for name in p.models}


def _model_in_worker(name: str, values: dict, seed: int, quick: bool) -> dict:
    return model_result(name, *worker_context(values, seed, quick))


def window_and_causal_perplexity(model, ids):
    """Perplexity of `ids[1:]` given `ids[:-1]`, two ways, no gradient:

    window — the whole sequence in one call, as in training (a bidirectional layer's
    backward direction has then read x_{t+1} = y_t before predicting it);
    causal — one character per call with the state carried, as generation runs: the
    model sees x_1..x_t only. The two agree for a left-to-right model.
    """
    model.eval()
    loss = nn.CrossEntropyLoss()
    y = nablab.from_numpy(ids[1:])
    with nablab.no_grad():
        logits, _ = model(ids[None, :-1], model.begin_state(1))
        window = math.exp(loss(logits, y).item())
        state, steps = model.begin_state(1), []
        for t in range(len(ids) - 1):
            step, state = model(ids[None, t : t + 1], state)
            steps.append(step)
        causal = math.exp(loss(nablab.cat(steps, dim=0), y).item())
    model.train()
    return window, causal


def book_match(generation, prefix, text):
    """How many generated characters after the prefix continue a passage of the training
    text: the largest n with generation[:len(prefix) + n] a substring of `text`."""
    n = 0
    while n < len(generation) - len(prefix) and generation[: len(prefix) + n + 1] in text:
        n += 1
    return n


def setting(m, p) -> str:
    runs = {}
    for name in p.models:
        s = settings(name, p)
        runs.setdefault((s["hidden"], s["lr"], s["epochs"]), []).append(name)
    models = "; ".join(
        f"hidden {h}, lr {lr:g}, {e:,} epochs: {', '.join(n)}" for (h, lr, e), n in runs.items()
    )
    return (
        f"d2l's Time Machine (char level, vocabulary 28), first {p.max_tokens:,} characters, "
        f"windows of {p.num_steps} steps, batch {p.batch_size}, SGD with the global gradient "
        f"norm clipped to θ = {p.clip:g}, one-hot inputs and a linear read-out. Models "
        f"({models}): an RNN from scratch (nablab tensors, step by step) with sequential "
        "(rnn-scratch) and random (rnn-scratch-random) batches, nn.RNN, nn.GRU, nn.LSTM, a "
        "2-layer LSTM (lstm-deep) and a bidirectional 2-layer LSTM (lstm-bidirectional). "
        f"Greedy generation of {p.num_chars} characters after {p.prefix!r}; window vs "
        f"causal perplexity on the first {p.causal_chars:,} characters."
    )


def answer(m, p) -> str:
    r = m["models"]
    finals = ", ".join(f"{n} {x['final_perplexity']:.2f}" for n, x in r.items())
    fastest = max(r, key=lambda n: r[n]["tokens_per_s"])
    slowest = min(r, key=lambda n: r[n]["tokens_per_s"])
    d2l = {n: float(MODELS[n].d2l.split("–")[-1]) for n in r}
    near = [n for n, x in r.items() if x["final_perplexity"] <= 1.05 * d2l[n]]
    text = (
        f"Final training perplexities (uniform guess: {m['vocab_size']}): {finals}; "
        f"{len(near)} of {len(r)} models at or within 5 % of d2l's figure after "
        f"{BOOK_EPOCHS} epochs. Throughput ranges from {r[fastest]['tokens_per_s']:,.0f} "
        f"tokens/s ({fastest}) to {r[slowest]['tokens_per_s']:,.0f} ({slowest}). "
    )
    forward = {n: x for n, x in r.items() if n != BIDIRECTIONAL}
    if forward:
        best = max(forward, key=lambda n: forward[n]["book_match"])
        text += (
            f"The longest continuation that repeats the book is {best}'s: "
            f"{forward[best]['book_match']} of {p.num_chars} characters "
            f"({forward[best]['generation']!r}). "
        )
    if BIDIRECTIONAL in r:
        bi = r[BIDIRECTIONAL]
        text += (
            f"The bidirectional LSTM reaches training perplexity {bi['final_perplexity']:.2f}; "
            f"on the book's opening it scores {bi['window_perplexity']:.2f} read as one window "
            f"and {bi['causal_perplexity']:.1f} read one character at a time: its backward "
            "direction reads x_(t+1), the very character it is trained to predict, and when "
            f"generating that character does not exist yet ({bi['generation']!r})."
        )
    return text


def _perplexity_falls(m, p):
    r = m["models"]
    first = max(x["first_perplexity"] for x in r.values())
    ratio = max(x["final_perplexity"] / x["first_perplexity"] for x in r.values())
    holds = first < m["vocab_size"] + 5 and ratio < 0.75
    return holds, {"largest epoch-1 perplexity": first, "largest final / epoch 1": ratio}


def _left_to_right_agree(m, p):
    r = m["models"]
    gaps = [abs(r[n]["causal_perplexity"] / r[n]["window_perplexity"] - 1) for n in r
            if n != BIDIRECTIONAL]  # fmt: skip
    return (max(gaps) < 1e-3, {"largest |causal / window − 1|": max(gaps)}) if gaps else None


def _bidirectional_needs_the_future(m, p):
    r = m["models"]
    if BIDIRECTIONAL not in r:
        return None
    bi = r[BIDIRECTIONAL]
    others = [x["causal_perplexity"] for n, x in r.items() if n != BIDIRECTIONAL]
    numbers = {"causal": bi["causal_perplexity"], "window": bi["window_perplexity"],
               "worst left-to-right causal": max(others, default=0)}  # fmt: skip
    return bi["causal_perplexity"] > 5 * max([bi["window_perplexity"], *others]), numbers


@lab(
    "rnn-lm",
    summary="Character-level RNN/GRU/LSTM language models on The Time Machine (d2l's setting)",
    source="seeds/004 (d2l 8.5–8.6 RNN, 9.1 GRU, 9.2 LSTM, 9.3 deep, 9.4 bidirectional)",
    question=(
        "How well do RNN, GRU and LSTM language models fit d2l's 10,000 characters of The Time "
        "Machine, how fast does nablab train them, and why can a bidirectional LSTM not "
        "generate text?"
    ),
    setting=setting,
    params=[
        Param("models", list(MODELS), "models to train", choices=tuple(MODELS)),
        Param("hidden", 256, "hidden size of the nn layers (d2l: 256)", quick=32, min=1),
        Param("hidden_scratch", 512, "hidden size of the RNN from scratch", quick=32, min=1),
        Param("lr", 1.0, "SGD learning rate (all but lstm-deep)", **POSITIVE),
        Param("lr_deep", 2.0, "SGD learning rate of lstm-deep (d2l: 2)", **POSITIVE),
        Param("epochs", BOOK_EPOCHS, "epochs of every model (d2l: 500)", quick=16, min=1),
        Param("max_tokens", 10_000, "characters of the book to train on", quick=3_000, min=100),
        Param("num_steps", 35, "time steps per window", quick=10, min=1),
        Param("batch_size", 32, "windows per batch", quick=8, min=1),
        Param("clip", 1.0, "clipping threshold θ of the global gradient norm", **POSITIVE),
        Param("causal_chars", 1000, "characters scored window vs causal", quick=200, min=2),
        Param("prefix", "time traveller", "prefix of the greedy generation"),
        Param("num_chars", 50, "characters generated after the prefix", min=1),
        Param(
            "workers",
            1,
            "models trained at once on spawned processes (results unchanged)",
            min=1,
            max=64,
        ),
    ],  # fmt: skip
    length="epochs",
    claims=[
        Claim(
            "Every model starts near the uniform guess (epoch-1 perplexity < {vocab_size} + 5) "
            "and ends below 0.75 × its epoch-1 perplexity",
            _perplexity_falls,
        ),
        Claim(
            "A left-to-right model scores the same text the same, read as one window or one "
            "character at a time (within 0.1 %)",
            _left_to_right_agree,
        ),
        Claim(
            "The bidirectional LSTM needs the future: read one character at a time, as "
            "generation must, its perplexity is > 5 × its window perplexity and > 5 × every "
            "left-to-right model's",
            _bidirectional_needs_the_future,
        ),
    ],
    published=[
        Published(spec.d2l, D2L, "d2l", row=name, table="perplexity")
        for name, spec in MODELS.items()
    ],
    answer=answer,
    needs=time_machine,
)
def experiment(p, ctx) -> Outcome:
    if p.workers == 1:
        results = {name: model_result(name, p, ctx)
                   for name in ctx.track(p.models, len(p.models), "models")}  # fmt: skip
    else:
        results = _on_workers(p, ctx)
    vocab = load_data_time_machine(p.batch_size, p.num_steps, False, p.max_tokens)[1]
    label = {n: MODELS[n].label for n in results}
    figure = save(
        curve_panels(
            {
                "one layer": {
                    label[n]: r["perplexity"]
                    for n, r in results.items()
                    if MODELS[n].num_layers == 1
                },
                "2 layers, bidirectional; nn.LSTM": {
                    label[n]: r["perplexity"]
                    for n, r in results.items()
                    if MODELS[n].num_layers == 2 or n == "lstm"
                },
            },
            logy=True,
            ylabel="training perplexity",
            ncols=2,
            title=f"Character-level LMs, first {p.max_tokens:,} characters of The Time Machine",
        ),
        ctx.out / "rnn_lm_perplexity.png",
    )
    tables = [
        Table(
            f"Training perplexity (first {p.max_tokens:,} characters, batch {p.batch_size} × "
            f"{p.num_steps} steps, θ = {p.clip:g}) beside d2l 0.17's final figure after "
            f"{BOOK_EPOCHS} epochs",
            ["model", "layer", "hidden", "batches", "lr", "epochs", "ppl epoch 1", "ppl final",
             "tokens/s"],
            [[n, label[n], r["hidden"], r["partitioning"], r["lr"], r["epochs"],
              r["first_perplexity"], r["final_perplexity"], round(r["tokens_per_s"])]
             for n, r in results.items()],
            name="perplexity",
        ),
        Table(
            f"Greedy continuation of {p.prefix!r} ({p.num_chars} characters), how many of them "
            f"continue a passage of the training text, and perplexity on its first "
            f"{p.causal_chars:,} characters read as one window vs one character at a time",
            ["model", "generation", "chars as in the book", "ppl window", "ppl causal"],
            [[n, r["generation"], r["book_match"], r["window_perplexity"],
              r["causal_perplexity"]] for n, r in results.items()],
        ),
    ]  # fmt: skip
    return Outcome(
        tables=tables,
        figures=[figure],
        metrics={"models": results, "prefix": p.prefix, "vocab_size": len(vocab)},
        notes=[
            f"The full run trains every model d2l's {BOOK_EPOCHS} epochs (this run: "
            f"{p.epochs:,}); the d2l column is d2l's figure after {BOOK_EPOCHS} epochs, in "
            "d2l's own setting.",
            "Perplexity near 1 on the training characters is memorisation of those "
            f"{p.max_tokens:,} characters, not a model of English: a model that gets there "
            "continues the prefix with the book's own words (column 'chars as in the book').",
            f"The RNN from scratch has {p.hidden_scratch} hidden units (d2l: 512), the nn "
            f"layers {p.hidden} (d2l: 256).",
            "tokens/s: an epoch's target tokens over its wall time (forward, backward, clipping, "
            "SGD step), median over the epochs; the machine's other load moves it.",
            "LABS.md asks for a 2-layer deep GRU; the lab trains d2l's 2-layer LSTM (lr 2), the "
            "model whose published perplexity (1.0) it can be set beside. The from-scratch GRU "
            "and LSTM (nablab.lm.gru/lstm) are not trained here: they compute what nn.GRU/LSTM "
            "compute (tests/test_lm.py) at about 2× the time per step (benchmarks/bench_rnn.py).",
            "Perplexity is the training loss's, averaged over the epoch while the weights move "
            "(d2l's figure). The window and causal perplexities are measured after training on "
            "the text's first characters, which every model trained on: they show how a model "
            "is used, not how it generalises.",
            "Sequential batches carry the state across batches (detached) and reset it each "
            "epoch; random sampling resets it every batch. Weights: PyTorch's init for the nn "
            "layers, N(0, 0.01²) for the scratch RNN (d2l).",
        ],
    )
